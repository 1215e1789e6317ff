"""The stream proxy and the health probe against a fake camera (an aiohttp server with Basic auth on loopback)."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer, make_mocked_request

from padang112.cameras.addresses import networks
from padang112.cameras.model import Camera
from padang112.cameras.probe import ProbeLoop
from padang112.cameras.proxy import CameraProxy
from padang112.cameras.restream import Restreamer

JPEG = b"\xff\xd8\xff\xe0fake-jpeg\xff\xd9"
T0 = datetime(2023, 8, 7, 1, 0, tzinfo=UTC)
LOOPBACK_CAMERAS = networks(["127.0.0.0/8"])  # the fake camera's network, allowed as a camera network


@dataclass
class FakeCamera:
    password: str = "s3cret"
    down: bool = False
    auth_seen: list[str | None] = field(default_factory=list)

    def app(self) -> web.Application:
        async def guard(request: web.Request) -> None:
            self.auth_seen.append(request.headers.get("Authorization"))
            if self.down:
                raise web.HTTPServiceUnavailable()
            if (
                request.headers.get("Authorization")
                != "Basic " + base64.b64encode(f"admin:{self.password}".encode()).decode()
            ):
                raise web.HTTPUnauthorized()

        async def playlist(request: web.Request) -> web.Response:
            await guard(request)
            port = request.url.port
            text = (
                f"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nseg1.ts\n#EXTINF:2.0,\n"
                f"http://127.0.0.1:{port}/live/seg2.ts\n#EXTINF:2.0,\nhttp://localhost:{port}/live/seg3.ts\n"
            )
            return web.Response(text=text, content_type="application/vnd.apple.mpegurl")

        async def segment(request: web.Request) -> web.Response:
            await guard(request)
            return web.Response(body=b"TS" + request.match_info["n"].encode(), content_type="video/mp2t")

        async def snapshot(request: web.Request) -> web.Response:
            await guard(request)
            return web.Response(body=JPEG, content_type="image/jpeg")

        app = web.Application()
        app.router.add_get("/live/index.m3u8", playlist)
        app.router.add_get("/live/seg{n}.ts", segment)
        app.router.add_get("/snap.jpg", snapshot)
        return app


def cam(id: int, url: str, stream_type: str = "hls") -> Camera:
    return Camera(
        id=id,
        name="Simpang",
        kecamatan="Padang Barat",
        location_text="",
        latitude=-0.95,
        longitude=100.35,
        kind="traffic",
        stream_type=stream_type,
        stream_url=url,
        enabled=True,
        created_by="t",
        created_at=T0,
        updated_at=T0,
    )


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeCamera, str]]:
    camera = FakeCamera()
    server = TestServer(camera.app(), host="127.0.0.1")
    await server.start_server()
    try:
        yield camera, f"127.0.0.1:{server.port}"
    finally:
        await server.close()


@pytest.fixture
async def proxy(tmp_path: Path) -> AsyncIterator[CameraProxy]:
    async with aiohttp.ClientSession() as http:
        yield CameraProxy(http, b"key", Restreamer(tmp_path / "restream"), timeout_s=2, allowed=LOOPBACK_CAMERAS)


def request(path: str) -> web.Request:
    return make_mocked_request("GET", path)


async def test_a_playlist_reaches_the_browser_without_address_or_password(fake, proxy: CameraProxy):
    camera, origin = fake
    response = await proxy.playlist(cam(7, f"http://admin:{camera.password}@{origin}/live/index.m3u8"))
    text = response.text or ""
    assert response.content_type == "application/vnd.apple.mpegurl"
    assert "127.0.0.1" not in text and "localhost" not in text and camera.password not in text and "admin" not in text
    tokens = [line.rsplit("/", 1)[-1] for line in text.splitlines() if line.startswith("/kamera/7/s/")]
    assert len(tokens) == 2  # seg3 names another origin ("localhost"): dropped, never fetched
    assert camera.auth_seen[-1] is not None  # the camera got its credentials


async def test_segments_are_fetched_with_credentials_only_from_the_cameras_own_origin(fake, proxy: CameraProxy):
    camera, origin = fake
    hls = cam(7, f"http://admin:{camera.password}@{origin}/live/index.m3u8")
    text = (await proxy.playlist(hls)).text or ""
    own, absolute = [line.rsplit("/", 1)[-1] for line in text.splitlines() if line.startswith("/kamera/")]
    assert proxy._table(7).resolve(own) == (f"http://{origin}/live/seg1.ts", False)
    assert proxy._table(7).resolve(absolute) == (f"http://{origin}/live/seg2.ts", False)
    # the segment on "localhost" is another origin: it has no token, so neither credentials nor a request go there
    assert "seg3" not in text and len(proxy._table(7)) == 2
    with pytest.raises(web.HTTPNotFound):
        await proxy.segment(request("/kamera/7/s/x"), hls, "f" * 32)  # a token this proxy never handed out


async def test_a_snapshot_is_checked_to_be_a_jpeg_and_an_unreachable_camera_is_a_plain_502(fake, proxy: CameraProxy):
    camera, origin = fake
    snap = cam(8, f"http://admin:{camera.password}@{origin}/snap.jpg", "snapshot")
    assert (await proxy.snapshot(snap)).body == JPEG
    camera.down = True
    proxy.forget(8)
    with pytest.raises(web.HTTPBadGateway) as refused:
        await proxy.snapshot(snap)
    assert origin.split(":")[1] not in (refused.value.text or "") and "127.0.0.1" not in (refused.value.text or "")


async def test_a_probe_round_marks_cameras_and_reports_each_change_once(fake, tmp_path: Path):
    camera, origin = fake
    cameras = {
        1: cam(1, f"http://admin:{camera.password}@{origin}/live/index.m3u8"),
        2: cam(2, f"http://admin:{camera.password}@{origin}/snap.jpg", "snapshot"),
        3: cam(3, f"http://admin:wrong@{origin}/snap.jpg", "snapshot"),
    }
    status: dict[int, str] = {}
    changes: list[tuple[int, str]] = []

    class Registry:
        async def all(self, include_disabled: bool = True) -> list[Camera]:
            return list(cameras.values())

        async def record_probe(self, result):
            before = status.get(result.camera_id)
            status[result.camera_id] = "online" if result.ok else "offline"
            return before, dataclasses.replace(cameras[result.camera_id], status=status[result.camera_id])

    async with aiohttp.ClientSession() as http:
        loop = ProbeLoop(
            Registry(),
            http,
            Restreamer(tmp_path),
            interval_s=2,
            timeout_s=1,
            ffprobe="ffprobe",
            notify=lambda c: changes.append((c.id, c.status)),
            allowed=LOOPBACK_CAMERAS,
        )
        await loop.round()
        assert status == {1: "online", 2: "online", 3: "offline"}
        await loop.round()
        camera.down = True
        await loop.round()
    assert changes == [(1, "online"), (2, "online"), (3, "offline"), (1, "offline"), (2, "offline")]
