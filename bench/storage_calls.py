"""Benchmark: the storage work of real calls, through the real EventWriter, on SQLite and on PostgreSQL 15.

The room itself (``domain/room.py``) takes ``--calls`` calls arriving at ``--rate`` per second on ``--seats``
seats (each rung, answered after 0.5 s, held 2 s, 1 s of wrap-up); every decision's events (11 a call: received,
queued, offered, the seat offered, connected, busy, recording started, recording finished, wrap-up, ended,
available) are one ``write()``, as the controller makes it, at the decision's time. The call-back list is fed as
the call-back dialer feeds it: ``arrived`` when a call is received, ``answered`` when it is connected.

Two scenarios per engine, each on a fresh migrated database, both durable (SQLite WAL ``synchronous=FULL`` in a
file, a PostgreSQL cluster of its own with ``fsync`` on, over TCP on loopback):

- ``paced``: the writes at the room's own times (``--rate`` calls/s): CPU per call and event lag at that load;
- ``flat out``: all the writes as fast as they come (a backlog): events per second.

Printed per engine and scenario: events/s, CPU ms per call (this process, the database driver's thread included;
not the PostgreSQL server's), and the event lag from ``write()`` to its commit (p50, p99, max), and the
writer's commits.

    P112_TEST_SLOT=2 .venv/bin/python bench/storage_calls.py --calls 600 --rate 10
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import heapq
import itertools
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, __file__.rsplit("/", 1)[0])
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from stack import percentile
from storage_engines import each_engine

from padang112.callbacks.store import CallbackStore
from padang112.domain import commands as c
from padang112.domain import effects as fx
from padang112.domain.events import CallTransition, DomainEvent
from padang112.domain.room import Policy, Room
from padang112.storage import EventWriter, create_engine, migrate

T0 = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)
ANSWER_S, HOLD_S, WRAP_UP_S = 0.5, 2.0, 1.0
CARRIERS = ("telkomsel", "indosat", "xl", "smartfren", "tri", "axis")


@dataclass(frozen=True)
class Write:
    at_s: float  # since the first call
    events: tuple[DomainEvent, ...]


def room_writes(calls: int, rate: float, seats: int) -> list[Write]:
    """The writes the room decides for ``calls`` callers, in its order (a virtual clock, no I/O)."""
    policy = Policy(ring_timeout_s=15.0, wrap_up_s=WRAP_UP_S, position_announce_s=30.0, auto_ready_on_register=True)
    room = Room([f"seat{n:02d}" for n in range(1, seats + 1)], policy, "/var/lib/padang112/recordings")
    order = itertools.count()
    due: list[tuple[float, int, str | None, c.Command]] = []  # (at, order, timer key, command)
    cancelled: set[str] = set()
    for seat in room.seats:
        heapq.heappush(due, (0.0, next(order), None, c.SeatRegistration(seat, True)))
    for n in range(calls):
        number = f"0812{n:08d}"
        arrived = c.CallArrived(f"call-{n}", f"chan-{n}", number, "", CARRIERS[n % len(CARRIERS)], "112")
        heapq.heappush(due, (1.0 + n / rate, next(order), None, arrived))
    writes: list[Write] = []
    while due:
        at, _, key, command = heapq.heappop(due)
        if key is not None and key in cancelled:
            continue
        decision = room.handle(command, T0 + timedelta(seconds=at))
        if decision.events and at >= 1.0:
            writes.append(Write(at - 1.0, tuple(decision.events)))
        for effect in decision.effects:
            then: tuple[float, str | None, c.Command] | None = None
            if isinstance(effect, fx.StartTimer):
                cancelled.discard(effect.key)
                if isinstance(effect.command, c.WrapUpDone):
                    then = (WRAP_UP_S, effect.key, effect.command)
            elif isinstance(effect, fx.CancelTimer):
                cancelled.add(effect.key)
            elif isinstance(effect, fx.RingSeat):
                then = (ANSWER_S, None, c.SeatLegAnswered(effect.call_id, effect.seat, effect.leg))
            elif isinstance(effect, fx.Bridge):
                then = (HOLD_S, None, c.CallerHungUp(effect.call_id))
            if then is not None:
                heapq.heappush(due, (at + then[0], next(order), then[1], then[2]))
    return writes


@dataclass
class Figures:
    calls: int
    events: int
    seconds: float
    cpu_s: float
    lags_ms: list[float]
    commits: int

    def row(self, engine: str, scenario: str) -> str:
        lags = self.lags_ms or [float("nan")]
        cells = [f"{engine:<11}", f"{scenario:<9}", f"{self.events / self.seconds:>9.0f}"]
        cells += [f"{self.cpu_s * 1000 / self.calls:>9.2f}"]
        cells += [f"{percentile(lags, p):>8.1f}" for p in (50, 99)] + [f"{max(lags):>8.1f}", f"{self.commits:>7}"]
        return " ".join(cells)


HEADER = f"{'engine':<11} {'scenario':<9} {'events/s':>9} {'CPU ms/c':>9} {'lag p50':>8} {'lag p99':>8} "
HEADER += f"{'lag max':>8} {'commits':>7}"


async def replay(writer: EventWriter, callbacks: CallbackStore, writes: list[Write], speed: float | None) -> Figures:
    """Hand the writes to ``writer`` as the controller does (a task each, never awaited in the room's loop), at
    their times (``speed`` None: at once), and feed the call-back list from the same events on one task."""
    lags: list[float] = []
    jobs: asyncio.Queue[Callable[[], Awaitable[object]] | None] = asyncio.Queue()

    async def timed(events: tuple[DomainEvent, ...]) -> None:
        began = time.perf_counter()
        await writer.write(events)
        lags.append((time.perf_counter() - began) * 1000)

    async def call_back_list() -> None:
        while (job := await jobs.get()) is not None:
            await job()

    def feed(event: DomainEvent) -> None:
        if isinstance(event, CallTransition) and event.to_state == "received":
            number = str(event.data.get("caller_number"))
            jobs.put_nowait(lambda: callbacks.arrived(event.call_id, number))
        elif isinstance(event, CallTransition) and event.to_state == "connected":
            jobs.put_nowait(lambda: callbacks.answered(event.call_id))

    list_task = asyncio.create_task(call_back_list())
    commits, tasks = writer.commits, []
    cpu, began = time.process_time(), time.perf_counter()
    for write in writes:
        if speed is not None and (wait := began + write.at_s / speed - time.perf_counter()) > 0:
            await asyncio.sleep(wait)
        tasks.append(asyncio.create_task(timed(write.events)))
        for event in write.events:
            feed(event)
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    jobs.put_nowait(None)
    await list_task
    seconds, cpu_s = time.perf_counter() - began, time.process_time() - cpu
    calls = sum(1 for w in writes for e in w.events if isinstance(e, CallTransition) and e.to_state == "received")
    events = sum(len(w.events) for w in writes)
    return Figures(calls, events, seconds, cpu_s, lags, writer.commits - commits)


async def measure(url: str, writes: list[Write]) -> dict[str, Figures]:
    results = {}
    await migrate.upgrade_async(url)
    for scenario, speed in (("paced", 1.0), ("flat out", None)):
        engine = create_engine(url)
        writer = EventWriter(engine)
        await writer.start()
        try:
            callbacks = CallbackStore(engine, lambda: datetime.now(UTC))
            # the second scenario's calls are new ones (the call ids of the first are taken)
            shifted = writes if scenario == "paced" else _renamed(writes, "b")
            results[scenario] = await replay(writer, callbacks, shifted, speed)
        finally:
            await writer.stop()
            await engine.dispose()
    return results


def _renamed(writes: list[Write], prefix: str) -> list[Write]:
    def rename(event: DomainEvent) -> DomainEvent:
        call_id = getattr(event, "call_id", None)
        return dataclasses.replace(event, call_id=f"{prefix}{call_id}") if call_id else event  # type: ignore[arg-type]

    return [Write(w.at_s, tuple(rename(e) for e in w.events)) for w in writes]


async def main(calls: int, rate: float, seats: int) -> int:
    started_load = os.getloadavg()[0]  # the machine may be shared: CPU per call suffers least from it, lag most
    writes = room_writes(calls, rate, seats)
    events = sum(len(w.events) for w in writes)
    results = await each_engine(lambda url: measure(url, writes))
    load = os.getloadavg()[0]
    print(f"[bench] {calls} calls at {rate:g}/s on {seats} seats: {len(writes)} writes, {events} events; durable")
    print(f"[bench] load average (1 min) {started_load:.1f} at the start, {load:.1f} at the end")
    print(HEADER)
    for scenario in ("paced", "flat out"):
        for engine, found in results.items():
            print(found[scenario].row(engine, scenario))
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=600)
    parser.add_argument("--rate", type=float, default=10.0, help="calls per second arriving (paced scenario)")
    parser.add_argument("--seats", type=int, default=24)
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.calls, args.rate, args.seats)))
