"""The CCTV video wall and camera proxy against local test cameras (ffmpeg on loopback), in Chromium.

Cameras are registered the way an operator does (``padang112 camera add --url-stdin``) with URLs that carry
a password; the supervisor's wall plays them through ``/kamera/<id>/...``. The probe interval of the test
instance is 2 s (tests/conftest.py).
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass

import aiohttp
import pytest
from playwright.async_api import Page, expect

from tests.fixtures.camera_streams import CameraStreams
from tests.fixtures.controller import eventually
from tests.integration.test_authorization_matrix import Account, Identity
from tests.integration.test_authorization_matrix import sign_in as http_sign_in
from tests.integration.test_console_page import add_account, sign_in

pytestmark = pytest.mark.live

HERE = (-0.9300, 100.3500)  # Padang Barat-ish; the "near" camera sits here
NEAR_INCIDENT = (-0.9302, 100.3502)  # ~30 m away
SECOND = (-0.9340, 100.3500)  # ~445 m away
FAR_INCIDENT = (-1.0500, 100.4500)  # Bungus: far outside the 1.5 km radius


@dataclass
class Wall:
    cameras: dict[str, int]  # hls, mjpeg, snapshot, flaky, near, second
    supervisor: Account
    agency: Account


def add_camera(settings, name: str, url: str, stream_type: str, point: tuple[float, float]) -> int:
    env = dict(os.environ, PADANG112_CONFIG=str(settings.config_path))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "padang112.cli",
            "camera",
            "add",
            name,
            "--kecamatan",
            "Padang Barat",
            "--lat",
            str(point[0]),
            "--lon",
            str(point[1]),
            "--type",
            stream_type,
            "--url-stdin",
            "--location",
            f"Uji {name}",
        ],
        input=url + "\n",
        text=True,
        env=env,
        capture_output=True,
    )
    assert done.returncode == 0, done.stderr
    found = re.search(r"camera (\d+) \(", done.stdout)
    assert found, done.stdout
    return int(found.group(1))


@pytest.fixture(scope="module")
async def wall(controller, live_settings, camera_streams: CameraStreams) -> Wall:
    tag = secrets.token_hex(3)
    spots = {
        "hls": (-0.9500, 100.3600),
        "mjpeg": (-0.9510, 100.3610),
        "snapshot": (-0.9520, 100.3620),
        "flaky": (-0.9530, 100.3630),
    }
    paths = {
        "hls": ("/hls/index.m3u8", "hls"),
        "mjpeg": ("/mjpeg", "mjpeg"),
        "snapshot": ("/snapshot.jpg", "snapshot"),
        "flaky": ("/flaky/snapshot.jpg", "snapshot"),
    }
    cameras = {
        key: add_camera(live_settings, f"Kamera {key} {tag}", camera_streams.url(path), kind, spots[key])
        for key, (path, kind) in paths.items()
    }
    cameras["near"] = add_camera(
        live_settings, f"Kamera dekat {tag}", camera_streams.url("/snapshot.jpg"), "snapshot", HERE
    )
    cameras["second"] = add_camera(
        live_settings, f"Kamera kedua {tag}", camera_streams.url("/snapshot.jpg"), "snapshot", SECOND
    )
    supervisor = Account("supervisor", f"wall-sup-{tag}", secrets.token_urlsafe(12))
    agency = Account("agency", f"wall-dlh-{tag}", secrets.token_urlsafe(12))
    add_account(live_settings, supervisor.username, "supervisor", supervisor.password)
    add_account(live_settings, agency.username, "agency", agency.password, agency="dlh")
    return Wall(cameras, supervisor, agency)


async def open_wall(page: Page, base_url: str, account: Account) -> None:
    await sign_in(page, base_url, account.username, account.password)
    await page.wait_for_url("**/supervisor")
    await page.goto(base_url + "/dinding")
    await page.locator("#wall[data-ready]").wait_for(state="attached")


async def choose(page: Page, tile: int, camera_id: int) -> None:
    await page.locator(f'.wall-slot[data-index="{tile}"] select').select_option(str(camera_id))


async def frames_move(page: Page, tile: int) -> tuple[bytes, bytes]:
    stage = page.locator(f'.wall-slot[data-index="{tile}"] .camera-stage')
    first = await stage.screenshot()
    await asyncio.sleep(2.5)  # a snapshot camera is fetched every 2 s
    return first, await stage.screenshot()


async def test_the_wall_shows_moving_frames_from_hls_mjpeg_and_snapshot_cameras(
    controller, live_settings, wall: Wall, page: Page, camera_streams: CameraStreams
):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    await open_wall(page, controller.base_url, wall.supervisor)
    reload_s = int(live_settings.cameras.wall_reload_h * 3600)
    await expect(page.locator("#wall")).to_have_attribute("data-reload-s", str(reload_s))  # reloads itself
    await page.locator("#grid").select_option("4")
    for tile, key in enumerate(("hls", "mjpeg", "snapshot")):
        await choose(page, tile, wall.cameras[key])
    # each tile shows a picture: a video with frames, images with a decoded frame
    await page.wait_for_function(
        """() => {
        const v = document.querySelector('.wall-slot[data-index="0"] video');
        const imgs = [1, 2].map((i) => document.querySelector(`.wall-slot[data-index="${i}"] img`));
        return v && v.readyState >= 2 && v.currentTime > 0 && imgs.every((img) => img && img.naturalWidth > 0);
    }""",
        timeout=20_000,
    )
    for tile, key in enumerate(("hls", "mjpeg", "snapshot")):
        before, after = await frames_move(page, tile)
        assert before != after, f"the {key} tile shows the same pixels 2.5 s apart: no moving frames"

    # the layout is saved for this user and comes back after a reload
    await page.get_by_role("button", name="Simpan tata letak").click()
    await expect(page.locator("#layout-state")).to_have_text("Tata letak tersimpan")
    await page.reload()
    for tile, key in enumerate(("hls", "mjpeg", "snapshot")):
        await expect(page.locator(f'.wall-slot[data-index="{tile}"] .camera-tile')).to_have_attribute(
            "data-camera-id", str(wall.cameras[key])
        )

    # a click makes a tile fill the screen, a second click puts it back
    slot = page.locator('.wall-slot[data-index="1"]')
    await slot.locator(".wall-view").click()
    await expect(slot).to_have_class(re.compile(r"\bfull\b"))
    await slot.locator(".wall-view").click()
    await expect(slot).not_to_have_class(re.compile(r"\bfull\b"))
    await expect(page.locator("#open-incidents")).to_have_text(re.compile(r"^\d+$"))

    # nothing the browser loaded or was given names the camera: only the console's own address
    source = await page.content()
    for secret in (camera_streams.password, camera_streams.origin, "kamera:"):
        assert secret not in source, f"{secret!r} appears in the wall's page"
    strangers = {u for u in requested if not u.startswith((controller.base_url, "blob:", "data:"))}
    assert not strangers, f"the browser fetched from outside the console: {sorted(strangers)[:5]}"
    assert any("/kamera/" in u and "/s/" in u for u in requested), "no HLS segment went through the proxy"


async def test_an_offline_camera_is_marked_offline_within_one_probe_interval(
    controller, live_settings, wall: Wall, page: Page, camera_streams: CameraStreams
):
    await open_wall(page, controller.base_url, wall.supervisor)
    await page.locator("#grid").select_option("1")
    await choose(page, 0, wall.cameras["flaky"])
    tile = page.locator('.wall-slot[data-index="0"] .camera-tile')
    await expect(tile).to_have_attribute("data-status", "online", timeout=10_000)
    interval = live_settings.cameras.probe_interval_s
    camera_streams.set_down(True)
    try:
        went_down = time.monotonic()
        await expect(tile).to_have_attribute("data-status", "offline", timeout=int(interval * 1000) + 1500)
        took = time.monotonic() - went_down
        print(f"\n[wall] camera marked offline {took:.1f} s after it went down (probe interval {interval} s)")
        await expect(tile.locator(".camera-status")).to_have_text(
            re.compile(r"^Mati · terakhir terlihat \d\d/\d\d,? \d\d[.:]\d\d[.:]\d\d WIB")
        )
        assert int(await page.locator("#cameras-down").text_content()) >= 1
    finally:
        camera_streams.set_down(False)
    await expect(tile).to_have_attribute("data-status", "online", timeout=int(interval * 1000) + 3000)


async def cancel_open_tasks(controller, wall: Wall, agency_code: str = "dlh") -> None:
    """Earlier tests of the session may have left this agency incidents near the test cameras: cancel them, so
    "an agency with no incident nearby" holds whatever ran before."""
    supervisor = await http_sign_in(controller.base_url, wall.supervisor)
    try:
        async with supervisor.http.get(f"/api/v1/agency/queue?agency={agency_code}&limit=200") as queue:
            incidents = (await queue.json())["incidents"]
        for incident in incidents:
            async with supervisor.http.post(
                f"/api/v1/incidents/{incident['id']}/tasks/{agency_code}/cancelled",
                json={"reason": "uji kamera: bersihkan"},
                headers={"X-CSRF-Token": supervisor.csrf},
            ) as done:
                assert done.status == 200, await done.text()
    finally:
        await supervisor.http.close()


async def test_a_user_without_rights_gets_no_stream_and_no_url(controller, wall: Wall, camera_streams: CameraStreams):
    await cancel_open_tasks(controller, wall)
    agency = await http_sign_in(controller.base_url, wall.agency)
    anonymous = Identity("anonymous", aiohttp.ClientSession(base_url=controller.base_url))
    try:
        camera = wall.cameras["snapshot"]
        for path in (
            f"/kamera/{camera}/snapshot.jpg",
            f"/kamera/{wall.cameras['hls']}/live.m3u8",
            f"/kamera/{wall.cameras['mjpeg']}/mjpeg",
        ):
            async with agency.http.get(path) as refused:
                assert refused.status == 403, f"{path} as an agency without an incident nearby: {refused.status}"
                assert "image" not in refused.content_type and "mpegurl" not in refused.content_type
            async with anonymous.http.get(path, allow_redirects=False) as refused:
                assert refused.status == 401, f"{path} without a session: {refused.status}"
        async with agency.http.get("/api/v1/cameras") as listed:
            body = await listed.text()
            listed_ids = {c["id"] for c in (await listed.json())["cameras"]}
        assert listed.status == 200 and not listed_ids & {wall.cameras[k] for k in ("hls", "mjpeg", "snapshot")}
        async with agency.http.get(f"/api/v1/cameras/{camera}") as hidden:
            assert hidden.status == 404
        async with agency.http.get("/dinding", allow_redirects=False) as wall_page:
            assert wall_page.status == 403
        async with agency.http.get("/opd") as own_page:
            body += await own_page.text()
        for secret in (camera_streams.password, camera_streams.origin, f"/kamera/{camera}"):
            assert secret not in body, f"{secret!r} reached an agency without rights"
    finally:
        await agency.http.close()
        await anonymous.http.close()


async def _incident(identity: Identity, point: tuple[float, float] | None, kecamatan: str = "Padang Barat") -> int:
    body = {
        "type_code": "flood",
        "priority": 3,
        "kecamatan": kecamatan,
        "description": "uji kamera terdekat",
        "location_text": "uji",
        "agencies": ["bpbd"],
        "source": "walk_in",
    }
    if point is not None:
        body.update(latitude=point[0], longitude=point[1])
    async with identity.http.post("/api/v1/incidents", json=body, headers={"X-CSRF-Token": identity.csrf}) as made:
        assert made.status == 201, await made.text()
        return int((await made.json())["id"])


async def test_an_incident_near_a_test_camera_lists_it_first_and_one_outside_the_radius_does_not(
    controller, live_settings, wall: Wall
):
    supervisor = await http_sign_in(controller.base_url, wall.supervisor)
    try:
        near = await _incident(supervisor, NEAR_INCIDENT)
        far = await _incident(supervisor, FAR_INCIDENT, kecamatan="Bungus Teluk Kabung")
        async with supervisor.http.get(f"/api/v1/incidents/{near}/cameras") as listed:
            data = await listed.json()
        ids = [c["id"] for c in data["cameras"]]
        assert ids[:2] == [wall.cameras["near"], wall.cameras["second"]], data
        assert data["cameras"][0]["distance_m"] < 50 and data["point"]["approximate"] is False
        assert all(c["distance_m"] <= live_settings.cameras.near_radius_m for c in data["cameras"])
        assert "stream_url" not in data["cameras"][0] and data["cameras"][0]["play_url"].startswith("/kamera/")
        async with supervisor.http.get(f"/api/v1/incidents/{far}/cameras") as listed:
            far_ids = [c["id"] for c in (await listed.json())["cameras"]]
        assert wall.cameras["near"] not in far_ids
        async with supervisor.http.get(f"/api/v1/incidents/{near}/cameras?radius_m=100") as narrow:
            assert [c["id"] for c in (await narrow.json())["cameras"]] == [wall.cameras["near"]]
        async with supervisor.http.get(f"/api/v1/incidents/{near}/cameras?radius_m=abc") as bad:
            assert bad.status == 400
    finally:
        await supervisor.http.close()


async def test_an_agency_may_watch_the_cameras_near_its_own_incident(controller, live_settings, wall: Wall):
    await cancel_open_tasks(controller, wall)
    supervisor = await http_sign_in(controller.base_url, wall.supervisor)
    agency = await http_sign_in(controller.base_url, wall.agency)
    try:
        body = {
            "type_code": "pollution",
            "priority": 3,
            "kecamatan": "Padang Barat",
            "description": "uji",
            "location_text": "uji",
            "latitude": NEAR_INCIDENT[0],
            "longitude": NEAR_INCIDENT[1],
            "agencies": ["dlh"],
            "source": "walk_in",
        }
        async with supervisor.http.post(
            "/api/v1/incidents", json=body, headers={"X-CSRF-Token": supervisor.csrf}
        ) as made:
            assert made.status == 201, await made.text()

        async def watchable() -> bool:
            async with agency.http.get(f"/kamera/{wall.cameras['near']}/snapshot.jpg") as r:
                return r.status == 200 and (await r.read()).startswith(b"\xff\xd8")

        await eventually(watchable, timeout=8, what="the agency's access to the camera near its incident")
        async with agency.http.get(f"/kamera/{wall.cameras['hls']}/live.m3u8") as still_refused:
            assert still_refused.status == 403  # far from any of its incidents
    finally:
        await supervisor.http.close()
        await agency.http.close()


async def test_an_admin_registers_a_camera_in_the_page_and_sees_its_url_only_masked(
    controller, live_settings, page: Page
):
    password = secrets.token_urlsafe(12)
    admin = f"wall-admin-{secrets.token_hex(3)}"
    add_account(live_settings, admin, "admin", password)
    await sign_in(page, controller.base_url, admin, password)
    await page.wait_for_url("**/supervisor")
    await expect(page.locator("#cameras-down-line")).to_have_text(re.compile(r"^Kamera mati: \d+ dari \d+$"))
    await page.goto(controller.base_url + "/admin/kamera")
    form = page.locator("#camera-form")
    name = f"Pos Banjir {secrets.token_hex(2)}"
    await form.get_by_label("Nama").fill(name)
    await form.get_by_label("Kecamatan").select_option("Kuranji")
    await form.get_by_label("Lintang").fill("-6.2")  # Jakarta: refused
    await form.get_by_label("Bujur").fill("100.40")
    await form.get_by_label("Jenis kamera").select_option("flood_gauge")
    await form.get_by_label("Jenis stream").select_option("rtsp")
    await form.get_by_label("Alamat stream").fill("rtsp://admin:Sangat-Rahasia-9@10.20.0.7:554/stream1")
    await form.get_by_role("button", name="Tambah kamera").click()
    await expect(page.locator("#form-errors")).to_contain_text("latitude: Koordinat di luar wilayah Kota Padang.")
    await form.get_by_label("Lintang").fill("-0.91")
    await form.get_by_role("button", name="Tambah kamera").click()
    await expect(page.locator("#form-state")).to_have_text("Kamera ditambahkan")
    row = page.locator("#cameras tbody tr").filter(has_text=name)
    await expect(row).to_contain_text("rtsp://admin:***@10.20.0.7:554/stream1")
    await expect(row).to_contain_text("Pantauan banjir")
    assert "Sangat-Rahasia-9" not in await page.content()
    await row.get_by_role("button", name="Nonaktifkan").click()
    await expect(row).to_contain_text("Nonaktif")


async def test_the_incident_views_show_live_tiles_of_the_nearest_cameras_and_the_map_shows_cameras(
    controller, live_settings, wall: Wall, page: Page, more_pages
):
    """Supervisor's open incidents, the agency's card and the dashboard map: each shows the camera near the incident."""
    await cancel_open_tasks(controller, wall)
    supervisor = await http_sign_in(controller.base_url, wall.supervisor)
    try:
        body = {
            "type_code": "pollution",
            "priority": 3,
            "kecamatan": "Padang Barat",
            "description": "asap pabrik",
            "location_text": "uji kamera",
            "latitude": NEAR_INCIDENT[0],
            "longitude": NEAR_INCIDENT[1],
            "agencies": ["dlh"],
            "source": "walk_in",
        }
        async with supervisor.http.post(
            "/api/v1/incidents", json=body, headers={"X-CSRF-Token": supervisor.csrf}
        ) as made:
            incident = await made.json()
    finally:
        await supervisor.http.close()

    await sign_in(page, controller.base_url, wall.supervisor.username, wall.supervisor.password)
    await page.wait_for_url("**/supervisor")
    row = page.locator("#open-incidents tbody tr").filter(has_text=incident["number"])
    await row.get_by_role("button", name="Kamera terdekat").click()
    panel = page.locator("#incident-cameras")
    await expect(panel).to_contain_text(f"Kamera terdekat · {incident['number']}")
    near = panel.locator(f'.camera-tile[data-camera-id="{wall.cameras["near"]}"]')
    await expect(near).to_have_attribute("data-status", "online", timeout=10_000)
    selector = f'#incident-cameras .camera-tile[data-camera-id="{wall.cameras["near"]}"] img'
    await page.wait_for_function(
        "s => { const img = document.querySelector(s); return !!img && img.naturalWidth > 0; }",
        arg=selector,
        timeout=10_000,
    )  # a decoded frame in the incident's tile

    agency = await more_pages("dlh")
    await sign_in(agency, controller.base_url, wall.agency.username, wall.agency.password)
    await agency.wait_for_url("**/opd")
    card = agency.locator(f'article[data-number="{incident["number"]}"]')
    await card.get_by_role("button", name="Kamera terdekat").click()
    await expect(
        agency.locator(f'#incident-cameras .camera-tile[data-camera-id="{wall.cameras["near"]}"]')
    ).to_be_visible()

    await page.goto(controller.base_url + "/dasbor")
    await expect(page.locator(f'.camera-marker[data-camera-id="{wall.cameras["near"]}"]')).to_have_count(1)
    await expect(page.locator(f'.leaflet-marker-icon[data-number="{incident["number"]}"]')).to_have_count(1)


async def test_the_wall_kiosk_account_lands_on_the_wall_and_sees_nothing_else(
    controller, live_settings, wall: Wall, page: Page
):
    password = secrets.token_urlsafe(12)
    add_account(live_settings, "layar-dinding", "wall", password)
    await sign_in(page, controller.base_url, "layar-dinding", password)
    await page.wait_for_url("**/dinding")
    await page.locator("#wall[data-ready]").wait_for(state="attached")
    await expect(page.locator("#open-incidents")).not_to_have_text("")
    for path in ("/supervisor", "/riwayat", "/kursi", "/api/v1/room"):
        response = await page.request.get(controller.base_url + path, max_redirects=0)
        assert response.status == 403, f"{path} as the wall: {response.status}"
