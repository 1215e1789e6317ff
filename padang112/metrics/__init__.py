"""Prometheus metrics of the room (``GET /metrics``), all named ``padang112_*`` with their unit in the name.

Three sources, none of which changes what the room decides:

- :mod:`.room`: the domain events the controller publishes (a subscriber like the console's live hub): calls
  offered/answered/abandoned, time to answer, callers waiting, seats by state, ring-no-answer pauses, fallback
  calls, dispositions.
- :mod:`.stores`: the database and the disk, read when Prometheus scrapes: call-backs, agency tasks and their
  acknowledge times, cameras, free space on the recordings volume.
- :mod:`.links`: the process itself: ARI/AMI connected and their last-event age (kept fresh by a heartbeat
  round trip), event-loop lag, the event writer's batches and queue, failed effects (recordings).

:mod:`.registry` holds them in one registry (built by the runtime); :mod:`padang112.web.metrics` serves them
(text format of ``prometheus-client``) to the configured scrape addresses, or to a signed-in supervisor or admin.
"""
