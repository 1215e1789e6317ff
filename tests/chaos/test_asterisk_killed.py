"""Asterisk SIGKILLed under about 2 calls/s and started again (as its service manager would): the room recovers.

Citizens dial every 0.5 s throughout: before the crash, while Asterisk is down (their INVITEs are retransmitted
until it is back, as a carrier's are) and after. Each caller hangs up 3 s after being answered; seats answer after
0.3 s and hang up after 4 s. Asserted from the callers' side and from the database:
- calls placed after the crash are answered once Asterisk is back and put through to seats again;
- /readyz turns red at the crash and green again once ARI and AMI are back;
- no seat is paused (a crash is not a seat's fault) and every call the crash cut off is closed in the database.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.chaos.crowd import Crowd
from tests.chaos.watch import Sampler, fallback_members
from tests.fixtures.controller import eventually
from tests.integration.test_call_path import call_of

pytestmark = pytest.mark.live

EVERY_S = 0.5  # 2 calls/s
BEFORE_S = 4.0  # dialling before the crash
AFTER_S = 5.0  # and after Asterisk is back
TERMINAL = ("ended", "abandoned", "handed_over", "transferred")


async def test_asterisk_sigkill_and_restart_under_2_calls_per_second(
    asterisk, controller, repo, seat_phones, simulator, seat_pool, live_settings, tmp_path: Path
):
    seats = seat_pool(3)
    await seat_phones(seats, answer_after=0.3, hangup_after=4.0, tone_hz=1000)

    async def seats_available() -> bool:
        states = await repo.seat_states()
        return all(states.get(s) and states[s][0] == "available" for s in seats)

    await eventually(seats_available, 15, what="seats available")
    crowd = Crowd(simulator, live_settings, tmp_path, reuse_lines=False)
    numbers: dict[str, str] = {}
    dialling = True

    async def dial() -> None:
        n = 0
        while dialling:
            name = f"k{n:02d}"
            numbers[name] = f"+628131400{n:04d}"
            await crowd.call(name, numbers[name], hangup_after=3.0)
            n += 1
            await asyncio.sleep(max(0.0, crowd.callers[name].placed + EVERY_S - time.monotonic()))

    readyz = Sampler(lambda: controller.http_status("/readyz"), 0.2).start()
    dialler = asyncio.create_task(dial())
    try:
        await asyncio.sleep(BEFORE_S)
        killed = await asyncio.to_thread(asterisk.kill)
        back = await asyncio.to_thread(asterisk.start)
        await asyncio.sleep(AFTER_S)
        dialling = False
        await dialler
        await asyncio.sleep(4.0)  # the last callers' calls end by themselves
        for name, caller in crowd.callers.items():
            if caller.ended is None:  # e.g. answered and then cut off by the crash with no BYE: give up
                await crowd.hangup(name)
        await crowd.all_ended(40)
    finally:
        dialling = False
        await crowd.close()
        await readyz.stop()

    callers = crowd.callers
    after_crash = [c for c in callers.values() if c.placed >= killed]
    answered = [c for c in after_crash if c.answered is not None]
    through = sorted(c.served for c in after_crash if c.served is not None)
    first_answer = min((c.answered for c in answered if c.answered), default=float("inf"))
    worst_gap = max((c.worst_gap() for c in answered), default=0.0)
    red = readyz.first_after(killed, lambda status: status != 200)
    green = readyz.first_after(back, lambda status: status == 200)
    print(
        f"\n[chaos asterisk sigkill] down {back - killed:.2f} s (kill -> fully booted); /readyz red "
        f"{(red or float('inf')) - killed:.2f} s after the kill, green {(green or float('inf')) - back:.2f} s after "
        f"the boot; kill -> first new call answered {first_answer - killed:.2f} s (back -> "
        f"{first_answer - back:.2f} s); back -> first new caller put through "
        f"{(through[0] if through else float('inf')) - back:.2f} s; placed {len(callers)} "
        f"({len(after_crash)} after the kill): answered {sum(c.answered is not None for c in callers.values())}, "
        f"put through {sum(c.served is not None for c in callers.values())} ({len(through)} after the kill; "
        f"the others gave up after 3 s); worst silence of a caller answered after the kill {worst_gap:.2f} s"
    )
    assert red is not None and red - killed <= 5.0
    assert green is not None and green - back <= 5.0, "/readyz not green again after Asterisk came back"
    assert through and through[0] - back <= 5.0, "no new call put through after Asterisk came back"
    assert len(answered) == len(after_crash), "a caller dialling after the crash was never answered"
    assert worst_gap <= 2.0, "a caller answered after the crash heard silence"

    states = await repo.seat_states()
    assert all(states[s][0] != "paused" for s in seats), {s: states[s] for s in seats}
    members = await asyncio.to_thread(fallback_members, asterisk, live_settings.calls.fallback_queue)
    assert all(f"PJSIP/{s}" in members and not members[f"PJSIP/{s}"] for s in seats), members

    async def all_closed() -> bool:
        calls = [await call_of(repo, number) for number in numbers.values()]
        return all(c is None or c.state in TERMINAL for c in calls)

    await eventually(all_closed, 20, 0.5, what="every call closed in the database")
    stored = [await call_of(repo, number) for number in numbers.values()]
    assert sum(c is not None for c in stored) >= len(answered), "answered calls missing from the database"
