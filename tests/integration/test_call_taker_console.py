"""The call taker's screen in Chromium: screen-pop on ring, timer on answer, disposition, reload mid-call."""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.async_api import Page, expect

from padang112.simulator import fleet
from tests.fixtures.controller import eventually
from tests.integration.test_call_path import call_of
from tests.integration.test_console_page import add_account, sign_in

pytestmark = pytest.mark.live

# Records, in the page's own clock (same machine as the simulator), when the screen-pop became visible.
WATCH_POP = """() => new Promise((ready) => {
  const pop = document.getElementById("pop");
  new MutationObserver(() => { if (!pop.hidden && !window.__popAt) window.__popAt = Date.now(); })
    .observe(pop, {attributes: true, subtree: true, childList: true, characterData: true});
  ready(true);
})"""


async def take_seat(page: Page, base_url: str, user: str, password: str, seat: str) -> None:
    await sign_in(page, base_url, user, password)
    await page.wait_for_url("**/kursi")
    await page.get_by_label("Kursi").select_option(seat)
    await page.get_by_role("button", name="Ambil kursi").click()
    await expect(page.locator("#seat-id")).to_have_text(seat)


async def test_the_call_taker_sees_the_screen_pop_within_a_second_of_the_ring_then_the_timer_and_saves_a_disposition(
    controller, repo, live_settings, seat_phones, simulator, seat_pool, page: Page
):
    (seat,) = seat_pool(1)
    password = secrets.token_urlsafe(12)
    add_account(live_settings, f"ct{seat}", "call_taker", password)
    await take_seat(page, controller.base_url, f"ct{seat}", password, seat)
    phones = await seat_phones([seat], answer_after=1.5)
    await expect(page.locator("#seat-state")).to_have_text("Siap")
    await page.evaluate(WATCH_POP)

    citizen = await simulator("citizen")
    caller = "+6281700000001"
    await citizen.call(
        "p1",
        fleet.target_uri(live_settings),
        bind=fleet.carrier_address(live_settings, "telkomsel"),
        caller=caller,
        caller_name="Ibu Rahmi",
    )
    ring = await phones[seat].wait_event(lambda e: e.get("event") == "seat_ringing", 10)
    await expect(page.locator("#pop-number")).to_have_text(caller)
    await expect(page.locator("#pop-carrier")).to_have_text("telkomsel")
    pop_at = await page.evaluate("window.__popAt") / 1000
    assert pop_at - ring["t"] < 1.0, f"screen-pop {pop_at - ring['t']:.3f} s after the seat's phone rang"

    await expect(page.locator("#pop-title")).to_have_text("Terhubung")
    await expect(page.locator("#pop-timer")).to_have_text(re.compile(r"^00:\d\d$"))
    await page.reload()  # the browser reloads mid-call: the call comes back
    await expect(page.locator("#pop-number")).to_have_text(caller)
    await expect(page.locator("#pop-title")).to_have_text("Terhubung")

    await page.get_by_role("button", name="Panggilan iseng").click()
    await expect(page.locator("#disposition-saved")).to_be_visible()
    await citizen.hangup("p1")
    stored = await eventually(lambda: call_of(repo, caller, "ended"), 10, what="call ended")
    assert stored.disposition == "prank"
    notes = [e for e in await repo.call_events(stored.id) if e.kind == "disposition"]
    assert notes and notes[0].data["by"] == f"ct{seat}"
