"""A camera as a browser sees it: the API's answers and the live ``camera_status`` notices share this shape."""

from __future__ import annotations

from typing import Any

from padang112.cameras.model import Camera
from padang112.cameras.urls import redact
from padang112.wib import iso as wib_iso

PLAY_PATHS = {"hls": "live.m3u8", "mjpeg": "mjpeg", "snapshot": "snapshot.jpg"}


def play_url(camera: Camera) -> str:
    return f"/kamera/{camera.id}/{PLAY_PATHS[camera.playback]}"


def camera_view(camera: Camera, *, admin: bool = False) -> dict[str, Any]:
    """A camera as a viewer's browser sees it (no stream URL); ``admin`` adds the masked URL.

    Nobody gets the probe's reason (connection refused, timeout, HTTP status ...): with it, registering cameras
    would work as a port scanner of the server's networks. Up or down (``status``) is all; the reason is logged.
    """
    view = {
        "id": camera.id,
        "name": camera.name,
        "kecamatan": camera.kecamatan,
        "location_text": camera.location_text,
        "latitude": camera.latitude,
        "longitude": camera.longitude,
        "kind": camera.kind,
        "playback": camera.playback,
        "play_url": play_url(camera),
        "enabled": camera.enabled,
        "status": camera.status,
        "last_seen_at": camera.last_seen_at and wib_iso(camera.last_seen_at),
        "checked_at": camera.checked_at and wib_iso(camera.checked_at),
    }
    if admin:
        view.update(stream_type=camera.stream_type, stream_url=redact(camera.stream_url))
    return view
