"""Fetching from cameras for the browser: HLS playlists (rewritten), segments, MJPEG streams and JPEG snapshots.

The browser asks ``/kamera/<id>/...`` (see :mod:`padang112.web.cameras`); this module talks to the camera with
the credentials taken out of its stream URL, and answers with nothing of the camera's address: playlists are
rewritten (:mod:`.urls`), upstream headers are not forwarded (only a checked content type), and an upstream
failure is a plain 502 whose text names no host.

Against SSRF: a playlist's URIs are followed only on the camera's own origin (others are dropped from the
rewritten playlist, so no token exists for them), every fetch checks its address (:mod:`.addresses`: IP literals
here, names in the session's resolver), redirects are not followed, and a body whose content type says it is a web
page or an API answer (HTML, JSON, XML, script) is refused instead of being passed on.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from padang112.cameras.addresses import Network, url_refusal
from padang112.cameras.model import Camera
from padang112.cameras.restream import Restreamer, RestreamError
from padang112.cameras.urls import RefTable, Upstream, origin_of, rewrite_playlist, split_credentials

PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
MAX_PLAYLIST = 1 << 20
MAX_SNAPSHOT = 8 << 20
SNAPSHOT_TTL_S = 0.5  # several tiles of one camera share one fetch
CHUNK = 64 << 10
NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
_SEGMENT_TYPES = ("video/", "audio/", "application/octet-stream", "application/mp4", "binary/octet-stream")
PLAYLIST_TYPES = (
    "application/vnd.apple.mpegurl",
    "application/x-mpegurl",
    "audio/mpegurl",
    "audio/x-mpegurl",
    "text/plain",
    "application/octet-stream",
    "binary/octet-stream",
)
_NOT_MEDIA = ("html", "json", "xml", "javascript", "ecmascript", "form")  # what an internal service answers with


def not_media(content_type: str) -> bool:
    """A content type that names a page or an API answer, never a camera's playlist, segment or image."""
    kind = content_type.split(";", 1)[0].strip().lower()
    return any(word in kind for word in _NOT_MEDIA)


class UpstreamError(Exception):
    """The camera did not answer as expected; the message names no address."""


def bad_gateway(what: str = "camera_unreachable") -> web.HTTPBadGateway:
    return web.HTTPBadGateway(
        text=f'{{"error": "{what}", "message": "Kamera tidak dapat dihubungi.", '
        f'"message_en": "The camera cannot be reached."}}',
        content_type="application/json",
        headers=NO_STORE,
    )


@dataclass
class _Snapshot:
    body: bytes
    at: float


class CameraProxy:
    def __init__(
        self,
        http: aiohttp.ClientSession,
        key: bytes,
        restreamer: Restreamer,
        timeout_s: float = 10.0,
        allowed: tuple[Network, ...] = (),
    ) -> None:
        self._http = http
        self._allowed = allowed
        self._key = key
        self._restreamer = restreamer
        self._timeout = aiohttp.ClientTimeout(total=None, connect=timeout_s, sock_read=timeout_s)
        self._refs: dict[int, RefTable] = {}
        self._snapshots: dict[int, _Snapshot] = {}
        self._snapshot_locks: dict[int, asyncio.Lock] = {}

    def forget(self, camera_id: int) -> None:
        """Drop what is cached for a camera (changed or disabled)."""
        self._refs.pop(camera_id, None)
        self._snapshots.pop(camera_id, None)
        self._snapshot_locks.pop(camera_id, None)

    async def _get_bytes(self, upstream: Upstream, url: str, limit: int) -> tuple[bytes, str]:
        if url_refusal(url, self._allowed) is not None or origin_of(url) != upstream.origin:
            raise UpstreamError("address not allowed")
        try:
            async with self._http.get(
                url, headers=upstream.headers_for(url), timeout=self._timeout, allow_redirects=False
            ) as r:
                if r.status != 200:
                    raise UpstreamError(f"camera answered {r.status}")
                if not_media(r.content_type):
                    raise UpstreamError("camera answered something else than media")
                body = await r.content.read(limit + 1)
                if len(body) > limit:
                    raise UpstreamError("camera answered too much")
                return body, r.content_type
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise UpstreamError(type(exc).__name__) from None

    # --- HLS -------------------------------------------------------------------------------------------------
    async def playlist(self, camera: Camera, token: str | None = None) -> web.Response:
        """The camera's playlist (or a variant playlist by token), every URI pointing at ``/kamera/<id>/s/``."""
        if camera.stream_type == "rtsp":
            return await self._restream_playlist(camera)
        upstream = split_credentials(camera.stream_url)
        url = upstream.url
        if token is not None:
            found = self._table(camera.id).resolve(token)
            if found is None or not found[1]:
                raise web.HTTPNotFound()
            url = found[0]
        try:
            body, content_type = await self._get_bytes(upstream, url, MAX_PLAYLIST)
        except UpstreamError:
            raise bad_gateway() from None
        if content_type and not content_type.lower().startswith(PLAYLIST_TYPES):
            raise bad_gateway("not_a_playlist")
        text = body.decode("utf-8", "replace")
        if not text.lstrip("\ufeff").startswith("#EXTM3U"):
            raise bad_gateway("not_a_playlist")
        table = self._table(camera.id)

        def ref(absolute: str, is_playlist: bool) -> str:
            kind = "p" if is_playlist else "s"
            return f"/kamera/{camera.id}/{kind}/{table.token(absolute, is_playlist)}"

        rewritten = rewrite_playlist(text, url, ref, origin=upstream.origin)  # only the camera's own origin
        return web.Response(text=rewritten, content_type=PLAYLIST_TYPE, headers=NO_STORE)

    def _table(self, camera_id: int) -> RefTable:
        if camera_id not in self._refs:
            self._refs[camera_id] = RefTable(self._key + str(camera_id).encode())
        return self._refs[camera_id]

    async def segment(self, request: web.Request, camera: Camera, token: str) -> web.StreamResponse:
        """A segment (or key, init section) named in a playlist this proxy rewrote, streamed through."""
        found = self._table(camera.id).resolve(token)
        if found is None or found[1]:
            raise web.HTTPNotFound()
        upstream = split_credentials(camera.stream_url)
        return await self._pipe(request, upstream, found[0], _SEGMENT_TYPES, "video/mp2t")

    async def _restream_playlist(self, camera: Camera) -> web.Response:
        try:
            path = await self._restreamer.playlist(camera)
        except RestreamError:
            raise bad_gateway() from None
        text = path.read_text(encoding="utf-8", errors="replace")
        rewritten = rewrite_playlist(
            text, "http://restream.invalid/", lambda url, _: f"/kamera/{camera.id}/r/{url.rsplit('/', 1)[-1]}"
        )
        return web.Response(text=rewritten, content_type=PLAYLIST_TYPE, headers=NO_STORE)

    def restream_segment(self, camera: Camera, name: str) -> web.FileResponse:
        path = self._restreamer.segment(camera.id, name)
        if path is None:
            raise web.HTTPNotFound()
        return web.FileResponse(path, headers={**NO_STORE, "Content-Type": "video/mp2t"})

    # --- MJPEG and snapshots ---------------------------------------------------------------------------------
    async def mjpeg(self, request: web.Request, camera: Camera) -> web.StreamResponse:
        """The camera's multipart JPEG stream, passed through until the viewer or the camera goes away."""
        upstream = split_credentials(camera.stream_url)
        return await self._pipe(request, upstream, upstream.url, ("multipart/x-mixed-replace",), None)

    async def snapshot(self, camera: Camera) -> web.Response:
        """One JPEG: the camera's snapshot URL, fetched at most every half second whoever asks."""
        lock = self._snapshot_locks.setdefault(camera.id, asyncio.Lock())
        async with lock:
            cached = self._snapshots.get(camera.id)
            if cached is None or time.monotonic() - cached.at > SNAPSHOT_TTL_S:
                upstream = split_credentials(camera.stream_url)
                try:
                    body, _ = await self._get_bytes(upstream, upstream.url, MAX_SNAPSHOT)
                except UpstreamError:
                    raise bad_gateway() from None
                if not body.startswith(b"\xff\xd8"):
                    raise bad_gateway("not_a_jpeg")
                cached = self._snapshots[camera.id] = _Snapshot(body, time.monotonic())
        return web.Response(body=cached.body, content_type="image/jpeg", headers=NO_STORE)

    async def _pipe(
        self, request: web.Request, upstream: Upstream, url: str, types: tuple[str, ...], fallback_type: str | None
    ) -> web.StreamResponse:
        response: web.StreamResponse | None = None
        if url_refusal(url, self._allowed) is not None or origin_of(url) != upstream.origin:
            raise bad_gateway()  # only the camera's own origin, at an allowed address
        try:
            async with self._http.get(
                url, headers=upstream.headers_for(url), timeout=self._timeout, allow_redirects=False
            ) as r:
                if r.status != 200:
                    raise bad_gateway()
                content_type = r.headers.get("Content-Type", "")
                if not_media(content_type):
                    raise bad_gateway("unexpected_content")
                if not content_type.lower().startswith(types):
                    if fallback_type is None:
                        raise bad_gateway("unexpected_content")
                    content_type = fallback_type
                response = web.StreamResponse(headers={**NO_STORE, "Content-Type": content_type})
                if r.content_length is not None:
                    response.content_length = r.content_length
                await response.prepare(request)
                async for chunk in r.content.iter_chunked(CHUNK):
                    await response.write(chunk)
                await response.write_eof()
                return response
        except (TimeoutError, aiohttp.ClientError, OSError):
            if response is not None:  # already streaming: the viewer sees the stream end and reconnects
                return response
            raise bad_gateway() from None
