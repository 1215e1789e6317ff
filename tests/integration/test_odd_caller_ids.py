"""Caller ids are untrusted: whatever a carrier sends, the call is answered and stored verbatim and safely."""

from __future__ import annotations

import asyncio

import pytest

from padang112.simulator import fleet
from tests.fixtures.controller import eventually
from tests.sipraw import raw_call

pytestmark = pytest.mark.live

CASES = {
    "quotes": (rb"Bu\"di \" O\'Neil", b"+6281300000001", r"Bu\"di \" O\'Neil"),  # escapes kept as sent
    "sql": (b"Robert'); DROP TABLE calls;--", b"6281300000002'--", "DROP TABLE calls"),
    "html": (b"<script>alert(1)</script>", b"+6281300000003", "<script>alert(1)</script>"),
    "very_long": (b"A" * 3000, b"6281300000004", "A" * 60),  # Asterisk itself keeps the first 79
    "not_utf8": (b"Bud\xff\xfe\xc3\x28i", b"6281300000005", "Bud"),
}


@pytest.mark.parametrize("case", sorted(CASES))
async def test_a_call_with_an_odd_caller_id_is_answered_and_stored_as_received(
    case, asterisk, controller, repo, live_settings
):
    display, user, expected_fragment = CASES[case]
    source = fleet.carrier_address(live_settings, "smartfren")
    result = await asyncio.to_thread(raw_call, asterisk.sip_host, asterisk.sip_port, source, display, user, "112", 1.5)
    assert result.final == 200, f"odd caller id {case}: statuses {result.statuses}"

    async def stored():
        for call in await repo.recent_calls(200):
            if (
                call.carrier == "smartfren"
                and expected_fragment in (call.caller_name or "") + (call.caller_number or "")
                and call.state == "abandoned"
            ):
                return call
        return None

    call = await eventually(stored, 10, what=f"call with {case} caller id stored")
    events = await repo.call_events(call.id)
    assert [e.to_state for e in events][:2] == ["received", "queued"]
    # the database is intact after the SQL-looking caller id
    assert len(await repo.recent_calls(5)) >= 1
