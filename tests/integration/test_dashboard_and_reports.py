"""The dashboard and the reports against the live stack, in Chromium: a call and two incidents appear on the
dashboard (counts, markers on the map) without a reload, and in the day's report page and CSV.

Other tests of the session may have made calls and incidents today: figures are compared before and after.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
import time
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from padang112.simulator import fleet
from tests.fixtures.controller import eventually
from tests.integration.test_call_path import call_of
from tests.integration.test_console_page import add_account, sign_in

pytestmark = pytest.mark.live

POLLUTION = {
    "type_code": "pollution",
    "priority": 3,
    "kecamatan": "Pauh",
    "latitude": -0.93,
    "longitude": 100.44,
    "description": "<img src=x onerror=window.__pwned=1> limbah di Batang Kuranji",
    "agencies": ["dlh"],
}
FALLEN_TREE = {
    "type_code": "fallen_tree",
    "priority": 3,
    "kecamatan": "Bungus Teluk Kabung",
    "description": "pohon tumbang menutup jalan",
    "agencies": ["dlh", "damkar"],
}


async def report_csv(page: Page, base_url: str) -> dict[tuple[str, str, str], str]:
    response = await page.request.get(f"{base_url}/laporan.csv")
    assert response.ok, await response.text()
    assert response.headers["content-type"].startswith("text/csv")
    return {(s, m, a): v for s, m, a, v in list(csv.reader(io.StringIO(await response.text())))[1:]}


async def count_cell(page: Page, table: str, key: str, column: int) -> int:
    """The number in ``column`` of the row of ``table`` holding ``key`` (0 when there is no such row)."""
    row = page.locator(f"{table} tbody tr").filter(has_text=key)
    if await row.count() == 0:
        return 0
    return int(await row.locator("td").nth(column).text_content() or 0)


async def test_incidents_show_on_the_dashboard_live_and_in_the_days_report(
    controller, repo, live_settings, simulator, page: Page, artefacts_dir: Path
):
    password = secrets.token_urlsafe(12)
    add_account(live_settings, "sup_dasbor", "supervisor", password)
    base = controller.base_url
    await sign_in(page, base, "sup_dasbor", password)
    await page.wait_for_url("**/supervisor")
    before = await report_csv(page, base)

    await page.goto(base + "/dasbor")
    await expect(page.locator("#open-total")).not_to_have_text("–")
    await expect(page.locator("path.leaflet-interactive")).to_have_count(11)  # the kecamatan points (SVG circles)
    pollution_before = await count_cell(page, "#by-type", "Pencemaran lingkungan", 1)
    dlh_before = await count_cell(page, "#by-agency", "DLH", 1)
    # incidents' markers only: the cameras' markers (also .leaflet-marker-icon) are drawn from their own request
    markers_before = await page.locator(".leaflet-marker-icon[data-number]").count()

    citizen = await simulator("citizen")  # one call today: offered in the report
    await citizen.call(
        "d1", fleet.target_uri(live_settings), bind=fleet.carrier_address(live_settings, "xl"), caller="+6281700000112"
    )
    await citizen.wait_call_state("d1", "CONFIRMED", 10)
    await citizen.hangup("d1")
    # gone at once: the controller may learn of it only from the dialplan's note (test_early_hangup.py)
    await eventually(lambda: call_of(repo, "+6281700000112", "abandoned"), 15, 0.5, what="the call stored")

    csrf = json.loads(await page.locator("#csrf").text_content() or "null")
    created = []
    for body in (POLLUTION, FALLEN_TREE):
        response = await page.request.post(
            f"{base}/api/v1/incidents",
            data=json.dumps(body),
            headers={"Content-Type": "application/json", "X-CSRF-Token": csrf},
        )
        assert response.status == 201, await response.text()
        created.append(await response.json())
        sent = time.monotonic()
    pollution, tree = created

    # live: the incident messages of /ws make the page read the dashboard again
    for incident in created:
        await expect(page.locator(f'.leaflet-marker-icon[data-number="{incident["number"]}"]')).to_have_count(
            1, timeout=3000
        )
    print(f"[measure] incident created -> its marker on the dashboard map: {(time.monotonic() - sent) * 1000:.0f} ms")
    assert await page.locator(".leaflet-marker-icon[data-number]").count() == markers_before + 2
    await expect(page.locator("#by-type tbody tr").filter(has_text="Pencemaran lingkungan")).to_contain_text(
        str(pollution_before + 1)
    )
    await expect(page.locator('#by-agency tbody tr[data-agency="dlh"] td').nth(1)).to_have_text(str(dlh_before + 2))
    assert await page.evaluate("typeof window.__pwned") == "undefined"

    # the map puts the pollution at its coordinates and the fallen tree at Bungus Teluk Kabung's point
    marker = page.locator(f'.leaflet-marker-icon[data-number="{pollution["number"]}"]')
    await marker.click()
    await expect(page.locator(".leaflet-popup-content")).to_contain_text(pollution["number"])
    await expect(page.locator(".leaflet-popup-content")).to_contain_text("Pauh")

    ack = await page.request.post(
        f"{base}/api/v1/incidents/{tree['id']}/tasks/dlh/acknowledged", headers={"X-CSRF-Token": csrf}
    )
    assert ack.ok, await ack.text()
    dlh_times = page.locator('#agency-times tbody tr[data-agency="dlh"]')
    await expect(dlh_times.locator("td").nth(2)).not_to_have_text("–", timeout=3000)  # ack p50
    await expect(page.locator('#by-agency tbody tr[data-agency="dlh"] td').nth(2)).to_have_text(
        str(await count_cell(page, "#by-agency", "DLH", 1) - 1)
    )  # waiting for Terima: the pollution only

    after = await report_csv(page, base)
    for key, grown in (
        (("calls", "offered", ""), 1),
        (("incidents", "created", ""), 2),
        (("incident_type", "pollution", ""), 1),
        (("agency", "tasks", "dlh"), 2),
        (("agency", "acknowledged", "dlh"), 1),
        (("agency", "tasks", "damkar"), 1),
    ):
        assert int(after[key]) == int(before.get(key) or 0) + grown, (key, before.get(key), after[key])
    assert after["agency", "ack_p50_s", "dlh"] != ""
    shots = artefacts_dir / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(shots / "dashboard.png"), full_page=True)

    await page.locator("header nav").get_by_role("link", name="Laporan").click()
    await page.wait_for_url("**/laporan")
    await expect(page.locator('[data-figure="offered"]')).to_have_text(after["calls", "offered", ""])
    await expect(page.locator('[data-figure="incidents"]')).to_have_text(after["incidents", "created", ""])
    await expect(page.locator('#agency-times tr[data-agency="dlh"] td').nth(1)).to_have_text(
        after["agency", "tasks", "dlh"]
    )
    assert await page.locator(".report svg").count() == 4
    csv_link = await page.locator("#csv-link").get_attribute("href")
    assert csv_link and csv_link.startswith("/laporan.csv?date=")
    bad = await page.request.get(f"{base}/laporan.csv?date=2023-02-30")
    assert bad.status == 400 and "Tanggal tidak valid" in await bad.text()
    await page.emulate_media(media="print")
    await expect(page.locator("header")).to_be_hidden()
    await expect(page.locator("#agency-times")).to_be_visible()
