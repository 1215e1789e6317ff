"""A controller restart in the middle of a call-back: the switch keeps the call, the new controller takes it back.

A call-back whose two legs talk in their bridge is adopted across an orderly restart (it goes on, and ends
normally: item done, seat given back); one that was still dialling the caller when the controller died is closed
cleanly (legs hung up, item open again with its outcome,
seat given back). Either way nothing of it is left on the switch and no seat stays paused ``callback``.
These tests stop and restart the session's controller; each leaves it running again.
"""

from __future__ import annotations

import secrets

import aiohttp
import pytest
from playwright.async_api import Page, expect

from padang112.simulator import fleet
from tests.fixtures.controller import eventually, seat_is
from tests.integration.test_call_taker_console import take_seat
from tests.integration.test_callbacks import abandon, callback_row
from tests.integration.test_console_page import add_account

pytestmark = pytest.mark.live


async def _switch(ari_credentials, what: str) -> list[str]:
    auth = {"Authorization": aiohttp.encode_basic_auth(ari_credentials["username"], ari_credentials["password"])}
    async with aiohttp.ClientSession(headers=auth) as http, http.get(f"{ari_credentials['url']}/{what}") as r:
        return [item["id"] for item in await r.json()]


async def _nothing_left(ari_credentials, item_id: str):
    channels = [c for c in await _switch(ari_credentials, "channels") if c.startswith(f"cb-{item_id}-")]
    bridges = [b for b in await _switch(ari_credentials, "bridges") if b.startswith(f"bridge-cb-{item_id}-")]
    return (channels, bridges) == ([], []) or None


async def _item(page: Page, base_url: str, item_id: str) -> dict:
    return await (await page.request.get(f"{base_url}/api/v1/callbacks/{item_id}")).json()


async def _start_call_back(page: Page, controller, live_settings, repo, simulator, seat_pool, name: str, caller: str):
    (seat,) = seat_pool(1)
    password = secrets.token_urlsafe(12)
    add_account(live_settings, name, "call_taker", password)
    await take_seat(page, controller.base_url, name, password, seat)
    await abandon(simulator, live_settings, repo, caller, "telkomsel", name)
    row = await callback_row(page, caller)
    await expect(row).to_contain_text("Menunggu", timeout=5000)
    return seat, row, await row.get_attribute("data-callback-id")


async def test_a_call_back_talking_across_a_controller_restart_is_adopted_and_ends_normally(
    controller, repo, live_settings, seat_phones, simulator, seat_pool, ari_credentials, page: Page
):
    caller = "+6281277000101"
    seat, row, item_id = await _start_call_back(
        page, controller, live_settings, repo, simulator, seat_pool, "ct_cbrestart1", caller
    )
    line = await simulator("telkomsel-line-r1")
    listen = f"{fleet.carrier_address(live_settings, 'telkomsel')}:5060"
    await line.add_seat("telkomsel-line-r1", listen=listen, answer_after=0.5, tone_hz=440)
    await seat_phones([seat], answer_after=0.3)
    await expect(page.locator("#seat-state")).to_have_text("Siap")
    await row.get_by_role("button", name="Telepon balik").click()
    await line.wait_event(lambda e: e.get("event") == "seat_media", 15)
    await expect(row).to_contain_text("Tersambung")

    controller.stop()
    await controller.start()
    channels = await _switch(ari_credentials, "channels")
    assert sum(c.startswith(f"cb-{item_id}-") for c in channels) == 2, "the restart dropped the call-back"
    paused = await eventually(lambda: seat_is(repo, seat, "paused"), 10, what="the seat paused again")
    assert paused.reason == "callback"  # still calling back: not offered a 112 call

    await line.seat_hangup("telkomsel-line-r1")  # the caller ends the call: the new controller sees it
    await eventually(lambda: seat_is(repo, seat, "available"), 10, what="the seat given back")
    detail = await _item(page, controller.base_url, item_id)
    assert (detail["state"], detail["last_outcome"]) == ("done", "reached")
    assert [e["kind"] for e in detail["events"]][-2:] == ["connected", "done"]
    await eventually(lambda: _nothing_left(ari_credentials, item_id), 10, what="the call-back's legs and bridge gone")


async def test_a_call_back_still_dialling_the_caller_when_the_controller_dies_is_closed_and_the_seat_given_back(
    controller, repo, live_settings, seat_phones, simulator, seat_pool, ari_credentials, page: Page
):
    caller = "+6281277000102"
    seat, row, item_id = await _start_call_back(
        page, controller, live_settings, repo, simulator, seat_pool, "ct_cbrestart2", caller
    )
    line = await simulator("telkomsel-line-r2")  # the caller's phone rings and is never answered
    listen = f"{fleet.carrier_address(live_settings, 'telkomsel')}:5060"
    await line.add_seat("telkomsel-line-r2", listen=listen, answer_after=None)
    await seat_phones([seat], answer_after=0.3)
    await expect(page.locator("#seat-state")).to_have_text("Siap")
    await row.get_by_role("button", name="Telepon balik").click()
    await line.wait_event(lambda e: e.get("event") == "seat_ringing", 15)

    controller.stop(kill=True)  # dies at once (an orderly stop takes long enough for the caller's ring to time out)
    await controller.start()
    await eventually(lambda: seat_is(repo, seat, "available"), 10, what="the seat given back")
    await eventually(lambda: _nothing_left(ari_credentials, item_id), 10, what="the call-back's legs hung up")
    await line.wait_event(lambda e: e.get("event") == "seat_call_ended", 10)  # the caller's phone stops ringing
    detail = await _item(page, controller.base_url, item_id)
    assert (detail["state"], detail["last_outcome"]) == ("open", "failed")  # on the list again, to be retried
    assert [e["kind"] for e in detail["events"]][-2:] == ["dialing", "attempt_failed"]
