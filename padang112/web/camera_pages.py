"""The video wall (``/dinding``, supervisors and admins) and the camera registry page (``/admin/kamera``, admins).

Both are thin shells: the wall reads ``/api/v1/cameras`` and ``/api/v1/wall/layout`` and plays each tile through
``/kamera/<id>/...`` (``web/static/wall.js``, ``camera_tile.js``); the server renders only the service-level
strip (the supervisor's ``_service_level.html``), which the page refreshes twice a minute.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from padang112.cameras.model import KINDS, STREAM_TYPES
from padang112.incidents import geography
from padang112.web import auth, history
from padang112.web.audience import WALL_ROLES
from padang112.web.keys import SETTINGS
from padang112.web.pages import _page


async def _wall_context(request: web.Request) -> dict[str, Any]:
    settings = request.app[SETTINGS]
    return {
        **await history.service_level_context(request),
        "grids": (1, 4, 9, 16),
        "reload_s": int(settings.cameras.wall_reload_h * 3600),
    }


async def _admin_context(request: web.Request) -> dict[str, Any]:
    return {"kecamatan": geography.kecamatan_names(), "kinds": KINDS, "stream_types": STREAM_TYPES}


def setup(app: web.Application) -> None:
    app.router.add_get("/dinding", auth.require(*WALL_ROLES)(_page("wall.html", _wall_context)))
    app.router.add_get("/admin/kamera", auth.require("admin")(_page("cameras_admin.html", _admin_context)))
