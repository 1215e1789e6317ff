"""The SIP edge: Kamailio in front of the Asterisk nodes (issue 13, ``[edge]`` in the settings).

``topology`` is what both sides must agree on (the edge endpoint, the carrier header, which phones register at
the edge, the nodes); ``render`` writes Kamailio's configuration; ``process`` runs Kamailio in the foreground.
"""
