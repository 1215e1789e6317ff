"""A caller who hangs up the moment 112 answers: Asterisk answers before the controller has the call (music at
once, then ``Stasis()``), so a caller gone in that half second never reached the room. The dialplan's
``[p112-early-hangup]`` notes him and the controller imports the note: no answered 112 call leaves no record.
A caller gone in the instant ``Stasis()`` starts is announced by ``StasisEnd`` alone, as a caller the dialplan
moved would be: the controller asks the switch, and stores him as abandoned, not handed over."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from padang112.simulator import fleet
from tests.fixtures.controller import eventually
from tests.integration.test_call_path import call_of

pytestmark = pytest.mark.live


async def test_callers_who_hang_up_as_soon_as_answered_are_all_stored_as_abandoned(
    controller, repo, live_settings, simulator
):
    citizens = await simulator("citizens-early")
    numbers = [f"+62817000090{n:02d}" for n in range(1, 9)]
    for n, number in enumerate(numbers):
        name = f"early{n}"
        await citizens.call(
            name, fleet.target_uri(live_settings), bind=fleet.carrier_address(live_settings, "xl"), caller=number
        )
        await citizens.wait_call_state(name, "CONFIRMED", 10)
        # at once, or a little later: before Stasis() started, as it starts (the controller is told nothing
        # but StasisEnd), or just after
        await asyncio.sleep(0.04 * (n % 4))
        await citizens.hangup(name)
        await asyncio.sleep(0.2)

    async def all_stored() -> list:
        calls = [await call_of(repo, number) for number in numbers]
        return calls if all(c is not None and c.state == "abandoned" for c in calls) else []

    calls = await eventually(all_stored, 15, 0.5, what="every caller stored as abandoned")
    assert all(c.carrier == "xl" and c.dialed == "112" for c in calls)
    print(f"\n[measure] {len(calls)} callers gone at answer, stored by: {dict(Counter(c.via for c in calls))}")
