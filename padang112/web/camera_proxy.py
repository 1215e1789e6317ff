"""``/kamera/<id>/...``: the browser's only way to a camera's pictures (see :mod:`padang112.cameras.proxy`).

A camera the user may not watch is a 403 (the proxy is for players; which cameras exist is no secret the API
would not also tell an allowed user). Watching is audited (``camera_viewed``), at most once per user and camera
every 10 minutes: HLS players ask every second or two, and the audit log must not drown.
"""

from __future__ import annotations

from aiohttp import web

from padang112.accounts.users import UserRecord
from padang112.cameras.model import Camera
from padang112.web import auth
from padang112.web.cameras import _error, _user
from padang112.web.keys import CAMERA_ACCESS, CAMERA_PROXY, CAMERA_REGISTRY

AUDIT_EVERY_S = 600.0


async def _watchable(request: web.Request, *playback: str) -> Camera:
    """The camera, if this user may watch it now (403 otherwise: the proxy is not an API, nothing to hide)."""
    try:
        camera_id = int(request.match_info["camera_id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    camera = await request.app[CAMERA_REGISTRY].get(camera_id)
    if camera is None:
        raise web.HTTPNotFound()
    user = _user(request)
    if not await request.app[CAMERA_ACCESS].may_view(user, camera):
        raise _error(web.HTTPForbidden, "forbidden", auth.MESSAGES["id"]["forbidden"], auth.MESSAGES["en"]["forbidden"])
    if camera.playback not in playback:
        raise web.HTTPNotFound()
    await _audit_view(request, user, camera)
    return camera


async def _audit_view(request: web.Request, user: UserRecord, camera: Camera) -> None:
    if not request.app[CAMERA_ACCESS].first_view_in(user.id, camera.id, AUDIT_EVERY_S):
        return
    await request.app[auth.AUTH].users.audit(
        "camera_viewed", user.username, camera_id=camera.id, client=auth.client_address(request)
    )


@auth.require()
async def stream_playlist(request: web.Request) -> web.StreamResponse:
    """The camera's live HLS playlist (HLS and restreamed RTSP cameras), rewritten to point at this proxy."""
    return await request.app[CAMERA_PROXY].playlist(await _watchable(request, "hls"))


@auth.require()
async def stream_variant(request: web.Request) -> web.StreamResponse:
    """A variant playlist named by the camera's own playlist."""
    return await request.app[CAMERA_PROXY].playlist(await _watchable(request, "hls"), request.match_info["token"])


@auth.require()
async def stream_segment(request: web.Request) -> web.StreamResponse:
    """A segment, key or init section named by a rewritten playlist."""
    camera = await _watchable(request, "hls")
    return await request.app[CAMERA_PROXY].segment(request, camera, request.match_info["token"])


@auth.require()
async def restream_segment(request: web.Request) -> web.StreamResponse:
    """A segment of an RTSP camera's restream."""
    camera = await _watchable(request, "hls")
    return request.app[CAMERA_PROXY].restream_segment(camera, request.match_info["name"])


@auth.require()
async def stream_mjpeg(request: web.Request) -> web.StreamResponse:
    """The camera's MJPEG stream."""
    return await request.app[CAMERA_PROXY].mjpeg(request, await _watchable(request, "mjpeg"))


@auth.require()
async def stream_snapshot(request: web.Request) -> web.StreamResponse:
    """The camera's current JPEG snapshot."""
    return await request.app[CAMERA_PROXY].snapshot(await _watchable(request, "snapshot"))


def setup(app: web.Application) -> None:
    app.router.add_get("/kamera/{camera_id}/live.m3u8", stream_playlist)
    app.router.add_get("/kamera/{camera_id}/p/{token}", stream_variant)
    app.router.add_get("/kamera/{camera_id}/s/{token}", stream_segment)
    app.router.add_get("/kamera/{camera_id}/r/{name}", restream_segment)
    app.router.add_get("/kamera/{camera_id}/mjpeg", stream_mjpeg)
    app.router.add_get("/kamera/{camera_id}/snapshot.jpg", stream_snapshot)
