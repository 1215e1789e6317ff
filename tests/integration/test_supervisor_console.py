"""The supervisor's screen in Chromium: a caller waiting then connected, alerts, pausing a seat."""

from __future__ import annotations

import secrets

import pytest
from playwright.async_api import Page, expect

from padang112.accounts.users import UserStore
from padang112.simulator import fleet
from padang112.storage.db import create_engine
from tests.fixtures.controller import eventually
from tests.integration.test_call_path import call_of
from tests.integration.test_console_page import add_account, sign_in

pytestmark = pytest.mark.live


async def test_the_supervisor_sees_a_caller_wait_with_an_alert_then_connect_and_can_pause_the_seat(
    controller, asterisk, live_settings, seat_phones, simulator, seat_pool, page: Page
):
    (seat,) = seat_pool(1)
    password = secrets.token_urlsafe(12)
    add_account(live_settings, "pakjoni", "supervisor", password)
    await sign_in(page, controller.base_url, "pakjoni", password)
    await page.wait_for_url("**/supervisor")

    citizen = await simulator("citizen")
    caller = "+6281800000001"
    await citizen.call(
        "w1", fleet.target_uri(live_settings), bind=fleet.carrier_address(live_settings, "three"), caller=caller
    )
    waiting = page.locator("#waiting tbody tr").filter(has_text=caller)
    await expect(waiting).to_have_count(1)
    await expect(page.locator("#alerts")).to_contain_text("Tidak ada kursi yang siap")
    await expect(page.locator("#alerts")).to_contain_text("lebih dari 15 detik", timeout=20_000)

    await seat_phones([seat], answer_after=0.3)
    active = page.locator("#active tbody tr").filter(has_text=caller)
    await expect(active).to_contain_text("Terhubung")
    await expect(waiting).to_have_count(0)
    await citizen.hangup("w1")
    await expect(active).to_have_count(0)

    row = page.locator("#seats tbody tr").filter(has_text=seat)
    await expect(row).to_contain_text("Siap", timeout=10_000)
    await row.get_by_role("button", name="Jeda").click()
    await expect(row).to_contain_text("Jeda (Istirahat)")
    queue = asterisk.rx(f"queue show {live_settings.calls.fallback_queue}")
    member = next(line for line in queue.splitlines() if f"(PJSIP/{seat})" in line)
    assert "paused" in member.lower(), f"the fallback queue does not show {seat} paused: {member}"


async def test_the_supervisor_finds_a_call_in_the_history_and_its_playback_is_audited(
    controller, repo, live_settings, seat_phones, simulator, seat_pool, page: Page
):
    (seat,) = seat_pool(1)
    password = secrets.token_urlsafe(12)
    add_account(live_settings, "sup2", "supervisor", password)
    await seat_phones([seat], answer_after=0.3, hangup_after=2.0)
    citizen = await simulator("citizen")
    caller = "+6281800000002"
    await citizen.call(
        "h1", fleet.target_uri(live_settings), bind=fleet.carrier_address(live_settings, "xl"), caller=caller
    )
    await citizen.wait_call_state("h1", "DISCONNECTED", 20)
    stored = await eventually(lambda: call_of(repo, caller, "ended"), 10, what="call stored")

    await sign_in(page, controller.base_url, "sup2", password)
    await page.goto(controller.base_url + "/riwayat")
    await page.get_by_label("Nomor").fill(caller)
    await page.get_by_label("Nomor").press("Enter")
    row = page.locator("tr").filter(has_text=caller)
    await expect(row).to_have_count(1)
    audio = row.locator("audio")
    src = await audio.get_attribute("src")
    response = await page.request.get(controller.base_url + src)
    assert response.status == 200 and response.headers["content-type"].startswith("audio/")
    assert (await response.body())[:4] == b"RIFF"
    users = UserStore(create_engine(live_settings.db_url))
    played = [e for e in await users.audit_entries(50) if e.action == "recording_played"]
    assert played and played[0].username == "sup2" and played[0].detail.get("call_id") == stored.id
