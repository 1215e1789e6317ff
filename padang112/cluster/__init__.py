"""No single machine (issue 13): two controllers on one PostgreSQL database, one leads and acts, the other waits
(``leadership``, ``lead``, ``fence``); and the whole redundant room on one machine's loopback for the demo and the
tests (``local``, ``command``, ``postgres``: ``padang112 cluster up|down|status``)."""
