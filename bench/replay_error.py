"""Benchmark: the day model's error. The same profile, seed and window, once on the virtual clock (``sim-day``'s
``VirtualDay``) and once replayed on the real switch (``padang112 simulate --profile``: Asterisk, controller, pjsua2
citizens and seats, compressed by ``--speed``); prints both service levels and their difference.

Both sides use the same callers (drawn from the seed), the shift's seats for the whole window, seats that always
answer and that leave wrap-up by the room's timer. The live controller runs with the room's wrap-up and ring timeout
divided by the speed (the ring timeout at least 2 s); the replay's call times are stretched back by the speed before
the service level is computed, so the real switch's own delays count ``speed`` times over: that is the model's error
at that speed. Uses the P112_TEST_SLOT's ports (instance bench<slot>).

    P112_TEST_SLOT=7 .venv/bin/python bench/replay_error.py --profile padang-weekday --start 14 --hours 2 --speed 60
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys
from datetime import UTC, date, datetime, timedelta

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from stack import bench_stack

from padang112.planning import profile as profiles
from padang112.planning.day import VirtualDay
from padang112.simulator.replay import Replay
from padang112.stats import queries
from padang112.stats.service_level import ServiceLevel, compute
from padang112.storage.db import create_engine

DAY = date(2026, 3, 2)
FIGURES = ("offered", "answered", "abandoned", "pct_within_15", "pct_within_20", "avg_answer_s", "p90_answer_s")


def stretch(at: datetime | None, real_start: datetime, virtual_start: datetime, speed: float) -> datetime | None:
    return None if at is None else virtual_start + (at - real_start) * speed


async def run(args: argparse.Namespace) -> int:
    chosen = profiles.load(args.profile)
    fair = dataclasses.replace(chosen, no_answer_share=0.0)
    seats = fair.seats_at_hour(args.start)
    hours = int(args.hours + 0.999)
    virtual = await VirtualDay(
        fair, args.seed, DAY, hours=args.hours, start_hour=args.start, seats_by_hour=[seats] * hours, press_ready=False
    ).run()
    modelled = compute(virtual.calls, virtual.start, virtual.end)
    calls = {
        "wrap_up_s": round(fair.wrap_up_s / args.speed, 3),
        "ring_timeout_s": round(max(2.0, fair.ring_timeout_s / args.speed), 3),
    }
    slot = int(os.environ.get("P112_TEST_SLOT", "0"))
    async with bench_stack(seats, slot=slot, calls=calls) as stack:
        replay = Replay(
            stack.settings,
            fair,
            seed=args.seed,
            speed=args.speed,
            start_hour=args.start,
            hours=args.hours,
            seats=stack.settings.seats[:seats],
        )
        started = datetime.fromtimestamp(await replay.run(), UTC)
        await asyncio.sleep(2.0)  # the last events reach the database
        engine = create_engine(stack.settings.db_url)
        try:
            real = await queries.calls_between(engine, started - timedelta(seconds=5), datetime.now(UTC))
        finally:
            await engine.dispose()
    stretched = [
        dataclasses.replace(
            c,
            **{
                name: stretch(getattr(c, name), started, virtual.start, args.speed)
                for name in ("received_at", "updated_at", "queued_at", "offered_at", "connected_at", "ended_at")
            },
        )
        for c in real
    ]
    measured = compute(stretched, virtual.start - timedelta(minutes=1), virtual.end)
    print(
        f"{args.profile} seed {args.seed}, {args.start:02d}:00 WIB + {args.hours:g} h, {seats} seats, x{args.speed:g}"
    )
    print(f"{'figure':16s} {'virtual':>10s} {'replay':>10s} {'difference':>11s}")
    for name in FIGURES:
        print(_row(name, modelled, measured))
    return 0


def _row(name: str, modelled: ServiceLevel, measured: ServiceLevel) -> str:
    a, b = getattr(modelled, name), getattr(measured, name)
    diff = "" if a is None or b is None else f"{b - a:+11.1f}"
    show = lambda v: "–" if v is None else f"{v:.1f}" if isinstance(v, float) else str(v)  # noqa: E731
    return f"{name:16s} {show(a):>10s} {show(b):>10s} {diff}"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--profile", default="padang-weekday")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--speed", type=float, default=60.0)
    p.add_argument("--start", type=int, default=14, help="WIB hour the window starts (default 14)")
    p.add_argument("--hours", type=float, default=2.0)
    return asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
