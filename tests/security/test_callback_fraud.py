"""Call-back toll fraud: a call presenting an international premium number hangs up unanswered, and pressing
**Telepon balik** must not make the command center dial it. The attack, against the live stack: refused with the
reason on the call taker's screen, written on the item's trail, and no channel created on the switch."""

from __future__ import annotations

import secrets

import aiohttp
import pytest
from playwright.async_api import Page, expect

from tests.integration.test_call_taker_console import take_seat
from tests.integration.test_callbacks import abandon, callback_row
from tests.integration.test_console_page import add_account

pytestmark = pytest.mark.live


async def channels(ari_credentials) -> list[str]:
    auth = {"Authorization": aiohttp.encode_basic_auth(ari_credentials["username"], ari_credentials["password"])}
    async with aiohttp.ClientSession(headers=auth) as http, http.get(f"{ari_credentials['url']}/channels") as r:
        return [c["id"] for c in await r.json()]


async def test_an_international_premium_caller_id_is_never_called_back(
    controller, repo, live_settings, simulator, seat_phones, seat_pool, ari_credentials, page: Page
):
    (seat,) = seat_pool(1)
    password = secrets.token_urlsafe(12)
    add_account(live_settings, "ct_fraud", "call_taker", password)
    await take_seat(page, controller.base_url, "ct_fraud", password, seat)

    fraud = "+8821234567"  # international networks: a premium-rate range the attacker collects from
    await abandon(simulator, live_settings, repo, fraud, "telkomsel", "fraud1")
    row = await callback_row(page, fraud)
    await expect(row).to_contain_text("Nomor luar negeri: tidak ditelepon balik")  # said before anyone clicks
    await expect(row.get_by_role("button", name="Telepon balik")).to_have_count(0)
    item_id = await row.get_attribute("data-callback-id")

    await seat_phones([seat], answer_after=0.3)
    await expect(page.locator("#seat-state")).to_have_text("Siap")
    before = await channels(ari_credentials)
    csrf = await page.evaluate("JSON.parse(document.getElementById('csrf').textContent)")
    attack = await page.request.post(
        f"{controller.base_url}/api/v1/callbacks/{item_id}/call", headers={"X-CSRF-Token": csrf}
    )
    assert attack.status == 403
    body = await attack.json()
    assert body["error"] == "international_number"
    assert body["message"].startswith("Nomor luar negeri tidak ditelepon balik")

    await expect(page.locator("#seat-state")).to_have_text("Siap")  # the seat is given back at once
    after = await channels(ari_credentials)
    assert not [c for c in after if c.startswith("cb-")], "a call-back channel was created"
    assert len(after) <= len(before)
    detail = await (await page.request.get(f"{controller.base_url}/api/v1/callbacks/{item_id}")).json()
    assert detail["state"] == "open" and detail["attempts"] == 0
    assert detail["events"][-1]["kind"] == "refused"
    assert detail["events"][-1]["by"] == "ct_fraud"
    assert detail["events"][-1]["data"] == {"seat": seat, "reason": "international_number"}
    await expect(row).to_contain_text("ditolak")  # the outcome, live on every call taker's list


async def test_premium_and_short_code_caller_ids_are_refused_too(
    controller, repo, live_settings, simulator, seat_phones, seat_pool, page: Page
):
    (seat,) = seat_pool(1)
    password = secrets.token_urlsafe(12)
    add_account(live_settings, "ct_fraud2", "call_taker", password)
    await take_seat(page, controller.base_url, "ct_fraud2", password, seat)
    attempts = (("08091234567", "premium_number", "fraud2"), ("14045", "short_code", "fraud3"))
    for number, _, name in attempts:
        await abandon(simulator, live_settings, repo, number, "xl", name)
    await seat_phones([seat], answer_after=0.3)
    await expect(page.locator("#seat-state")).to_have_text("Siap")
    csrf = await page.evaluate("JSON.parse(document.getElementById('csrf').textContent)")
    for number, code, _ in attempts:
        row = await callback_row(page, number)
        await expect(row).to_have_count(1)
        item_id = await row.get_attribute("data-callback-id")
        attack = await page.request.post(
            f"{controller.base_url}/api/v1/callbacks/{item_id}/call", headers={"X-CSRF-Token": csrf}
        )
        assert (attack.status, (await attack.json())["error"]) == (403, code)
