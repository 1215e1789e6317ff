"""SSRF through cameras, against the live console: a camera (taken over, or registered by a careless admin) whose
playlist names internal addresses must not make the server fetch them; internal addresses cannot be registered;
a page or API answer is not passed on as a segment; and the admin sees only up/down (no port-scanner oracle)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.fixtures.controller import eventually
from tests.integration.test_authorization_matrix import Account, Identity
from tests.integration.test_authorization_matrix import sign_in as http_sign_in
from tests.integration.test_console_page import add_account

pytestmark = pytest.mark.live

TS = b"\x47\x40\x00\x10" + b"\xff" * 184  # one MPEG-TS packet


@dataclass
class Hits:
    paths: list[str] = field(default_factory=list)


async def _server(handlers: dict[str, web.Response | None], hits: Hits) -> TestServer:
    async def handle(request: web.Request) -> web.StreamResponse:
        hits.paths.append(request.path)
        response = handlers.get(request.path)
        if response is None:
            raise web.HTTPNotFound()
        return response

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


@pytest.fixture
async def admin(controller, live_settings) -> AsyncIterator[Identity]:
    account = Account("admin", f"ssrf_{secrets.token_hex(3)}", secrets.token_urlsafe(12))
    add_account(live_settings, account.username, "admin", account.password)
    identity = await http_sign_in(controller.base_url, account)
    yield identity
    await identity.http.close()


async def register(admin: Identity, url: str, stream_type: str = "hls") -> tuple[int, dict]:
    body = {
        "name": f"SSRF {secrets.token_hex(2)}",
        "kecamatan": "Padang Barat",
        "location_text": "uji",
        "latitude": -0.95,
        "longitude": 100.35,
        "kind": "traffic",
        "stream_type": stream_type,
        "stream_url": url,
    }
    async with admin.http.post("/api/v1/cameras", json=body, headers={"X-CSRF-Token": admin.csrf or ""}) as r:
        return r.status, await r.json()


async def test_a_hostile_playlist_cannot_make_the_server_fetch_internal_addresses(controller, admin: Identity):
    internal_hits, camera_hits = Hits(), Hits()
    internal = await _server({"/secret": web.json_response({"internal": "only"})}, internal_hits)
    camera = None
    try:
        console_port = controller.base_url.rsplit(":", 1)[1]
        playlist = (
            "#EXTM3U\n#EXT-X-TARGETDURATION:2\n"
            '#EXT-X-KEY:METHOD=AES-128,URI="http://169.254.169.254/latest/meta-data/"\n'
            f"#EXTINF:2.0,\nhttp://127.0.0.1:{internal.port}/secret\n"
            f"#EXTINF:2.0,\nhttp://127.0.0.1:{console_port}/readyz\n"
            "#EXTINF:2.0,\nhttp://localhost/readyz\n"
            "#EXTINF:2.0,\nseg1.ts\n"
            "#EXTINF:2.0,\napi.json\n"
        )
        camera = await _server(
            {
                "/live.m3u8": web.Response(text=playlist, content_type="application/vnd.apple.mpegurl"),
                "/seg1.ts": web.Response(body=TS, content_type="video/mp2t"),
                "/api.json": web.json_response({"not": "video"}),
            },
            camera_hits,
        )
        status, made = await register(admin, f"http://127.0.0.1:{camera.port}/live.m3u8")
        assert status == 201, made
        async with admin.http.get(f"/kamera/{made['id']}/live.m3u8") as r:
            assert r.status == 200
            text = await r.text()
        assert "127.0.0.1" not in text and "169.254" not in text and "localhost" not in text
        assert "EXT-X-KEY" not in text  # the foreign key URI took its tag with it
        tokens = [line for line in text.splitlines() if line.startswith(f"/kamera/{made['id']}/s/")]
        assert len(tokens) == 2  # seg1.ts and api.json: the camera's own origin only
        async with admin.http.get(tokens[0]) as r:
            assert (r.status, await r.read()) == (200, TS)
        async with admin.http.get(tokens[1]) as r:  # an API answer on the camera's origin is not passed on
            assert r.status == 502 and '"video"' not in await r.text()
        for guess in ("0" * 32, "../../readyz"):  # tokens cannot be forged
            async with admin.http.get(f"/kamera/{made['id']}/s/{guess}") as r:
                assert r.status == 404
        assert internal_hits.paths == []  # the internal service was never asked
        assert set(camera_hits.paths) <= {"/live.m3u8", "/seg1.ts", "/api.json"}
    finally:
        await internal.close()
        if camera is not None:
            await camera.close()


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata (link-local)
        "http://10.1.2.3/live.m3u8",  # private, not a configured camera network
        "http://192.168.1.64/live.m3u8",
        "http://127.0.0.2:8088/ari/asterisk/info",  # loopback outside the test's camera network
        "http://[::1]:8090/readyz",
        "http://[::ffff:127.0.0.5]/x.m3u8",
        "http://100.64.0.1/x.m3u8",  # carrier-grade NAT: someone's internal network
        "http://0.0.0.0/x.m3u8",
    ],
)
async def test_internal_addresses_cannot_be_registered_as_cameras(controller, admin: Identity, url: str):
    status, body = await register(admin, url)
    assert status == 400 and "stream_url" in body["fields"], body
    assert body["fields"]["stream_url"]["message"].startswith("Alamat kamera tidak diizinkan")


async def test_the_admin_sees_up_or_down_never_why(controller, admin: Identity):
    """A closed port, an HTTP 404 and a page that is not an image must look alike: no port scan through probes."""
    hits = Hits()
    server = await _server({"/page": web.Response(text="<html>", content_type="text/html")}, hits)
    try:
        closed = TestServer(web.Application(), host="127.0.0.1")
        await closed.start_server()
        closed_port = closed.port
        await closed.close()
        made = []
        for url in (
            f"http://127.0.0.1:{closed_port}/snap.jpg",
            f"http://127.0.0.1:{server.port}/missing.jpg",
            f"http://127.0.0.1:{server.port}/page",
        ):
            status, camera = await register(admin, url, "snapshot")
            assert status == 201
            made.append(camera["id"])

        async def views() -> list[dict] | None:
            out = []
            for camera_id in made:
                async with admin.http.get(f"/api/v1/cameras/{camera_id}") as r:
                    out.append(await r.json())
            return out if all(v["status"] == "offline" for v in out) else None

        seen = await eventually(views, 15, what="the three cameras probed down")
        assert all("error" not in view for view in seen)
        shapes = [{k for k, v in view.items() if v is not None} for view in seen]
        assert shapes[0] == shapes[1] == shapes[2]
        async with admin.http.get("/api/v1/cameras") as r:
            assert '"error"' not in await r.text()
    finally:
        await server.close()
