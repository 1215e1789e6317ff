"""The console of a standby controller (PostgreSQL, issue 13): only ``/healthz`` (up) and ``/readyz`` (red, saying
why). A standby takes no calls and has no room to show; the full console replaces this one once it leads."""

from __future__ import annotations

from aiohttp import web

from padang112.web import hardening
from padang112.web.app import healthz

STANDBY_REASON = "siaga: pengendali lain memimpin / standby: another controller leads"


async def readyz(request: web.Request) -> web.Response:
    return web.json_response({"ready": False, "role": "standby", "reason": STANDBY_REASON}, status=503)


def create_standby_app() -> web.Application:
    app = web.Application()
    hardening.setup(app)  # the same security headers as the full console
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app
