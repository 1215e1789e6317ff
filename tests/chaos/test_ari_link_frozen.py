"""The controller's ARI link silently frozen for 30 s (a relay that stops forwarding without closing anything),
and the controller restarted (SIGKILL, supervisor) while it is frozen. Nobody is stranded.

At the freeze (t=0): c1 talks with seat A, c2 with seat B (both callers hang up a few seconds later), w1 waits.
n1 dials at t=1, the controller is killed at t=6 (its successor cannot reach ARI either), n2 dials at t=10, the
link comes back at t=30 and n3 dials after that. Asserted from the callers' side (recordings), from the switch
(the fallback queue's members, sampled every 0.5 s) and the database:
- new calls are answered within 3 s; w1, n1, n2 are put through by the fallback queue in arrival order with no
  silence over 2 s, n3 by the controller again;
- /readyz turns red within 5 s of the freeze and green within 2 s of the thaw;
- the fallback queue never loses a member or has one of ours paused; no seat is left paused;
- every call is stored ended with its seat (the fallback calls imported).
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import pytest

from tests.chaos.crowd import Crowd, all_stored_ended
from tests.chaos.watch import fallback_members, queue_sampler, readyz_sampler
from tests.fixtures.controller import eventually
from tests.integration.test_call_path import call_of

pytestmark = pytest.mark.live

FREEZE_S = 30.0


async def _until(t0: float, at_s: float) -> None:
    await asyncio.sleep(max(0.0, t0 + at_s - time.monotonic()))


async def test_a_frozen_ari_link_and_a_restart_while_frozen_strand_nobody(
    asterisk, ari_relay, supervised_via_relay, repo, seat_phones, simulator, seat_pool, live_settings, tmp_path: Path
):
    supervised = supervised_via_relay
    seat_a, seat_b = seat_pool(2)
    seats = (seat_a, seat_b)
    await seat_phones(list(seats), answer_after=0.3, hangup_after=6.0, tone_hz=1000)
    queue = live_settings.calls.fallback_queue

    async def ready_for_calls() -> bool:
        states = await repo.seat_states()
        members = await asyncio.to_thread(fallback_members, asterisk, queue)
        return all(states.get(s) and states[s][0] == "available" and f"PJSIP/{s}" in members for s in seats)

    await eventually(ready_for_calls, 15, what="both seats available and in the fallback queue")
    members_before = await asyncio.to_thread(fallback_members, asterisk, queue)
    readyz = readyz_sampler(supervised)
    members = queue_sampler(asterisk, queue)
    crowd = Crowd(simulator, live_settings, tmp_path)
    numbers = {name: f"+62813130000{i:02d}" for i, name in enumerate(("c1", "c2", "w1", "n1", "n2", "n3"))}
    try:
        await crowd.call("c1", numbers["c1"], hangup_after=4.0)
        await eventually(lambda: call_of(repo, numbers["c1"], "connected"), 10, what="c1 connected")
        await crowd.call("c2", numbers["c2"], hangup_after=4.0)
        await eventually(lambda: call_of(repo, numbers["c2"], "connected"), 10, what="c2 connected")
        await crowd.call("w1", numbers["w1"])
        await eventually(lambda: call_of(repo, numbers["w1"], "queued"), 10, what="w1 queued")
        frozen = ari_relay.freeze()
        try:
            await _until(frozen, 1.0)
            await crowd.call("n1", numbers["n1"])
            n1_answered = await crowd.wait("n1", "CONFIRMED", 10) - crowd.callers["n1"].placed
            await _until(frozen, 6.0)
            supervised.signal(signal.SIGKILL)
            await _until(frozen, 10.0)
            await crowd.call("n2", numbers["n2"])
            n2_answered = await crowd.wait("n2", "CONFIRMED", 10) - crowd.callers["n2"].placed
            await _until(frozen, FREEZE_S)
        finally:
            thawed = ari_relay.thaw()
        await supervised.wait_ready(10)
        await crowd.call("n3", numbers["n3"])
        await crowd.all_ended(60)
    finally:
        await crowd.close()
        await readyz.stop()
        await members.stop()

    callers = crowd.callers
    gaps = {n: round(c.worst_gap(), 2) for n, c in callers.items()}
    served = {n: c.served for n, c in callers.items()}
    red = readyz.first_after(frozen, lambda status: status != 200)
    green = readyz.first_after(thawed, lambda status: status == 200)
    waiting = ["w1", "n1", "n2"]
    first_waiting = min(served[n] or float("inf") for n in waiting) - frozen
    n3 = await eventually(lambda: call_of(repo, numbers["n3"], "ended"), 15, what="n3 stored")
    print(
        f"\n[chaos ari frozen {FREEZE_S:.0f} s + restart] /readyz red {(red or float('inf')) - frozen:.2f} s after the "
        f"freeze, green {(green or float('inf')) - thawed:.2f} s after the thaw; new call answered "
        f"{n1_answered:.2f} s after dialling 1 s into the freeze (n1), {n2_answered:.2f} s with the successor cut "
        f"off (n2); freeze -> first waiting caller put through {first_waiting:.2f} s; worst silent gap {gaps}; "
        f"thaw -> n3 (dialled once green) put through {(served['n3'] or float('inf')) - thawed:.2f} s via {n3.via}; "
        f"calls {len(callers)}, restarts {len(supervised.starts) - 1}"
    )
    assert red is not None and red - frozen <= 5.0, "/readyz stayed green on a frozen link"
    assert green is not None and green - thawed <= 2.0, "/readyz not green within 2 s of the thaw"
    assert n1_answered <= 3.0 and n2_answered <= 3.0
    assert all(served[n] is not None for n in callers), f"callers never put through: {served}"
    assert max(gaps[n] for n in [*waiting, "n3"]) <= 2.0, gaps
    assert sorted(waiting, key=lambda n: served[n] or 0) == waiting, served
    assert all((served[n] or 0) < thawed for n in waiting), "a waiting caller waited for the link instead"
    assert n3.via == "controller" and n3.seat in seats

    for sample in members.samples:
        lost = set(members_before) - set(sample[1])
        assert not lost, f"fallback-queue members removed at +{sample[0] - frozen:.1f} s: {sorted(lost)}"
        assert not any(sample[1].get(f"PJSIP/{s}") for s in seats), f"a seat paused in the queue: {sample}"

    stored = await all_stored_ended(repo, numbers, 30, "every call stored as ended (fallback calls imported)")
    for name, call in stored.items():
        assert call.seat in seats, (name, call)
    states = await repo.seat_states()
    assert all(states[s][0] != "paused" for s in seats), {s: states[s] for s in seats}
