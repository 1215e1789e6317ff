"""Abandoned callers go to the callback list; a call taker calls one back over the carrier the caller used.

The caller's side of the call-back is a simulated phone listening on the Telkomsel trunk's own address
(127.0.0.12:5060, the trunk's contact in pjsip.conf): a call-back that arrives there went out over that trunk.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from pathlib import Path

import pytest
from playwright.async_api import Locator, Page, expect

from padang112.simulator import fleet
from padang112.telephony.dial_policy import DialPolicy, DialRefused
from tests.fixtures.controller import eventually
from tests.integration.test_call_path import call_of
from tests.integration.test_call_taker_console import take_seat
from tests.integration.test_console_page import add_account, sign_in

pytestmark = pytest.mark.live


async def abandon(simulator, live_settings, repo, caller: str, carrier: str, name: str):
    """A caller dials 112 while no seat is ready, waits, and hangs up."""
    citizen = await simulator(f"citizen-{name}")
    await citizen.call(
        name, fleet.target_uri(live_settings), bind=fleet.carrier_address(live_settings, carrier), caller=caller
    )
    call = await eventually(lambda: call_of(repo, caller, "queued"), 10, what="caller waiting")
    await citizen.hangup(name)
    await eventually(lambda: call_of(repo, caller, "abandoned"), 10, what="call abandoned")
    return call, citizen


async def callback_row(page: Page, number: str, timeout_s: float = 10.0) -> Locator:
    """The list item of ``number``, paging forward to it as a call taker would: the list shows 10 rows, earliest
    deadline first, and the session's earlier tests leave open items; a new item has the latest deadline."""
    row = page.locator(f'#callbacks tr[data-number="{number}"]')
    label = page.locator("#callbacks-pages .page-label")
    next_page = page.locator("#callbacks-pages button").nth(1)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await row.count():
            return row
        if await next_page.is_visible():
            shown = await label.text_content() or ""
            await next_page.click()
            await expect(label).not_to_have_text(shown)
        else:
            await page.wait_for_timeout(100)
    raise AssertionError(f"no call-back item for the caller on any page after {timeout_s} s")


async def test_an_abandoned_caller_is_listed_and_called_back_over_the_carrier_trunk_it_used(
    controller, repo, live_settings, seat_phones, simulator, seat_pool, page: Page
):
    (seat,) = seat_pool(1)
    password = secrets.token_urlsafe(12)
    add_account(live_settings, "ct_callback", "call_taker", password)
    await take_seat(page, controller.base_url, "ct_callback", password, seat)

    caller = "+6281277000001"
    await abandon(simulator, live_settings, repo, caller, "telkomsel", "cb1")
    row = await callback_row(page, caller)
    await expect(row).to_contain_text("telkomsel", timeout=5000)
    await expect(row).to_contain_text("Menunggu")
    await expect(row.locator("td.deadline")).to_contain_text("lagi")  # 5 minutes to call back
    item_id = await row.get_attribute("data-callback-id")

    line = await simulator("telkomsel-line")  # the caller's phone, reached through the Telkomsel trunk
    await line.add_seat(
        "telkomsel-line",
        listen=f"{fleet.carrier_address(live_settings, 'telkomsel')}:5060",
        answer_after=1.0,
        tone_hz=440,
    )
    await seat_phones([seat], answer_after=0.3)
    await expect(page.locator("#seat-state")).to_have_text("Siap")
    clicked = time.time()
    await row.get_by_role("button", name="Telepon balik").click()

    ringing = await line.wait_event(lambda e: e.get("event") == "seat_ringing", 15)
    print(
        f"\n[measure] Telepon balik -> caller's phone rings over the trunk: {ringing['t'] - clicked:.2f} s "
        "(the seat answers after 0.3 s first)"
    )
    assert ringing["source"].startswith(f"{live_settings.asterisk.bind_address}:{live_settings.asterisk.sip_port}")
    assert "<sip:112@" in ringing["remote"] or "sip:112@" in ringing["remote"]
    await line.wait_event(lambda e: e.get("event") == "seat_media", 10)
    await expect(row).to_contain_text("Tersambung")
    await asyncio.sleep(1.5)  # talk
    await line.seat_hangup("telkomsel-line")
    await expect(row).to_have_count(0)  # done: off the list
    await expect(page.locator("#seat-state")).to_have_text("Siap")  # the seat is given back

    listed = await page.request.get(f"{controller.base_url}/api/v1/callbacks")
    assert caller not in await listed.text()
    detail = await (await page.request.get(f"{controller.base_url}/api/v1/callbacks/{item_id}")).json()
    assert detail["state"] == "done" and detail["last_outcome"] == "reached" and detail["taken_by"] == "ct_callback"
    assert [e["kind"] for e in detail["events"]] == ["created", "dialing", "connected", "done"]
    recording = Path(detail["events"][2]["data"]["recording"])
    await eventually(lambda: _grown(recording), 10, what="call-back recording written")


async def test_a_number_that_calls_again_is_matched_to_its_open_callback(
    controller, repo, live_settings, simulator, seat_phones, seat_pool, page: Page
):
    (seat,) = seat_pool(1)
    password = secrets.token_urlsafe(12)
    add_account(live_settings, "sup_cbmatch", "supervisor", password)
    await sign_in(page, controller.base_url, "sup_cbmatch", password)
    await page.wait_for_url("**/supervisor")
    caller = "+6285677000002"
    await abandon(simulator, live_settings, repo, caller, "indosat", "cb2")
    await abandon(simulator, live_settings, repo, caller, "indosat", "cb3")  # twice: still one item
    row = await callback_row(page, caller)
    await expect(row).to_have_count(1)
    await expect(row.locator("td").nth(2)).to_have_text("2")
    await expect(row.get_by_role("button")).to_have_count(0)  # supervisors watch; call takers call back
    item_id = await row.get_attribute("data-callback-id")

    await seat_phones([seat], answer_after=0.3, hangup_after=1.0)
    citizen = await simulator("citizen-again")
    await citizen.call(
        "again", fleet.target_uri(live_settings), bind=fleet.carrier_address(live_settings, "indosat"), caller=caller
    )
    await expect(row).to_have_count(0)  # it called again and was answered: nobody needs to call back
    detail = await (await page.request.get(f"{controller.base_url}/api/v1/callbacks/{item_id}")).json()
    assert detail["state"] == "matched" and detail["abandoned_calls"] == 2
    assert [e["kind"] for e in detail["events"]] == [
        "created",
        "called_again",
        "abandoned_again",
        "called_again",
        "matched",
    ]


async def test_only_a_number_that_called_in_can_be_called_back(controller, live_settings, repo):
    """The dial policy answers for the controller's own numbers: a stranger's number is never dialled."""
    policy_refuses = []
    policy = DialPolicy(live_settings.duty_phones, {c.name for c in live_settings.carriers}, repo.called_in_over)
    for number, carrier in (("+6281299999999", "telkomsel"), ("+6281277000001", "xl")):
        try:
            await policy.callback(number, carrier)
        except DialRefused as exc:
            policy_refuses.append(exc.code)
    assert policy_refuses == ["never_called", "never_called"]


async def _grown(path: Path):
    return path if path.exists() and path.stat().st_size > 8000 else None
