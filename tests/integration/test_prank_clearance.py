"""In Chromium: a call taker clears a flagged number from the screen-pop ("Hapus tanda iseng"); its next call is not
flagged (no warning, queued normally), also after a controller restart; prank marks given after the clearance count."""

from __future__ import annotations

import secrets

import pytest
from playwright.async_api import Page, expect

from padang112.simulator import fleet
from padang112.storage.repository import Repository
from tests.fixtures.controller import eventually
from tests.integration.test_call_path import call_of
from tests.integration.test_call_taker_console import take_seat
from tests.integration.test_console_page import add_account, sign_in

pytestmark = pytest.mark.live

NUMBER = "+6281990000077"


async def flagged_on_arrival(repo: Repository, call_id: str) -> bool:
    received = [e for e in await repo.call_events(call_id) if e.to_state == "received"]
    return received[0].data.get("flagged") is True


async def test_a_cleared_number_is_no_longer_flagged_also_after_a_restart(
    controller, repo, live_settings, seat_phones, simulator, seat_pool, page: Page, more_pages
):
    (seat,) = seat_pool(1)
    tag = secrets.token_hex(2)
    password = secrets.token_urlsafe(12)
    ct, sup = f"ct_clear{tag}", f"sup_clear{tag}"
    add_account(live_settings, ct, "call_taker", password)
    add_account(live_settings, sup, "supervisor", password)
    supervisor = await more_pages("supervisor")
    await sign_in(supervisor, controller.base_url, sup, password)
    await supervisor.wait_for_url("**/supervisor")
    csrf = await supervisor.evaluate("JSON.parse(document.getElementById('csrf').textContent)")

    async def mark_prank(call_id: str) -> None:
        response = await supervisor.request.post(
            f"{controller.base_url}/api/v1/calls/{call_id}/disposition",
            headers={"X-CSRF-Token": csrf},
            data={"disposition": "prank"},
        )
        assert response.ok, await response.text()

    async def score() -> dict:
        response = await supervisor.request.post(
            f"{controller.base_url}/api/v1/prank-scores", headers={"X-CSRF-Token": csrf}, data={"number": NUMBER}
        )
        assert response.ok, await response.text()
        return await response.json()

    await take_seat(page, controller.base_url, ct, password, seat)
    await seat_phones([seat], answer_after=0.3)
    citizen = await simulator("citizen")
    target, bind = fleet.target_uri(live_settings), fleet.carrier_address(live_settings, "indosat")

    async def call(name: str, state: str) -> str:
        await citizen.call(name, target, bind=bind, caller=NUMBER)
        stored = await eventually(lambda: call_of(repo, NUMBER, state), 20, what=f"call {name} {state}")
        return stored.id

    async def hang_up(name: str, call_id: str) -> None:
        await citizen.hangup(name)
        await citizen.wait_call_state(name, "DISCONNECTED", 10)
        await eventually(lambda: _ended(repo, call_id), 10, what=f"call {name} ended")

    for i in range(2):  # two prank marks: the number is flagged
        call_id = await call(f"k{i}", "connected")
        await hang_up(f"k{i}", call_id)
        await mark_prank(call_id)
    assert (await score())["flagged"] is True

    flagged_call = await call("k2", "connected")  # flagged: warning, then the seat; the badge offers to clear
    assert await flagged_on_arrival(repo, flagged_call)
    await expect(page.locator("#pop-prank")).to_be_visible()
    await page.get_by_role("button", name="Hapus tanda iseng").click()
    await expect(page.locator("#pop-prank-cleared")).to_be_visible()
    await expect(page.get_by_role("button", name="Hapus tanda iseng")).to_be_hidden()
    after = await score()
    assert after["flagged"] is False and after["cleared_at"].endswith("+07:00")
    await hang_up("k2", flagged_call)

    next_call = await call("k3", "connected")  # not flagged: no warning, queued like anyone
    assert not await flagged_on_arrival(repo, next_call)
    await expect(page.locator("#pop-history li")).to_have_count(3)  # the history message has arrived...
    await expect(page.locator("#pop-prank")).to_be_hidden()  # ...and shows no prank badge
    await hang_up("k3", next_call)

    controller.stop()
    await controller.start()
    await citizen.call("k4", target, bind=bind, caller=NUMBER)  # no seat may be ready yet: it is enough to arrive
    after_restart = await eventually(lambda: _newest_other_than(repo, next_call), 20, what="call after restart")
    assert not await flagged_on_arrival(repo, after_restart.id), "the clearance did not survive the restart"
    assert (await score())["flagged"] is False
    await citizen.hangup("k4")
    await citizen.wait_call_state("k4", "DISCONNECTED", 10)

    for call_id in (next_call, after_restart.id):  # marks after the clearance count again
        await mark_prank(call_id)
    assert (await score())["flagged"] is True


async def _ended(repo: Repository, call_id: str):
    stored = await repo.get_call(call_id)
    return stored if stored and stored.state in ("ended", "abandoned") else None


async def _newest_other_than(repo: Repository, call_id: str):
    stored = await call_of(repo, NUMBER)
    return stored if stored and stored.id != call_id else None
