"""The EventWriter: group commit, order, visibility to other connections and processes, durability, errors.

On SQLite and on PostgreSQL 15 (``engines`` marker, tests/unit/conftest.py)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112.domain.events import CallTransition, DomainEvent, RecordingStarted, SeatTransition
from padang112.storage import EventWriter, Repository, create_engine

pytestmark = pytest.mark.engines("sqlite", "postgresql")  # the storage contract, on both engines

REPO_ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2023, 8, 7, 1, 0, tzinfo=UTC)
STORY = ["received", "queued", "offered", "connected", "ended"]


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def count(engine: AsyncEngine, table: str) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())  # table: a constant


async def play_story(writer: EventWriter, call: str) -> None:
    """One call's transitions, each written (and committed) before the next, as the room does."""
    for i, state in enumerate(STORY):
        before = STORY[i - 1] if i else None
        await writer.write([CallTransition(call, at(i), before, state, seat="seat01" if i >= 2 else None)])


async def test_concurrent_writes_all_commit_in_order_per_call(writer: EventWriter, engine: AsyncEngine) -> None:
    calls = [f"c-{i:03d}" for i in range(100)]
    await asyncio.gather(*(play_story(writer, call) for call in calls))

    repo = Repository(engine)
    for call in calls:
        assert [e.to_state for e in await repo.call_events(call)] == STORY
    assert await count(engine, "call_events") == 500
    assert writer.events == 500
    assert writer.commits < 100  # grouped: 500 writes shared far fewer fsyncs


async def test_a_write_is_visible_to_another_engine_as_soon_as_it_returns(writer: EventWriter, db_url: str) -> None:
    other = create_engine(db_url)
    try:
        repo = Repository(other)
        for i in range(20):
            await writer.write([CallTransition(f"v-{i}", at(i), None, "received")])
            assert await repo.get_call(f"v-{i}") is not None
    finally:
        await other.dispose()


async def test_stop_commits_every_pending_write_then_refuses_more(engine: AsyncEngine) -> None:
    writer = EventWriter(engine)
    await writer.start()
    writes = (writer.write([SeatTransition("seat01", at(i), None, "available")]) for i in range(300))
    pending = [asyncio.create_task(write) for write in writes]
    await asyncio.sleep(0)  # every task has queued its write

    await writer.stop()

    assert all(task.done() and task.exception() is None for task in pending)
    assert await count(engine, "seat_events") == 300
    with pytest.raises(RuntimeError, match="not running"):
        await writer.write([SeatTransition("seat01", at(301), None, "offline")])


async def test_a_cancelled_caller_does_not_take_its_events_back(writer: EventWriter, engine: AsyncEngine) -> None:
    task = asyncio.create_task(writer.write([CallTransition("cx-1", at(0), None, "received")]))
    await asyncio.sleep(0)
    task.cancel()
    await writer.write([CallTransition("cx-2", at(1), None, "received")])  # queued after it: committed after it

    assert await Repository(engine).get_call("cx-1") is not None


async def test_a_failing_write_fails_alone_and_the_writer_keeps_working(
    writer: EventWriter, engine: AsyncEngine
) -> None:
    bad: list[DomainEvent] = [
        CallTransition("half-done", at(0), None, "received"),
        RecordingStarted("no-such-call", at(1), "rec", "/rec.wav"),  # foreign key violation
    ]
    good = [writer.write([CallTransition(f"ok-{i}", at(i), None, "received")]) for i in range(10)]
    results = await asyncio.gather(*good[:5], writer.write(bad), *good[5:], return_exceptions=True)

    assert isinstance(results[5], IntegrityError)
    assert results[:5] + results[6:] == [None] * 10
    repo = Repository(engine)
    assert await repo.get_call("half-done") is None  # a write is all or nothing
    assert [c.id for c in await repo.recent_calls()] == [f"ok-{i}" for i in reversed(range(10))]

    await writer.write([CallTransition("after", at(99), None, "received")])
    assert await repo.get_call("after") is not None


async def test_write_refuses_naive_times_before_queueing_them(writer: EventWriter, engine: AsyncEngine) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await writer.write([CallTransition("naive", datetime(2023, 8, 7, 8, 0), None, "received")])
    with pytest.raises(TypeError):
        await writer.write(["not an event"])  # type: ignore[list-item]

    await writer.write([CallTransition("aware", at(0), None, "received")])
    assert await count(engine, "calls") == 1


WRITER_PROCESS = """
import asyncio, sys
from datetime import datetime, timezone
from padang112.domain.events import CallTransition
from padang112.storage import EventWriter, create_engine

async def main(url: str, n: int) -> None:
    writer = EventWriter(create_engine(url))
    await writer.start()
    for i in range(n):
        await writer.write([CallTransition(f"k-{i}", datetime.now(timezone.utc), None, "received")])
        print(i, flush=True)
    await asyncio.sleep(3600)

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


async def test_events_committed_before_a_sigkill_survive_it(engine: AsyncEngine, db_url: str) -> None:
    """Another process writes; this one reads it live (WAL), kills it right after a write returned, reads again."""
    n = 40
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WRITER_PROCESS, db_url, str(n), cwd=REPO_ROOT, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        for i in range(n):
            assert int(await asyncio.wait_for(proc.stdout.readline(), 30)) == i
            if i == n // 2:
                assert await count(engine, "calls") >= i + 1  # read while the other process writes
        os.kill(proc.pid, signal.SIGKILL)  # at once: no chance to checkpoint or close anything
        assert await proc.wait() == -signal.SIGKILL
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()

    fresh = create_engine(db_url)
    try:
        assert await count(fresh, "calls") == n
        assert await count(fresh, "call_events") == n
    finally:
        await fresh.dispose()


async def test_group_commit_throughput_of_single_event_writes_from_100_tasks(
    writer: EventWriter, engine: AsyncEngine
) -> None:
    """Prints the rate (run with -s); asserts only that commits are grouped, not a machine-dependent speed."""
    per_task = 20

    async def one_task(t: int) -> None:
        for i in range(per_task):
            await writer.write([SeatTransition(f"seat{t:03d}", at(i), None, "available")])

    started = time.perf_counter()
    await asyncio.gather(*(one_task(t) for t in range(100)))
    elapsed = time.perf_counter() - started

    events = 100 * per_task
    assert await count(engine, "seat_events") == events
    assert writer.commits <= events / 10
    print(f"\n{events} events in {elapsed:.3f} s: {events / elapsed:.0f} events/s, {writer.commits} commits")
