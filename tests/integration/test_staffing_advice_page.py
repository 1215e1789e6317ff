"""The supervisor page shows "Saran jumlah petugas" (Erlang A advice for this hour and the next) in Chromium."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

import pytest
from playwright.async_api import Page, expect

from padang112.stats.service_level import WIB
from tests.integration.test_console_page import add_account, sign_in

pytestmark = pytest.mark.live
NUMBER = re.compile(r"^\d+$")


async def test_the_supervisor_sees_the_advised_call_takers_for_this_hour_and_the_next(
    controller, live_settings, page: Page
):
    password = secrets.token_urlsafe(12)
    add_account(live_settings, "sup_staffing", "supervisor", password)
    await sign_in(page, controller.base_url, "sup_staffing", password)
    await page.wait_for_url("**/supervisor")
    section = page.locator("#staffing-advice")
    await expect(section.get_by_role("heading")).to_have_text("Saran jumlah petugas")
    hour = datetime.now(UTC).astimezone(WIB).hour
    now_row, next_row = section.locator('tr[data-slot="0"]'), section.locator('tr[data-slot="1"]')
    await expect(now_row.locator('[data-field="hour"]')).to_have_text(f"{hour:02d}:00")
    await expect(next_row.locator('[data-field="hour"]')).to_have_text(f"{(hour + 1) % 24:02d}:00")
    await expect(now_row.locator('[data-field="seats"]')).to_have_text(NUMBER)
    await expect(page.locator("#staffing-signed-in")).to_have_text(NUMBER)
    await expect(page.locator("#staffing-basis")).to_contain_text("panggilan/jam")
