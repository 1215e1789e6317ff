"""The aiohttp application: health endpoints, sign-in, the console pages, /api/v1 and the live /ws.

It only mounts routes: the controller, storage and the background loops are the runtime's
(:mod:`padang112.runtime`), started before the console by :mod:`padang112.service`; handlers read them through
the typed keys of :mod:`padang112.web.keys`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import aiohttp_jinja2
import jinja2
from aiohttp import web

from padang112.cluster.leadership import Leadership
from padang112.config import PROJECT_ROOT, Settings
from padang112.runtime import Runtime
from padang112.web import (
    account_code,
    api,
    auth,
    callbacks,
    camera_pages,
    camera_proxy,
    cameras,
    dashboard,
    handoff,
    hardening,
    history,
    incidents,
    info_requests,
    keep,
    keys,
    live,
    live_guard,
    login,
    metrics,
    openapi,
    pages,
    pranks,
    recordings,
    reports,
    staffing,
    surge,
    tls,
)
from padang112.web.keys import CONTROLLER, DESK, REPOSITORY, RUNTIME, SETTINGS
from padang112.web.live import HUB, Hub

log = logging.getLogger(__name__)

READY_DB_TIMEOUT_S = 1.0  # /readyz: a database that does not answer within this is not ready


async def _live(app: web.Application) -> AsyncIterator[None]:
    """The live hub: the controller's domain events and the runtime's notices to the signed-in browsers."""
    hub = Hub(app[DESK])
    app[HUB] = hub
    stop_listening = app[RUNTIME].listen(hub.notice)
    try:
        yield
    finally:
        stop_listening()
        await hub.close()


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    controller = request.app[CONTROLLER]
    # ARI counts once its events flow and the room has been rebuilt from the switch (the controller takes calls).
    # With several nodes one node fully linked is enough: calls on a live node are served while another is dead;
    # "nodes" says which one is down.
    nodes = controller.node_status()
    up = [name for name, node in nodes.items() if node["ari"] and node["ami"]]
    checks = {
        "ari": any(node["ari"] for node in nodes.values()),
        "ami": any(node["ami"] for node in nodes.values()),
        "database": False,
    }
    if len(nodes) > 1:
        checks["node"] = bool(up)  # some node has both links
    try:  # the store answers now (a restarting PostgreSQL refuses at once; a silent one is given a second)
        await asyncio.wait_for(request.app[REPOSITORY].ping(), READY_DB_TIMEOUT_S)
        checks["database"] = True
    except Exception as exc:  # reported, not raised: this is a probe
        log.warning("readiness: database check failed: %r", exc)
    # events the database has not taken yet (it was away): they are stored, in order, once it answers
    body: dict[str, object] = {"checks": checks, "events_waiting": controller.writer.backlog}
    if len(nodes) > 1:
        body.update(nodes=nodes, nodes_down=sorted(set(nodes) - set(up)))
    fence = request.app[RUNTIME].fence
    if isinstance(fence, Leadership):  # PostgreSQL: two controllers, this one leads (a standby has its own page)
        checks["leadership"] = fence.valid()
        body.update(role="leader", epoch=fence.epoch)
    ready = all(checks.values())
    return web.json_response({"ready": ready, **body}, status=200 if ready else 503)


def create_app(settings: Settings, runtime: Runtime | None = None) -> web.Application:
    """The console on a started ``runtime``; without one, its routes only (what the OpenAPI document is built from)."""
    app = web.Application()
    app[SETTINGS] = settings
    hardening.setup(app)  # security headers on every response
    live_guard.setup(app, settings.web.live_recheck_s)
    if runtime is not None:
        keys.attach(app, runtime)
    tls.setup(app)  # HSTS over HTTPS
    login.setup(app, settings)  # before jinja2: its context processor must run after sign-in is resolved
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(str(PROJECT_ROOT / "web" / "templates")),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        context_processors=[auth.context_processor],
    )
    if runtime is not None:
        app.cleanup_ctx.append(_live)
        surge.setup(app)  # the supervisor's surge figures, fed by the controller's events
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    metrics.setup(app)  # GET /metrics (scrape addresses, or a supervisor's session)
    app.router.add_get("/ws", live.websocket)
    api.setup(app)
    pages.setup(app)
    history.setup(app)
    account_code.setup(app)  # /akun/kode: an admin's or supervisor's own second factor
    recordings.setup(app)
    incidents.setup(app)
    info_requests.setup(app)
    pranks.setup(app)
    callbacks.setup(app)  # /api/v1/callbacks
    handoff.setup(app)  # /api/v1/calls/{id}/handoff|leave: after the live hub (it sends the agency the call)
    dashboard.setup(app)  # /dasbor, /api/v1/dashboard
    reports.setup(app)  # /laporan, /laporan.csv
    staffing.setup(app)  # /api/v1/staffing-advice
    cameras.setup(app)  # /api/v1/cameras
    camera_proxy.setup(app)  # /kamera/<id>/...
    camera_pages.setup(app)  # /dinding, /admin/kamera
    keep.setup(app)  # /api/v1/keep-marks
    app.router.add_static("/static/", PROJECT_ROOT / "web" / "static", append_version=False)
    openapi.setup(app)  # GET /api/v1/openapi.json, built from the router on each request
    return app
