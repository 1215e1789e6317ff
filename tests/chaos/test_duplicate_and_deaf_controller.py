"""A second ``padang112 serve`` changes nothing; a controller stopped (SIGSTOP) for 20 s strands nobody.

Asserted from the callers' side (recordings: music, then a call taker's 1000 Hz tone) and from the switch and the
database, as in test_controller_killed.py.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.chaos.crowd import Crowd, all_stored_ended
from tests.chaos.watch import fallback_members
from tests.fixtures.controller import eventually
from tests.integration.test_call_path import call_of

pytestmark = pytest.mark.live


def _members(asterisk, queue: str) -> list[str]:
    return sorted(fallback_members(asterisk, queue))


async def _seats_available(repo, seats: list[str]) -> bool:
    states = await repo.seat_states()
    return all(states.get(s) and states[s][0] == "available" for s in seats)


async def test_a_second_serve_refuses_to_start_and_changes_nothing(
    asterisk, supervised, repo, seat_phones, simulator, seat_pool, live_settings, tmp_path: Path
):
    seats = seat_pool(2)
    await seat_phones(seats, answer_after=0.3, hangup_after=1.5, tone_hz=1000)
    await eventually(lambda: _seats_available(repo, seats), 15, what="seats available")
    queue = live_settings.calls.fallback_queue

    async def members_in() -> bool:
        return all(f"PJSIP/{s}" in _members(asterisk, queue) for s in seats)

    await eventually(members_in, 10, what="seats in the fallback queue")
    members = _members(asterisk, queue)
    env = dict(os.environ, PADANG112_CONFIG=str(live_settings.config_path))
    started = time.monotonic()
    second = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "padang112.cli", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    print(f"\n[chaos duplicate] second serve exited {second.returncode} after {time.monotonic() - started:.1f} s")
    assert second.returncode == 3, second.stdout + second.stderr
    assert "already running" in second.stdout + second.stderr
    assert _members(asterisk, queue) == members  # no fallback-queue edits
    assert await supervised.ready()
    # the first controller still gets the events: a new call goes through it to a seat
    crowd = Crowd(simulator, live_settings, tmp_path)
    try:
        caller = await crowd.call("d1", "+6281311000101")
        await crowd.all_ended(30)
    finally:
        await crowd.close()
    assert caller.served is not None
    call = await eventually(lambda: call_of(repo, "+6281311000101", "ended"), 10, what="call stored")
    assert call.via == "controller" and call.seat in seats


async def test_a_controller_stopped_for_20_s_strands_nobody(
    asterisk, supervised, repo, seat_phones, simulator, seat_pool, live_settings, tmp_path: Path
):
    """At the stop: d0 talks with seat A (the caller leaves after 6 s, the call taker after 8 s), seat B rings for d1
    (its phone answers after 3 s, into a controller that does not listen: B is stuck until the controller is back
    and hangs that leg up), d2 waits. d3 dials 1 s into the stop. Seat A, free at 8 s, serves d1 and d2 through the
    fallback queue while the controller is stopped; d3 follows, in arrival order, whoever puts it through. In the
    fallback queue the music tells them to hold on."""
    seat_a, seat_b = seat_pool(2)
    await seat_phones([seat_a], answer_after=0.3, hangup_after=8.0, tone_hz=1000)
    await seat_phones([seat_b], answer_after=3.0, hangup_after=30.0, tone_hz=1000)  # its answer is stranded
    await eventually(lambda: _seats_available(repo, [seat_a, seat_b]), 15, what="seats available")
    crowd = Crowd(simulator, live_settings, tmp_path)
    numbers = {f"d{i}": f"+62813120000{i:02d}" for i in range(4)}
    try:
        await crowd.call("d0", numbers["d0"], hangup_after=6.0)
        await eventually(lambda: call_of(repo, numbers["d0"], "connected"), 15, what="d0 connected to seat A")
        await crowd.call("d1", numbers["d1"])
        await eventually(lambda: call_of(repo, numbers["d1"], "offered"), 10, what="d1 ringing seat B")
        await crowd.call("d2", numbers["d2"])
        await eventually(lambda: call_of(repo, numbers["d2"], "queued"), 10, what="d2 queued")
        supervised.signal(signal.SIGSTOP)
        stopped = time.monotonic()
        try:
            await asyncio.sleep(1.0)
            await crowd.call("d3", numbers["d3"])
            new_answered = await crowd.wait("d3", "CONFIRMED", 10) - stopped
            await asyncio.sleep(max(0.0, 20.0 - (time.monotonic() - stopped)))
        finally:
            supervised.signal(signal.SIGCONT)
        resumed = time.monotonic()
        await crowd.all_ended(90)
    finally:
        await crowd.close()
    callers = crowd.callers
    gaps = {n: round(c.worst_gap(), 2) for n, c in callers.items()}
    served = {n: c.served for n, c in callers.items()}
    waiting = ["d1", "d2", "d3"]
    first = min(served[n] or float("inf") for n in waiting) - stopped
    print(
        f"\n[chaos sigstop 20 s] worst silent gap per caller {gaps}; stop -> new call answered {new_answered:.2f} s; "
        f"stop -> first waiting caller put through {first:.2f} s (seat A free at 8 s); resumed -> all ended "
        f"{max(c.ended or 0 for c in callers.values()) - resumed:.1f} s"
    )
    assert all(served[n] is not None for n in callers), served
    assert max(gaps[n] for n in waiting) <= 2.0, gaps
    assert new_answered <= 3.0
    assert sorted(waiting, key=lambda n: served[n] or 0) == waiting
    assert (served["d1"] or 0) < resumed, "d1 waited for the controller instead of the fallback queue"
    # seat A, free again at about 17.6 s (d1's 8 s and its 1 s wrap-up), must not sit idle while d2 hears a reminder
    assert (served["d2"] or 0) < resumed, "d2 waited for the controller although seat A was free"
    # moved to the fallback queue at about 6 s, d3 is told to hold on by its music (5.5 s after its answer at 1 s)
    told = await asyncio.to_thread(callers["d3"].heard_prompt_at, asterisk.layout.root, "please-hold")
    assert told is not None and told < (callers["d3"].put_through_after() or 0), told

    await all_stored_ended(repo, numbers, 40, "every call stored as ended")
    states = await repo.seat_states()
    assert all(states[s][0] != "paused" for s in (seat_a, seat_b)), {s: states[s] for s in (seat_a, seat_b)}
    await eventually(supervised.ready, 10, what="/readyz green again after the resume")
