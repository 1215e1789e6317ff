"""The console pages: a thin shell around /api/v1 and /ws (the browser renders live data with textContent)."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from padang112.web import auth, history
from padang112.web.i18n import words

HOME = {
    "call_taker": "/kursi",
    "supervisor": "/supervisor",
    "admin": "/supervisor",
    "agency": "/opd",
    "wall": "/dinding",
}


@auth.require()
async def home(request: web.Request) -> web.Response:
    user = auth.current_user(request)
    assert user is not None
    raise web.HTTPSeeOther(HOME.get(user.role, "/keluar"))


def _page(template: str, extra=None):
    async def handler(request: web.Request) -> web.Response:
        lang = auth.language(request)
        context = {"t": words(lang), "other_lang": "en" if lang == "id" else "id"}
        if extra is not None:
            context.update(await extra(request))
        response = aiohttp_jinja2.render_template(template, request, context)
        if request.query.get("lang") == lang:  # a chosen language sticks for the next pages
            secure = request.app[auth.AUTH].policy.secure_cookie
            response.set_cookie(auth.LANG_COOKIE, lang, samesite="Lax", path="/", max_age=365 * 86400, secure=secure)
        return response

    return handler


def setup(app: web.Application) -> None:
    app.router.add_get("/", home)
    app.router.add_get("/kursi", auth.require("call_taker")(_page("call_taker.html")))
    app.router.add_get(
        "/supervisor", auth.require("supervisor", "admin")(_page("supervisor.html", history.service_level_context))
    )
    app.router.add_get("/opd", auth.require("agency", "admin")(_page("agency.html")))
    # an incident reported without a call (walk-in, radio, social media): the call panel's form, with a source
    app.router.add_get("/kejadian/baru", auth.require("call_taker", "supervisor", "admin")(_page("incident_new.html")))
