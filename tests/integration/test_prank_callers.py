"""Prank history: a number marked prank twice waits behind genuine callers, hears a warning, is still answered."""

from __future__ import annotations

import secrets

import pytest
from playwright.async_api import Page

from padang112.simulator import fleet
from padang112.storage.repository import Repository
from tests.fixtures.controller import eventually, seat_is
from tests.integration.test_console_page import add_account, sign_in

pytestmark = pytest.mark.live


async def calls_of(repo: Repository, number: str) -> list:
    return [c for c in await repo.recent_calls(300) if c.caller_number == number]


async def test_a_number_marked_prank_twice_is_queued_behind_a_genuine_caller_and_still_answered(
    controller, repo, live_settings, seat_phones, simulator, seat_pool, page: Page
):
    first_seat, later_seat = seat_pool(2)
    password = secrets.token_urlsafe(12)
    add_account(live_settings, "sup_prank", "supervisor", password)
    await sign_in(page, controller.base_url, "sup_prank", password)
    await page.wait_for_url("**/supervisor")
    csrf = await page.evaluate("JSON.parse(document.getElementById('csrf').textContent)")

    prankster, genuine = "+6281990000001", "+6281990000002"
    target, bind = fleet.target_uri(live_settings), fleet.carrier_address(live_settings, "smartfren")
    phones = await seat_phones([first_seat], answer_after=0.3, hangup_after=0.5)
    citizen = await simulator("citizen")
    for i in range(2):
        await citizen.call(f"k{i}", target, bind=bind, caller=prankster)
        await citizen.wait_call_state(f"k{i}", "DISCONNECTED", 15)
        ended = await eventually(lambda: _ended_count(repo, prankster, i + 1), 10, what="prank call stored")
        response = await page.request.post(
            f"{controller.base_url}/api/v1/calls/{ended.id}/disposition",
            headers={"X-CSRF-Token": csrf},
            data={"disposition": "prank"},
        )
        assert response.ok, await response.text()
    await phones[first_seat].unregister(first_seat)
    await eventually(lambda: seat_is(repo, first_seat, "offline"), 10, what="the seat offline after its wrap-up")

    await citizen.call("p", target, bind=bind, caller=prankster)  # the prankster calls first...
    await eventually(lambda: _queued(repo, prankster), 10, what="the prankster waiting")
    await citizen.call("g", target, bind=bind, caller=genuine)  # ...a genuine caller after them
    await eventually(lambda: _queued(repo, genuine), 10, what="genuine caller waiting")
    await seat_phones([later_seat], answer_after=0.3, hangup_after=1.0)

    served = await eventually(lambda: _ended_count(repo, genuine, 1), 20, what="genuine caller served")
    flagged = await eventually(lambda: _ended_count(repo, prankster, 3), 30, what="prankster still answered")
    assert served.connected_at < flagged.connected_at, "the flagged caller was served before the genuine one"
    received = [e for e in await repo.call_events(flagged.id) if e.to_state == "received"]
    assert received[0].data.get("flagged") is True


async def _ended_count(repo: Repository, number: str, count: int):
    ended = [c for c in await calls_of(repo, number) if c.state == "ended"]
    return max(ended, key=lambda c: c.received_at) if len(ended) >= count else None


async def _queued(repo: Repository, number: str):
    return [c for c in await calls_of(repo, number) if c.state == "queued"]
