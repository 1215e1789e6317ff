"""From a call to the agencies and back, in Chromium: a flood reported by phone, handled by BPBD and PUPR."""

from __future__ import annotations

import re
import secrets
import time

import pytest
from playwright.async_api import Page, expect

from padang112.simulator import fleet
from tests.integration.test_call_taker_console import take_seat
from tests.integration.test_console_page import add_account, sign_in

pytestmark = pytest.mark.live


async def test_a_flood_call_reaches_bpbd_and_pupr_within_a_second_and_is_closed_when_both_resolve(
    controller, live_settings, seat_phones, simulator, seat_pool, page: Page, more_pages
):
    (seat,) = seat_pool(1)
    password = secrets.token_urlsafe(12)
    add_account(live_settings, "ct_flood", "call_taker", password)
    add_account(live_settings, "op_bpbd", "agency", password, agency="bpbd")
    add_account(live_settings, "op_pupr", "agency", password, agency="pupr")
    add_account(live_settings, "sup_flood", "supervisor", password)

    bpbd, pupr, sup = await more_pages("bpbd"), await more_pages("pupr"), await more_pages("supervisor")
    for tab, user in ((bpbd, "op_bpbd"), (pupr, "op_pupr"), (sup, "sup_flood")):
        await sign_in(tab, controller.base_url, user, password)
    await bpbd.wait_for_url("**/opd")
    await pupr.wait_for_url("**/opd")

    await take_seat(page, controller.base_url, "ct_flood", password, seat)
    await seat_phones([seat], answer_after=0.3)
    citizen = await simulator("citizen")
    caller = "+6281900000001"
    await citizen.call(
        "f1", fleet.target_uri(live_settings), bind=fleet.carrier_address(live_settings, "telkomsel"), caller=caller
    )
    await expect(page.locator("#pop-title")).to_have_text("Terhubung")

    form = page.locator("#incident-form")
    await form.get_by_label("Jenis kejadian").select_option("flood")
    await expect(form.locator("input[value=bpbd]")).to_be_checked()
    await expect(form.locator("input[value=pupr]")).to_be_checked()
    await form.get_by_label("Kecamatan").select_option("Kuranji")
    await form.get_by_label("Korban").fill("2")
    await form.get_by_label("Keterangan").fill("air setinggi lutut masuk rumah, 2 lansia")
    await form.get_by_role("button", name="Kirim ke OPD").click()
    sent = time.monotonic()
    number = page.locator("#incident-number")
    await expect(number).to_have_text(re.compile(r"^112-\d{8}-\d{4}$"))
    incident_number = await number.text_content()

    for tab in (bpbd, pupr):
        await expect(tab.locator(f'article[data-number="{incident_number}"]')).to_be_visible(timeout=2000)
    elapsed = time.monotonic() - sent
    print(f"[measure] Kirim ke OPD -> card visible in both agency queues: {elapsed * 1000:.0f} ms")
    assert elapsed < 1.0, "agency queues were not updated within a second of dispatch"

    open_row = sup.locator("#open-incidents tbody tr").filter(has_text=incident_number)
    await expect(open_row).to_contain_text("BPBD: Dikirim")  # the supervisor's overview of open incidents

    card_bpbd = bpbd.locator(f'article[data-number="{incident_number}"]')
    await card_bpbd.get_by_role("button", name="Terima").click()
    await expect(page.locator("#incident-tasks")).to_contain_text("BPBD: Terima")
    for step in ("Dalam perjalanan", "Di lokasi", "Selesai"):
        await card_bpbd.get_by_role("button", name=step).click()
        await expect(page.locator("#incident-tasks")).to_contain_text(f"BPBD: {step}")
    card_pupr = pupr.locator(f'article[data-number="{incident_number}"]')
    await card_pupr.get_by_role("button", name="Terima").click()
    await card_pupr.get_by_role("button", name="Selesai").click()
    await expect(page.locator("#incident-tasks")).to_contain_text("Dinas PUPR: Selesai")
    await expect(bpbd.locator(f'article[data-number="{incident_number}"]')).to_have_count(0)
    await expect(open_row).to_have_count(0)  # closed: gone from the supervisor's open incidents

    incident_id = await page.locator("#incident-result").get_attribute("data-incident-id")
    response = await sup.request.get(f"{controller.base_url}/api/v1/incidents/{incident_id}")
    assert response.ok
    incident = await response.json()
    assert incident["state"] == "closed" and incident["call_id"] and incident["kecamatan"] == "Kuranji"
    assert {t["agency"]: t["state"] for t in incident["tasks"]} == {"bpbd": "resolved", "pupr": "resolved"}
    who = {(e.get("agency"), e.get("to_state")): e.get("by") for e in incident["events"]}
    assert who[("bpbd", "acknowledged")] == "op_bpbd" and who[("pupr", "resolved")] == "op_pupr"
    await citizen.hangup("f1")
