"""``make demo``'s living room against the live test stack: ``padang112 simulate --room`` (simulated call takers,
agency operators, citizens some of whom give up, demo cameras at Padang places), then each role signs in with
Chromium and sees live data within two minutes: supervisor, call taker (at a free seat), dashboard and map, the
video wall, an agency queue and the report. The pages are photographed into ``artefacts/.../demo/``
(``docs/screenshots/`` holds a copy).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from padang112.simulator.camera_feeds import PADANG_CAMERAS
from tests.fixtures.controller import eventually
from tests.integration.test_call_taker_console import take_seat
from tests.integration.test_console_page import add_account, sign_in

pytestmark = [pytest.mark.live, pytest.mark.leaves_room_busy]

LIVE_WITHIN_S = 120


def start_room(live_settings, seats: list[str], log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PADANG112_CONFIG=str(live_settings.config_path))
    args = ["--room", "--seat-names", ",".join(seats), "--free-seats", "1", "--rate", "20"]
    args += ["--impatient", "0.5", "--burst", "6", "--burst-every", "40", "--log", str(log.with_suffix(".engine.log"))]
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "padang112.cli", "simulate", *args], env=env, stdout=out, stderr=subprocess.STDOUT
        )


async def shot(page: Page, folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(folder / f"{name}.png"))


async def test_within_two_minutes_of_the_demo_every_role_sees_a_living_room(
    controller, live_settings, seat_pool, page: Page, more_pages, artefacts_dir: Path
):
    seats = seat_pool(5)  # four simulated call takers, one seat free for a person
    password = secrets.token_urlsafe(12)
    for user, role, agency in (("sup_demo", "supervisor", None), ("ct_demo", "call_taker", None)):
        add_account(live_settings, user, role, password, agency)
    add_account(live_settings, "layar_demo", "wall", password)
    started = time.monotonic()
    room = start_room(live_settings, seats, artefacts_dir / "demo-room.log")
    folder = artefacts_dir / "demo"
    try:
        supervisor = page
        await sign_in(supervisor, controller.base_url, "sup_demo", password)
        await supervisor.wait_for_url("**/supervisor")
        base = controller.base_url

        async def room_alive() -> bool:
            incidents = await (await supervisor.request.get(f"{base}/api/v1/incidents?limit=200")).json()
            cameras = await (await supervisor.request.get(f"{base}/api/v1/cameras")).json()
            callbacks = await (await supervisor.request.get(f"{base}/api/v1/callbacks?limit=1")).json()
            ours = [i for i in incidents["incidents"] if i["created_by"].startswith("demo-")]
            worked = [t for i in ours for t in i["tasks"] if t["state"] != "dispatched"]
            online = {c["name"] for c in cameras["cameras"] if c["status"] == "online"}
            return bool(worked) and {c.name for c in PADANG_CAMERAS} <= online and callbacks["total"] > 0

        await eventually(room_alive, LIVE_WITHIN_S, 2.0, "demo incidents worked by agencies, cameras, call-backs")
        alive_s = time.monotonic() - started
        print(f"\n[measure] demo room alive (incidents acknowledged, 6 cameras online, call-backs): {alive_s:.0f} s")
        assert room.poll() is None, "the demo room stopped"

        await expect(supervisor.locator("#seats tbody tr")).not_to_have_count(0)
        await expect(supervisor.locator("#open-incidents tbody tr").first).to_be_visible()
        await expect(supervisor.locator("#callbacks tbody tr").first).to_be_visible()
        await shot(supervisor, folder, "supervisor")

        await supervisor.goto(f"{base}/dasbor")
        await expect(supervisor.locator(".leaflet-marker-icon[data-number]").first).to_be_visible()  # incidents
        await expect(supervisor.locator(".camera-marker").first).to_be_visible()
        await shot(supervisor, folder, "dashboard")
        await supervisor.goto(f"{base}/laporan")
        await expect(supervisor.locator('[data-figure="offered"]')).not_to_have_text("0")
        await expect(supervisor.locator("#incident-types tr").first).to_be_visible()
        await shot(supervisor, folder, "report")

        wall = await more_pages("wall")
        await sign_in(wall, base, "layar_demo", password)
        await wall.wait_for_url("**/dinding")
        await expect(wall.locator('.camera-tile[data-status="online"]')).not_to_have_count(0, timeout=15000)
        await asyncio.sleep(3)  # let the tiles draw a few frames
        await shot(wall, folder, "wall")

        call_taker = await more_pages("call_taker")
        await take_seat(call_taker, base, "ct_demo", password, seats[-1])  # the seat left free for a person
        await expect(call_taker.locator("#pop")).to_be_visible(timeout=60000)  # the room's callers reach us too
        await expect(call_taker.locator("#seat-state")).not_to_have_text("Tidak aktif")  # the seat works
        await shot(call_taker, folder, "call_taker")

        dashboard = await (await supervisor.request.get(f"{base}/api/v1/dashboard")).json()
        busiest = max(dashboard["open"]["by_agency"], key=lambda a: a["open"])["agency"]
        add_account(live_settings, "opd_demo", "agency", password, busiest)
        agency = await more_pages("agency")
        await sign_in(agency, base, "opd_demo", password)
        await agency.wait_for_url("**/opd")
        await expect(agency.locator("article.incident-card").first).to_be_visible()
        await shot(agency, folder, "agency")
    finally:
        room.send_signal(signal.SIGINT)
        try:
            room.wait(timeout=30)
        except subprocess.TimeoutExpired:
            room.kill()
            room.wait()
    assert room.returncode == 0
