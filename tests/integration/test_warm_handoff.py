"""Warm hand-off in Chromium: the call taker conferences BPBD's duty phone into a call, then leaves it to BPBD.

The duty phone plays 700 Hz: the caller's own recording proves they heard the agency, and the call stays up
after the call taker's phone has hung up, and across a controller restart. Only agency duty phones can be
brought in.
"""

from __future__ import annotations

import asyncio
import secrets

import pytest
from playwright.async_api import Page, expect

from padang112.runtime import ESCALATION_INTERVAL_S
from padang112.simulator import fleet, tones
from tests.fixtures.controller import eventually
from tests.integration.test_call_path import call_of
from tests.integration.test_call_taker_console import take_seat
from tests.integration.test_console_page import add_account, sign_in

pytestmark = pytest.mark.live

AGENCY_HZ = 700


async def acknowledge_open_tasks(agency_page: Page, base: str) -> int:
    """The agency operator presses Terima on every task the session's earlier tests left waiting: an escalated one
    has the duty line ring the agency's duty phone every few seconds, which would take the phone this test brings
    into its call (the hand-off would find it busy). Returns how many were acknowledged."""
    csrf = await agency_page.evaluate("JSON.parse(document.getElementById('csrf').textContent)")
    done = 0
    while True:
        queue = await (await agency_page.request.get(f"{base}/api/v1/agency/queue?limit=50")).json()
        waiting = [
            i
            for i in queue["incidents"]
            for t in i["tasks"]
            if t["agency"] == queue["agency"] and t["state"] == "dispatched"
        ]
        if not waiting:
            return done
        for incident in waiting:
            url = f"{base}/api/v1/incidents/{incident['id']}/tasks/{queue['agency']}/acknowledged"
            answer = await agency_page.request.post(url, headers={"X-CSRF-Token": csrf})
            assert answer.status == 200, await answer.text()
            done += 1


async def test_a_call_taker_hands_a_caller_over_to_bpbd_and_leaves_the_call_up(
    controller, repo, live_settings, seat_phones, simulator, seat_pool, page: Page, more_pages, tmp_path
):
    (seat,) = seat_pool(1)
    password = secrets.token_urlsafe(12)
    add_account(live_settings, "ct_handoff", "call_taker", password)
    add_account(live_settings, "op_bpbd_h", "agency", password, agency="bpbd")
    agency_page = await more_pages("bpbd")
    await sign_in(agency_page, controller.base_url, "op_bpbd_h", password)
    await agency_page.wait_for_url("**/opd")
    if await acknowledge_open_tasks(agency_page, controller.base_url):
        await asyncio.sleep(ESCALATION_INTERVAL_S + 1)  # the escalation watch tells the duty line at its next round

    await take_seat(page, controller.base_url, "ct_handoff", password, seat)
    phones = await seat_phones([seat], answer_after=0.3)
    duty = live_settings.duty_phones["bpbd"]
    duty_phone = (await seat_phones([duty], answer_after=0.5, tone_hz=AGENCY_HZ))[duty]
    await expect(page.locator("#seat-state")).to_have_text("Siap")

    citizen = await simulator("citizen-handoff")
    caller = "+6281355000001"
    await citizen.call(
        "h1",
        fleet.target_uri(live_settings),
        bind=fleet.carrier_address(live_settings, "xl"),
        caller=caller,
        record=tmp_path / "caller.wav",
    )
    await expect(page.locator("#pop-title")).to_have_text("Terhubung")
    call = await eventually(lambda: call_of(repo, caller, "connected"), 10, what="call connected")

    csrf = await page.evaluate("JSON.parse(document.getElementById('csrf').textContent)")
    created = await page.request.post(
        f"{controller.base_url}/api/v1/incidents",
        headers={"X-CSRF-Token": csrf},
        data={
            "type_code": "flood",
            "priority": 2,
            "kecamatan": "Kuranji",
            "location_text": "Jl. Kuranji",
            "description": "banjir",
            "agencies": ["bpbd"],
            "call_id": call.id,
            "callback_number": caller,
        },
    )
    assert created.status == 201, await created.text()
    number = (await created.json())["number"]

    refused = await page.request.post(
        f"{controller.base_url}/api/v1/calls/{call.id}/handoff",
        headers={"X-CSRF-Token": csrf},
        data={"agency": "police"},
    )
    assert refused.status == 400  # only the seven agencies' duty phones exist to be dialled
    early = await page.request.post(
        f"{controller.base_url}/api/v1/calls/{call.id}/leave", headers={"X-CSRF-Token": csrf}
    )
    assert early.status == 409  # nobody to leave the caller with yet

    panel = page.locator("#handoff")
    await panel.get_by_label("OPD tujuan").select_option("bpbd")
    await panel.get_by_role("button", name="Sambungkan").click()
    await duty_phone.wait_event(lambda e: e.get("event") == "seat_media" and e.get("seat") == duty, 15)
    await expect(panel.locator("#handoff-status")).to_have_text("OPD tersambung: bicara bertiga")
    await expect(agency_page.locator("#alerts")).to_contain_text(f"Panggilan diserahkan dari 112: {caller}")
    await expect(agency_page.locator(f'article.handed-over[data-number="{number}"]')).to_be_visible()

    await asyncio.sleep(2.0)  # three-way: the caller hears the agency
    await panel.get_by_role("button", name="Tinggalkan panggilan").click()
    await phones[seat].wait_event(lambda e: e.get("event") == "seat_call_ended" and e.get("seat") == seat, 10)
    await expect(page.locator("#seat-state")).not_to_have_text("Terhubung")
    transferred = await eventually(lambda: call_of(repo, caller, "transferred"), 10, what="call transferred")
    assert transferred.id == call.id
    assert not citizen.events(pred=lambda e: e.get("call") == "h1" and e.get("state") == "DISCONNECTED")

    await asyncio.sleep(2.0)  # the caller and BPBD alone
    controller.stop()  # an update restarts the controller mid hand-off...
    await controller.start()
    await asyncio.sleep(2.0)  # ...the reconcile keeps the call transferred: not queued, nobody's seat rung
    assert (await repo.get_call(call.id)).state == "transferred"
    assert not citizen.events(pred=lambda e: e.get("call") == "h1" and e.get("state") == "DISCONNECTED")
    assert not phones[seat].events(pred=lambda e: e.get("event") == "seat_ringing" and e.get("n", 1) > 1)
    await citizen.hangup("h1")
    await duty_phone.wait_event(lambda e: e.get("event") == "seat_call_ended" and e.get("seat") == duty, 10)
    ended = await eventually(lambda: call_of(repo, caller, "ended"), 10, what="call ended")
    assert ended.ended_by == "caller"
    events = await repo.call_events(call.id)
    stages = [e.data.get("stage") for e in events if e.kind == "handoff"]
    assert stages == ["dialing", "joined", "seat_left"]
    assert [e.to_state for e in events if e.to_state][-2:] == ["transferred", "ended"]
    await citizen.wait_call_state("h1", "DISCONNECTED", 10)
    assert tones.contains_tone(tmp_path / "caller.wav", AGENCY_HZ), "the caller never heard the agency"
