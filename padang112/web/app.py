"""The aiohttp application: health endpoints, sign-in, the console pages, /api/v1 and the live /ws.

Background work (event writer, controller) is started and stopped through ``cleanup_ctx`` so set-up and
tear-down mirror each other.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import aiohttp_jinja2
import jinja2
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112.config import PROJECT_ROOT, Settings
from padang112.controller import Controller
from padang112.storage.db import create_engine
from padang112.storage.migrate import upgrade_async
from padang112.storage.repository import EventWriter, Repository
from padang112.web import (
    api,
    auth,
    callbacks,
    camera_pages,
    cameras,
    dashboard,
    handoff,
    history,
    incidents,
    info_requests,
    live,
    openapi,
    pages,
    pranks,
    reports,
)
from padang112.web.live import HUB, Hub

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", Settings)
CONTROLLER = web.AppKey("controller", Controller)
ENGINE = web.AppKey("engine", AsyncEngine)
REPOSITORY = web.AppKey("repository", Repository)


async def _stack(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    await upgrade_async(settings.db_url)
    engine = create_engine(settings.db_url)
    app[ENGINE] = engine
    writer = EventWriter(engine)
    await writer.start()
    repo = Repository(engine)
    controller = Controller(settings, writer, repo)
    await controller.start()
    app[CONTROLLER] = controller
    app[REPOSITORY] = repo
    app[HUB] = Hub(controller, repo)
    try:
        yield
    finally:
        await app[HUB].close()
        await controller.stop()
        await writer.stop()
        await engine.dispose()


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    controller = request.app[CONTROLLER]
    checks = {"ari": controller.ari_connected, "ami": controller.ami.connected, "database": False}
    try:
        await request.app[REPOSITORY].ping()
        checks["database"] = True
    except Exception as exc:  # reported, not raised: this is a probe
        log.warning("readiness: database check failed: %s", exc)
    ready = all(checks.values())
    return web.json_response({"ready": ready, "checks": checks}, status=200 if ready else 503)


def create_app(settings: Settings) -> web.Application:
    app = web.Application()
    app[SETTINGS] = settings
    auth.setup(app, settings)  # before jinja2: its context processor must run after sign-in is resolved
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(str(PROJECT_ROOT / "web" / "templates")),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        context_processors=[auth.context_processor],
    )
    app.cleanup_ctx.append(_stack)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/ws", live.websocket)
    api.setup(app)
    pages.setup(app)
    history.setup(app)
    incidents.setup(app)  # after _stack in cleanup_ctx: it needs the engine and the live hub
    info_requests.setup(app)  # after incidents: it needs the incident store
    pranks.setup(app)
    callbacks.setup(app)  # /api/v1/callbacks: after _stack (controller, engine, live hub)
    handoff.setup(app)  # /api/v1/calls/{id}/handoff|leave: after incidents (the agency gets the record)
    dashboard.setup(app)  # /dasbor, /api/v1/dashboard: after incidents (the incident store)
    reports.setup(app)  # /laporan, /laporan.csv
    cameras.setup(app)  # /api/v1/cameras, /kamera/<id>/...: after incidents (agency access)
    camera_pages.setup(app)  # /dinding, /admin/kamera
    app.router.add_static("/static/", PROJECT_ROOT / "web" / "static", append_version=False)
    openapi.setup(app)  # GET /api/v1/openapi.json, built from the router on each request
    return app
