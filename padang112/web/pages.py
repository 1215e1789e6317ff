"""The console pages: a thin shell around /api/v1 and /ws (the browser renders live data with textContent)."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from padang112.web import auth, history
from padang112.web.i18n import words

HOME = {"call_taker": "/kursi", "supervisor": "/supervisor", "admin": "/supervisor", "agency": "/opd"}


@auth.require()
async def home(request: web.Request) -> web.Response:
    user = auth.current_user(request)
    assert user is not None
    raise web.HTTPSeeOther(HOME.get(user.role, "/keluar"))


def _page(template: str, extra=None):
    async def handler(request: web.Request) -> web.Response:
        context = {"t": words(auth.language(request))}
        if extra is not None:
            context.update(await extra(request))
        return aiohttp_jinja2.render_template(template, request, context)
    return handler


def setup(app: web.Application) -> None:
    app.router.add_get("/", home)
    app.router.add_get("/kursi", auth.require("call_taker")(_page("call_taker.html")))
    app.router.add_get("/supervisor", auth.require("supervisor", "admin")(
        _page("supervisor.html", history.service_level_context)))
    app.router.add_get("/opd", auth.require("agency", "admin")(_page("agency.html")))
