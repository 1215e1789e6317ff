"""A missed acknowledge deadline: the supervisor is alerted and Asterisk calls the agency's duty phone until 1.

The simulated duty phone of Dinas PUPR refuses the first call (busy), answers the retry, hears the spoken
notice and presses 1 (RFC 4733): the task is acknowledged in the name of the duty phone, and every attempt is in
the incident's audit trail.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Page, expect

from tests.fixtures.controller import eventually
from tests.integration.test_console_page import add_account, sign_in

pytestmark = pytest.mark.live

INCIDENT = {
    "type_code": "infrastructure_damage",
    "priority": 1,
    "kecamatan": "Pauh",
    "location_text": "Jl. Raya Pauh",
    "description": "jembatan retak",
    "agencies": ["pupr"],
    "source": "radio",
}


def miss_deadline(settings, incident_id: int) -> None:
    """Time passes: move the task's acknowledge deadline into the past (the watch runs every 5 s)."""
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat(timespec="microseconds")
    with sqlite3.connect(settings.state_dir / "padang112.db") as db:
        db.execute("UPDATE agency_tasks SET ack_deadline = ? WHERE incident_id = ?", (past, incident_id))


async def test_a_missed_deadline_alerts_the_supervisor_and_calls_the_duty_phone_until_1_is_pressed(
    controller, live_settings, seat_phones, page: Page
):
    password = secrets.token_urlsafe(12)
    add_account(live_settings, "sup_duty", "supervisor", password)
    await sign_in(page, controller.base_url, "sup_duty", password)
    await page.wait_for_url("**/supervisor")
    csrf = await page.evaluate("JSON.parse(document.getElementById('csrf').textContent)")

    duty = live_settings.duty_phones["pupr"]
    phones = await seat_phones([duty], answer_after=None)  # with its tone: a toneless leg sends no DTMF
    phone = phones[duty]
    mark = phone.mark()

    response = await page.request.post(
        f"{controller.base_url}/api/v1/incidents", headers={"X-CSRF-Token": csrf}, data=INCIDENT
    )
    assert response.status == 201, await response.text()
    incident = await response.json()
    miss_deadline(live_settings, incident["id"])
    missed = time.time()

    await expect(page.locator("#alerts")).to_contain_text("Dinas PUPR", timeout=10_000)  # the escalation banner
    first = await phone.wait_event(lambda e: e.get("event") == "seat_ringing" and e.get("seat") == duty, 15, since=mark)
    print(f"\n[measure] deadline missed -> duty phone rings: {first['t'] - missed:.2f} s (escalation watch every 5 s)")
    await phone.request("seat_hangup", seat=duty, code=486)  # busy: the switch must try again

    retry = phone.mark()
    await phone.wait_event(lambda e: e.get("event") == "seat_ringing" and e.get("n") == 2, 15, since=retry)
    await phone.request("seat_answer", seat=duty)
    await phone.wait_event(lambda e: e.get("event") == "seat_media" and e.get("seat") == duty, 10, since=retry)
    await phone.seat_dtmf(duty, "1")
    pressed = time.time()
    ended = await phone.wait_event(lambda e: e.get("event") == "seat_call_ended" and e.get("n") == 2, 20, since=retry)
    assert ended["code"] in (0, 200), ended  # the switch thanked and hung up (not a failure)
    assert ended["t"] - pressed > 3.0, "hung up before the thank-you (about 5 s) was played"

    async def acknowledged():
        r = await page.request.get(f"{controller.base_url}/api/v1/incidents/{incident['id']}")
        body = await r.json()
        return body if body["tasks"][0]["state"] == "acknowledged" else None

    current = await eventually(acknowledged, 10, what="task acknowledged by the duty phone")
    trail = current["events"]
    kinds = [(e["kind"], e.get("by")) for e in trail]
    assert ("escalated", "system") in kinds
    attempts = [e for e in trail if e["kind"] == "duty_call"]
    assert attempts and attempts[0]["data"] == {"attempt": 1, "outcome": "no_answer"}
    ack = next(e for e in trail if e["kind"] == "task_state" and e["to_state"] == "acknowledged")
    assert ack["by"] == "telepon piket Dinas PUPR"

    await page.wait_for_timeout(3000)  # acknowledged: no further call to the duty phone
    assert not phone.events(since=retry, pred=lambda e: e.get("event") == "seat_ringing" and e.get("n", 0) > 2)
