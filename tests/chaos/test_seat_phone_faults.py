"""Seat phones that fail: the caller is never lost, the next seat serves it, and no seat is wrongly paused.

Measured from the caller's side (its recording: music, then a call taker's tone; each seat plays its own tone) and
from the database (the call's events, the seats' states), with the session's controller and real pjsua2 phones.
Seats are rung longest idle first, so they are registered in the order they should be rung.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest

from padang112.simulator import tones
from tests.chaos.crowd import SEAT_TONE_HZ, Crowd
from tests.fixtures.controller import eventually
from tests.integration.test_call_path import call_of

pytestmark = pytest.mark.live

DROPPER_TONE_HZ = 700  # the seat that answers and hangs up at once: its tone is not "put through"
RESCUER_TONE_HZ = 1400


async def _available(repo, seats: list[str]) -> bool:
    states = await repo.seat_states()
    return all(states.get(s) and states[s][0] == "available" for s in seats)


async def _story(repo, call_id: str):
    """The call's stored events: (transitions as "from->to" with their seat and time, seat phone failures)."""
    events = await repo.call_events(call_id)
    moves = [(f"{e.from_state}->{e.to_state}", e.seat, e.at) for e in events if e.kind == "transition"]
    failed = [
        (e.seat, e.data["kind"], e.data["cause"], e.data["paused"]) for e in events if e.kind == "seat_phone_failed"
    ]
    return moves, failed


async def test_a_busy_phone_and_one_that_answers_then_hangs_up_pass_the_caller_on_without_being_paused(
    asterisk, controller, repo, seat_phones, simulator, seat_pool, live_settings, tmp_path: Path
):
    busy, dropper, good = seat_pool(3)
    await seat_phones([busy], reject_with=486)  # DND / busy: every INVITE answered 486 at once
    await eventually(lambda: _available(repo, [busy]), 10, what="busy phone's seat available")
    await seat_phones([dropper], answer_after=0.3, hangup_after=0.0, tone_hz=DROPPER_TONE_HZ)
    await eventually(lambda: _available(repo, [dropper]), 10, what="dropping phone's seat available")
    await seat_phones([good], answer_after=0.5, hangup_after=3.0, tone_hz=SEAT_TONE_HZ)
    await eventually(lambda: _available(repo, [good]), 10, what="good seat available")
    crowd = Crowd(simulator, live_settings, tmp_path)
    number = "+6281315000001"
    try:
        caller = await crowd.call("f1", number)
        await crowd.all_ended(40)
    finally:
        await crowd.close()
    call = await eventually(lambda: call_of(repo, number, "ended"), 10, what="the call stored as ended")
    moves, failed = await _story(repo, call.id)
    offered = [(seat, at) for move, seat, at in moves if move.endswith("->offered")]
    offers = [seat for seat, _ in offered]
    good_rung = (offered[-1][1] - offered[0][1]).total_seconds()
    put_through = caller.put_through_after()
    gap = caller.worst_gap()
    print(
        f"\n[seat faults] offers {offers}; failures {failed}; first offer -> good seat rung "
        f"{good_rung:.2f} s (the dropping seat answered after 0.3 s, hung up at once); caller answered -> "
        f"good seat's tone {put_through:.2f} s; worst silent gap while waiting {gap:.2f} s"
    )
    assert offers == [busy, dropper, good], "one seat at a time, in turn, the caller first in line again"
    assert [(seat, kind, paused) for seat, kind, _, paused in failed] == [
        (busy, "busy", False),
        (dropper, "dropped", False),
    ]
    assert failed[0][2] == 17  # the Q.850 cause of 486 Busy Here (a BYE's hang-up request carries none)
    transitions = [move for move, _, _ in moves]
    assert "connected->queued" in transitions and transitions[-1] == "connected->ended"  # never connected to nobody
    assert call.seat == good and put_through is not None
    assert gap <= 2.0, gap
    await eventually(lambda: _available(repo, [busy, dropper, good]), 15, what="no seat paused, all available again")


async def test_a_phone_that_unregisters_while_ringing_or_vanishes_mid_call_hands_the_caller_to_the_next_seat(
    asterisk, controller, repo, seat_phones, simulator, seat_pool, live_settings, tmp_path: Path
):
    """``leaver`` logs out while it rings; ``vanisher`` answers, then its process is frozen (SIGSTOP: no BYE, no
    RTP, no answer to the switch's qualify pings, as a phone that lost its network); ``rescuer`` serves the caller."""
    leaver, vanisher, rescuer = seat_pool(3)
    leaving = await seat_phones([leaver], answer_after=None)
    await eventually(lambda: _available(repo, [leaver]), 10, what="leaver available")
    vanishing = await seat_phones([vanisher], answer_after=0.3, tone_hz=SEAT_TONE_HZ)
    await eventually(lambda: _available(repo, [vanisher]), 10, what="vanisher available")
    await seat_phones([rescuer], answer_after=0.3, hangup_after=2.0, tone_hz=RESCUER_TONE_HZ)
    await eventually(lambda: _available(repo, [rescuer]), 10, what="rescuer available")
    crowd = Crowd(simulator, live_settings, tmp_path)
    number = "+6281315000002"
    frozen = vanishing[vanisher].proc
    assert frozen is not None
    try:
        caller = await crowd.call("u1", number)
        await leaving[leaver].wait_event(lambda e: e.get("event") == "seat_ringing", 10)
        await leaving[leaver].unregister(leaver)
        left = time.monotonic()
        await vanishing[vanisher].wait_event(lambda e: e.get("event") == "seat_answered", 10)
        await asyncio.sleep(1.5)
        os.kill(frozen.pid, signal.SIGSTOP)
        vanished = time.monotonic()
        try:
            await eventually(lambda: call_of(repo, number, "ended"), 30, 0.2, what="the caller served by the rescuer")
        finally:
            os.kill(frozen.pid, signal.SIGCONT)
        await crowd.all_ended(20)
    finally:
        await crowd.close()
    call = await call_of(repo, number, "ended")
    moves, failed = await _story(repo, call.id)
    offers = [seat for move, seat, _ in moves if move.endswith("->offered")]
    transitions = [move for move, _, _ in moves]
    answered = caller.answered or 0.0
    rescued_at = tones.first_tone_at(caller.record, RESCUER_TONE_HZ)
    served = caller.served
    print(
        f"\n[seat faults] offers {offers}; leaver unregistered -> vanisher's tone "
        f"{(served or 0) - left:.2f} s; vanisher frozen -> rescuer's tone "
        f"{answered + (rescued_at or 0) - vanished:.2f} s; worst silent gap before the first seat "
        f"{caller.worst_gap():.2f} s"
    )
    assert offers == [leaver, vanisher, rescuer]
    assert served is not None and served - left < 3.0, "the caller went to the next seat at once"
    assert rescued_at is not None, "the caller never reached the next seat after its call taker's phone vanished"
    assert answered + rescued_at - vanished < 15.0  # qualify every 5 s, timeout 2 s: offline within ~7 s
    assert transitions.count("connected->queued") == 1 and transitions[-1] == "connected->ended"
    assert call.seat == rescuer
    assert [(seat, kind) for seat, kind, _, _ in failed] == [(leaver, "rejected")], failed  # 603 as it logged out
    states = await repo.seat_states()
    assert all(states[s][0] != "paused" for s in (leaver, vanisher, rescuer)), {
        s: states[s] for s in (leaver, vanisher, rescuer)
    }
