"""Cameras on the web: ``/api/v1/cameras`` (registry), ``/kamera/<id>/...`` (the stream proxy), the nearest
cameras of an incident, the saved wall layouts, and the lifecycle of the probe and restream tasks.

Viewers get a camera's name, place, status and a ``/kamera/<id>/...`` address, never its stream URL; admins
also see the stream URL with its password masked. Every route checks :class:`CameraAccess` for the camera
(a camera the user may not watch is answered exactly like one that does not exist: 404 in the API, 403 on
the proxy, :mod:`.camera_proxy`).
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from padang112.accounts.users import UserRecord
from padang112.cameras.addresses import Network, networks
from padang112.cameras.model import OFFLINE, Camera, CameraDraft
from padang112.cameras.nearest import nearest, place_of
from padang112.cameras.registry import GRIDS, CameraNotFound
from padang112.cameras.validation import ValidationError, validate
from padang112.cameras.views import camera_view
from padang112.config import Settings
from padang112.web import auth
from padang112.web.api import body_of
from padang112.web.audience import WALL_ROLES
from padang112.web.incidents import _error, _invalid, _visible_incident
from padang112.web.keys import CAMERA_ACCESS, CAMERA_PROXY, CAMERA_REGISTRY, RESTREAMER, SETTINGS

log = logging.getLogger(__name__)

MAX_RADIUS_M = 20_000.0


def _user(request: web.Request) -> UserRecord:
    user = auth.current_user(request)
    assert user is not None
    return user


def _no_camera() -> web.HTTPException:
    return _error(web.HTTPNotFound, "no_camera", "Kamera tidak dikenal.", "Unknown camera.")


async def _visible_cameras(request: web.Request) -> list[Camera]:
    user = _user(request)
    cameras = await request.app[CAMERA_REGISTRY].all(include_disabled=user.role == "admin")
    if user.role == "admin":
        return cameras
    ids = await request.app[CAMERA_ACCESS].visible_ids(user)
    return [c for c in cameras if c.enabled and (ids is None or c.id in ids)]


async def _camera(request: web.Request) -> Camera:
    """The camera of the path, if this user may see it (admins: also a disabled one); else 404."""
    try:
        camera_id = int(request.match_info["camera_id"])
    except ValueError:
        raise _no_camera() from None
    camera = await request.app[CAMERA_REGISTRY].get(camera_id)
    user = _user(request)
    if camera is None or not (user.role == "admin" or await request.app[CAMERA_ACCESS].may_view(user, camera)):
        raise _no_camera()
    return camera


# --- registry API ----------------------------------------------------------------------------------------------
@auth.require()
async def cameras_list(request: web.Request) -> web.Response:
    """The cameras this user may watch, with their status; ``offline`` counts those down."""
    admin = _user(request).role == "admin"
    cameras = await _visible_cameras(request)
    return web.json_response(
        {
            "cameras": [camera_view(c, admin=admin) for c in cameras],
            "total": sum(1 for c in cameras if c.enabled),
            "offline": sum(1 for c in cameras if c.enabled and c.status == OFFLINE),
            "probe_interval_s": _settings(request).cameras.probe_interval_s,
        },
        headers={"Cache-Control": "no-store"},
    )


def _allowed(request: web.Request) -> tuple[Network, ...]:
    return networks(_settings(request).cameras.allowed_networks)


def _settings(request: web.Request) -> Settings:
    return request.app[SETTINGS]


@auth.require()
async def camera_get(request: web.Request) -> web.Response:
    """One camera (404 if it does not exist or this user may not watch it)."""
    camera = await _camera(request)
    return web.json_response(camera_view(camera, admin=_user(request).role == "admin"))


def _draft(data: dict[str, Any], base: Camera | None = None) -> CameraDraft:
    def number(name: str) -> Any:
        value = data.get(name, getattr(base, name, None))
        if isinstance(value, str) and value.strip():
            try:
                return float(value)
            except ValueError:
                raise _invalid(
                    {"latitude": ("Koordinat harus berupa angka.", "Coordinates must be numbers.")}
                ) from None
        return None if value in ("", None) else value

    def text(name: str) -> str:
        value = data.get(name, getattr(base, name, ""))
        return "" if value is None else str(value)

    url = text("stream_url") if data.get("stream_url") else (base.stream_url if base else "")
    return CameraDraft(
        name=text("name"),
        kecamatan=text("kecamatan"),
        location_text=text("location_text"),
        latitude=number("latitude"),
        longitude=number("longitude"),
        kind=text("kind"),
        stream_type=text("stream_type"),
        stream_url=url,
    )


@auth.require("admin")
async def camera_create(request: web.Request) -> web.Response:
    """Register a camera (admin)."""
    try:
        draft = validate(_draft(await body_of(request)), allowed=_allowed(request))
    except ValidationError as exc:
        raise _invalid(exc.errors) from None
    camera = await request.app[CAMERA_REGISTRY].add(draft, _user(request).username)
    request.app[CAMERA_ACCESS].forget()
    return web.json_response(camera_view(camera, admin=True), status=201)


@auth.require("admin")
async def camera_update(request: web.Request) -> web.Response:
    """Change a camera (admin): any registry field, ``enabled`` to disable or enable it.

    An empty or missing ``stream_url`` keeps the stored one (its password is never shown to be re-typed)."""
    camera = await _camera(request)
    data = await body_of(request)
    enabled = data.pop("enabled", None)
    if enabled is not None and not isinstance(enabled, bool):
        raise _invalid({"enabled": ("Harus true atau false.", "Must be true or false.")})
    try:
        draft = validate(_draft(data, camera), allowed=_allowed(request))
    except ValidationError as exc:
        raise _invalid(exc.errors) from None
    changes = {name: value for name, value in vars(draft).items() if getattr(camera, name) != value}
    if enabled is not None and enabled != camera.enabled:
        changes["enabled"] = enabled
    if not changes:
        return web.json_response(camera_view(camera, admin=True))
    try:
        camera = await request.app[CAMERA_REGISTRY].update(camera.id, changes, _user(request).username)
    except CameraNotFound:
        raise _no_camera() from None
    request.app[CAMERA_PROXY].forget(camera.id)
    request.app[CAMERA_ACCESS].forget()
    await request.app[RESTREAMER].stop(camera.id)
    return web.json_response(camera_view(camera, admin=True))


@auth.require()
async def incident_cameras(request: web.Request) -> web.Response:
    """The cameras nearest to an incident (its coordinates, else its kecamatan's approximate centre).

    ``radius_m`` (default: the setting ``cameras.near_radius_m``) and ``limit`` narrow the list."""
    incident = await _visible_incident(request)
    settings = _settings(request).cameras
    try:
        radius = float(request.query.get("radius_m", settings.near_radius_m))
        limit = int(request.query.get("limit", settings.near_limit))
    except ValueError:
        raise _error(
            web.HTTPBadRequest, "bad_request", "radius_m dan limit harus angka.", "radius_m and limit must be numbers."
        ) from None
    if not (0 < radius <= MAX_RADIUS_M) or not (1 <= limit <= 50):
        raise _error(
            web.HTTPBadRequest,
            "bad_request",
            f"radius_m 1..{MAX_RADIUS_M:.0f}, limit 1..50.",
            f"radius_m 1..{MAX_RADIUS_M:.0f}, limit 1..50.",
        )
    place = place_of(incident.get("latitude"), incident.get("longitude"), incident.get("kecamatan"))
    near = [] if place is None else nearest(await _visible_cameras(request), place.point, radius, limit)
    return web.json_response(
        {
            "incident_id": incident["id"],
            "radius_m": radius,
            "point": None
            if place is None
            else {"latitude": place.point[0], "longitude": place.point[1], "approximate": place.approximate},
            "cameras": [{**camera_view(n.camera), "distance_m": round(n.distance_m)} for n in near],
        }
    )


# --- wall layouts ----------------------------------------------------------------------------------------------
@auth.require(*WALL_ROLES)
async def wall_layout(request: web.Request) -> web.Response:
    """This user's saved video wall: ``grid`` (1, 4, 9 or 16) and a camera id (or null) per tile."""
    saved = await request.app[CAMERA_REGISTRY].layout(_user(request).id)
    grid, tiles = saved or (4, [])
    return web.json_response({"grid": grid, "tiles": tiles, "saved": saved is not None})


@auth.require(*WALL_ROLES)
async def wall_layout_save(request: web.Request) -> web.Response:
    """Save this user's video wall layout."""
    data = await body_of(request)
    grid, tiles = data.get("grid"), data.get("tiles", [])
    if (
        grid not in GRIDS
        or not isinstance(tiles, list)
        or len(tiles) > grid
        or not all(t is None or (isinstance(t, int) and not isinstance(t, bool)) for t in tiles)
    ):
        raise _error(
            web.HTTPBadRequest,
            "bad_layout",
            "Tata letak tidak sah (grid 1, 4, 9 atau 16).",
            "Invalid layout (grid 1, 4, 9 or 16).",
        )
    visible = {c.id for c in await _visible_cameras(request)}
    if any(t is not None and t not in visible for t in tiles):
        raise _no_camera()
    await request.app[CAMERA_REGISTRY].save_layout(_user(request).id, grid, tiles)
    return web.json_response({"grid": grid, "tiles": tiles, "saved": True})


# --- lifecycle -------------------------------------------------------------------------------------------------


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/cameras", cameras_list)
    app.router.add_post("/api/v1/cameras", camera_create)
    app.router.add_get("/api/v1/cameras/{camera_id}", camera_get)
    app.router.add_patch("/api/v1/cameras/{camera_id}", camera_update)
    app.router.add_get("/api/v1/incidents/{incident_id}/cameras", incident_cameras)
    app.router.add_get("/api/v1/wall/layout", wall_layout)
    app.router.add_post("/api/v1/wall/layout", wall_layout_save)
