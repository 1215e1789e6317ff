"""Issue 10 item 11: prank marks cannot be piled up, given to hidden callers, or given from another seat, and
clearing a score does not tell whether a number ever called 112.

Calls come in over the carrier trunk (raw SIP, hung up while waiting: no seat ever held them). Attacks: mark one
call ``prank`` three times (one number flagged by one call); mark calls without caller ID (``anonymous``), which
would push every hidden caller to the back of the queue; mark as a call taker without a seat a call that was
never at their seat; compare the answers of ``POST /api/v1/prank-clearances`` for a number that called and one
that never did.
"""

from __future__ import annotations

import asyncio
import secrets

import pytest

from padang112.simulator import fleet
from tests.fixtures.controller import eventually
from tests.security.conftest import page_csrf
from tests.sipraw import raw_call

pytestmark = pytest.mark.live


async def abandoned_call(asterisk, repo, live_settings, number: str):
    """A call from ``number`` that waits a moment and hangs up; its stored record."""
    source = fleet.carrier_address(live_settings, "smartfren")
    before = {c.id for c in await repo.recent_calls(300)}
    result = await asyncio.to_thread(
        raw_call, asterisk.sip_host, asterisk.sip_port, source, b"", number.encode(), "112", 1.0
    )
    assert result.final == 200, result.statuses

    async def stored():
        calls = [c for c in await repo.recent_calls(300) if c.id not in before and c.caller_number == number]
        return calls[0] if calls and calls[0].state == "abandoned" else None

    return await eventually(stored, 15, what=f"abandoned call from {number} stored")


async def test_prank_marks_count_once_per_call_never_for_placeholders_and_only_from_the_own_seat(
    asterisk, controller, repo, live_settings, make_account, signed_in
) -> None:
    supervisor = await signed_in(make_account("supervisor"), "127.0.0.81")
    sup_csrf = await page_csrf(supervisor, "/supervisor")
    call_taker = await signed_in(make_account("call_taker"), "127.0.0.82")
    ct_csrf = await page_csrf(call_taker, "/kursi")

    async def dispose(http, csrf: str, call_id: str, value: str = "prank") -> int:
        url = f"/api/v1/calls/{call_id}/disposition"
        async with http.post(url, json={"disposition": value}, headers={"X-CSRF-Token": csrf}) as r:
            return r.status

    async def score(number: str) -> dict:
        async with supervisor.post(
            "/api/v1/prank-scores", json={"number": number}, headers={"X-CSRF-Token": sup_csrf}
        ) as r:
            assert r.status == 200, await r.text()
            return await r.json()

    number = f"+62813{secrets.randbelow(10**7):07d}"
    call = await abandoned_call(asterisk, repo, live_settings, number)
    assert call.seat is None
    # a call taker without a seat has no say on a call no seat held
    assert await dispose(call_taker, ct_csrf, call.id) == 403
    for value in ("prank", "silent", "prank"):  # one call, marked over and over
        assert await dispose(supervisor, sup_csrf, call.id, value) == 200
    one = await score(number)
    assert 0.99 < one["score"] <= 1.0 and one["flagged"] is False, one

    for _ in range(2):  # two hidden callers, each marked prank
        hidden = await abandoned_call(asterisk, repo, live_settings, "anonymous")
        assert await dispose(supervisor, sup_csrf, hidden.id) == 200
    placeholder = await score("anonymous")
    assert placeholder["score"] == 0 and placeholder["flagged"] is False, placeholder


async def test_clearing_answers_alike_whether_or_not_a_number_ever_called(
    asterisk, controller, repo, live_settings, make_account, signed_in
) -> None:
    supervisor = await signed_in(make_account("supervisor"), "127.0.0.83")
    csrf = await page_csrf(supervisor, "/supervisor")
    called = f"+62813{secrets.randbelow(10**7):07d}"
    await abandoned_call(asterisk, repo, live_settings, called)
    never = f"+62813{secrets.randbelow(10**7):07d}"
    answers = {}
    for number in (called, never):
        body = {"number": number}
        async with supervisor.post("/api/v1/prank-clearances", json=body, headers={"X-CSRF-Token": csrf}) as r:
            answers[number] = (r.status, sorted((await r.json()).items()))
    strip = {"number", "cleared_at"}  # echoes of the request and the clock
    same = [(s, [(k, v) for k, v in items if k not in strip]) for s, items in answers.values()]
    assert same[0] == same[1] and same[0][0] == 201, answers
