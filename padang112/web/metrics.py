"""``GET /metrics``: the Prometheus text format, for scrapers on the configured addresses or a signed-in supervisor.

The sign-in layer lets ``/metrics`` through (a Prometheus server has no session); this handler decides instead:
a request from ``metrics.scrape_addresses`` (loopback by default) is served, anyone else needs a console session
of a supervisor or admin, and is otherwise refused with 403. Before each answer the figures read from the
database are refreshed (bounded by a timeout: a slow database must not hang the scrape, stale figures are
reported with ``padang112_scrape_errors_total``).
"""

from __future__ import annotations

import logging

from aiohttp import web

from padang112.metrics.registry import from_scraper
from padang112.web import auth
from padang112.web.keys import METRICS

log = logging.getLogger(__name__)

PATH = "/metrics"
VIEWER_ROLES = frozenset({"supervisor", "admin"})


async def metrics(request: web.Request) -> web.StreamResponse:
    """Prometheus metrics (text format): scrape addresses, or a supervisor's or admin's session."""
    registry = request.app[METRICS]
    if not from_scraper(request.remote, registry.networks):
        active = await auth.resolve_session(request)
        if active is None or active.user.role not in VIEWER_ROLES:
            log.warning("metrics refused to %s", auth.client_address(request))
            return web.Response(status=403, text="403: metrics are served to the configured scrape addresses only\n")
    return await registry.respond(request)


def setup(app: web.Application) -> None:
    """The route; :class:`~padang112.metrics.registry.Metrics` is the runtime's (``app[METRICS]``)."""
    app.router.add_get(PATH, metrics)
