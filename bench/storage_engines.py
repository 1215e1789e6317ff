"""Benchmark: event insert latency and throughput of the EventWriter on SQLite and on PostgreSQL 15, side by side.

Both durable, as in production: SQLite in WAL with ``synchronous=FULL`` (a temporary file), PostgreSQL a
throwaway cluster of its own with ``fsync`` and ``synchronous_commit`` on (tests/fixtures/postgres.py, port
beside the tests' one), over TCP on loopback. Each engine gets a fresh migrated database and

- ``one by one``: N single-event writes one after another (a quiet room: each write is one commit);
- ``100 tasks``: 100 tasks writing single events at once (a surge: the writer groups them per commit).

Latency is from ``write()`` called to returned (committed); prints p50/p99/max and events per second.

    P112_TEST_SLOT=3 .venv/bin/python bench/storage_engines.py --events 2000
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, __file__.rsplit("/", 1)[0])
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from stack import percentile

from padang112.domain.events import CallTransition, SeatTransition
from padang112.storage import EventWriter, create_engine, migrate
from tests.fixtures.postgres import PORT, SLOT, Cluster

T0 = datetime(2023, 8, 7, 1, 0, tzinfo=UTC)
TASKS = 100
T = TypeVar("T")


async def measure(url: str, events: int) -> dict[str, tuple[list[float], float]]:
    """Per scenario: (latencies in ms, seconds for all of them)."""
    await migrate.upgrade_async(url)
    engine = create_engine(url)
    writer = EventWriter(engine)
    await writer.start()
    try:
        latencies: list[float] = []

        async def timed(write: Awaitable[None]) -> None:
            began = time.perf_counter()
            await write
            latencies.append((time.perf_counter() - began) * 1000)

        async def scenario(run: Callable[[], Awaitable[object]]) -> tuple[list[float], float]:
            latencies.clear()
            began = time.perf_counter()
            await run()
            return list(latencies), time.perf_counter() - began

        async def one_by_one() -> None:
            for i in range(events):
                at = T0 + timedelta(seconds=i)
                await timed(writer.write([CallTransition(f"b-{i}", at, None, "received", data={"carrier": "xl"})]))

        async def surge() -> None:
            async def task(t: int) -> None:
                for i in range(events // TASKS):
                    await timed(
                        writer.write([SeatTransition(f"seat{t:03d}", T0 + timedelta(seconds=i), None, "available")])
                    )

            await asyncio.gather(*(task(t) for t in range(TASKS)))

        return {"one by one": await scenario(one_by_one), f"{TASKS} tasks": await scenario(surge)}
    finally:
        await writer.stop()
        await engine.dispose()


def row(engine: str, scenario: str, latencies: list[float], seconds: float) -> str:
    p50, p99, top = percentile(latencies, 50), percentile(latencies, 99), max(latencies)
    rate = len(latencies) / seconds
    return f"{engine:<11} {scenario:<11} {p50:>8.2f} {p99:>8.2f} {top:>8.2f} {rate:>10.0f}"


async def each_engine(measure: Callable[[str], Awaitable[T]]) -> dict[str, T]:
    """``measure(url)`` on a fresh durable SQLite file, then on a fresh database of a durable PostgreSQL 15 cluster
    of its own (port beside the slot's tests' one); engine name -> its result."""
    results: dict[str, T] = {}
    with tempfile.TemporaryDirectory(prefix="p112-bench-") as tmp:
        results["sqlite"] = await measure(f"sqlite+aiosqlite:///{tmp}/bench.db")
    cluster = Cluster(Path(f"/tmp/padang112-pg-bench-slot{SLOT}"), PORT + 1, durable=True)
    cluster.start()
    try:
        results["postgresql"] = await measure(cluster.url(cluster.create_database()))
    finally:
        cluster.stop()
    return results


async def main(events: int) -> int:
    results = await each_engine(lambda url: measure(url, events))
    print(f"[bench] EventWriter, {events} single-event writes per scenario, durable commits (ms per write)")
    print(f"{'engine':<11} {'scenario':<11} {'p50':>8} {'p99':>8} {'max':>8} {'events/s':>10}")
    for scenario in results["sqlite"]:
        for engine, found in results.items():
            print(row(engine, scenario, *found[scenario]))
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    sys.exit(asyncio.run(main(parser.parse_args().events)))
