"""A PostgreSQL 15 server that crashes and comes back (``pg_ctl -m immediate``, then a start: the real thing, on a
throwaway server of this module's own, beside the session's): the event writer keeps what it was given, in order,
and stores it once the server answers; its backlog is bounded; a leader whose lease could not be renewed meanwhile
is suspended, not lost, and resumes its own lease before a standby may take it. The whole room through such a
restart: ``tests/chaos/test_postgres_restart.py``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112.cluster.fence import Suspended
from padang112.cluster.leadership import Leadership
from padang112.domain.events import CallTransition
from padang112.integrity.verify import verify
from padang112.storage.db import create_engine
from padang112.storage.migrate import upgrade_async
from padang112.storage.outage import is_unreachable
from padang112.storage.repository import BacklogFull, EventWriter
from tests.fixtures.controller import eventually
from tests.fixtures.postgres import PORT, Cluster, slot_root
from tests.unit.conftest import sql

LEASE_S, RENEW_S, MARGIN_S, POLL_S = 1.2, 0.3, 0.3, 0.05
T0 = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def server() -> Iterator[Cluster]:
    """A server of this module's own: crashing the session's would break the other tests' connections."""
    cluster = Cluster(Path(f"{slot_root()}-outage"), PORT + 1)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
async def engine(server: Cluster) -> AsyncIterator[AsyncEngine]:
    url = server.url(server.create_database())
    await upgrade_async(url)
    own = create_engine(url)
    yield own
    await own.dispose()


def _arrived(i: int) -> CallTransition:
    return CallTransition(f"c{i:03d}", T0 + timedelta(seconds=i), None, "received")


async def _down_for(server: Cluster, seconds: float) -> None:
    await asyncio.to_thread(server.crash)
    await asyncio.sleep(seconds)


async def test_events_written_while_the_server_is_down_are_stored_in_order_when_it_is_back(
    server: Cluster, engine: AsyncEngine, tmp_path: Path
) -> None:
    writer = EventWriter(engine)
    await writer.start()
    try:
        await writer.write([_arrived(0)])
        await asyncio.to_thread(server.crash)
        writes = [asyncio.create_task(writer.write([_arrived(i)])) for i in range(1, 41)]
        await asyncio.sleep(1.0)
        assert not any(task.done() for task in writes), "a write returned while the server was down"
        assert writer.backlog == 40 and writer.waiting_since is not None
        await asyncio.to_thread(server.restart)
        back = time.monotonic()
        await asyncio.wait_for(asyncio.gather(*writes), 5)
        stored_after = time.monotonic() - back
    finally:
        await writer.stop()
    print(f"\n[writer outage] 40 waiting events stored {stored_after:.2f} s after the server accepted connections")
    assert writer.backlog == 0 and writer.waiting_since is None
    assert await sql(engine, "SELECT call_id FROM call_events ORDER BY id") == [(f"c{i:03d}",) for i in range(41)]
    assert (await verify(engine, tmp_path)).breaks == []
    assert stored_after < 1.0, stored_after


async def test_the_backlog_is_bounded_a_write_beyond_it_is_refused_at_once(
    server: Cluster, engine: AsyncEngine
) -> None:
    writer = EventWriter(engine, max_backlog=10)
    await writer.start()
    try:
        await _down_for(server, 0.2)
        waiting = [asyncio.create_task(writer.write([_arrived(i)])) for i in range(10)]
        await asyncio.sleep(0.1)
        with pytest.raises(BacklogFull):
            await writer.write([_arrived(10)])
        await asyncio.to_thread(server.restart)
        await asyncio.wait_for(asyncio.gather(*waiting), 5)
        await writer.write([_arrived(11)])  # room again
    finally:
        await writer.stop()
    assert len(await sql(engine, "SELECT 1 FROM call_events")) == 11


async def test_a_refused_connection_and_a_cut_one_count_as_unreachable(server: Cluster, engine: AsyncEngine) -> None:
    conn = await engine.connect()
    try:
        await asyncio.to_thread(server.crash)
        with pytest.raises(Exception) as cut:
            await conn.exec_driver_sql("SELECT 1")
        with pytest.raises(Exception) as refused:
            async with engine.connect() as fresh:
                await fresh.exec_driver_sql("SELECT 1")
    finally:
        await asyncio.to_thread(server.restart)
        await conn.close()
    assert is_unreachable(cut.value), repr(cut.value)
    assert is_unreachable(refused.value), repr(refused.value)


async def test_a_leader_is_suspended_while_the_server_is_down_and_resumes_before_a_standby_may_take_over(
    server: Cluster, engine: AsyncEngine
) -> None:
    url = engine.url.render_as_string(hide_password=False)
    own = [create_engine(url), create_engine(url)]
    lost: list[str] = []
    a = Leadership(own[0], "a", lease_s=LEASE_S, renew_s=RENEW_S, margin_s=MARGIN_S, poll_s=POLL_S)
    b = Leadership(own[1], "b", lease_s=LEASE_S, renew_s=RENEW_S, margin_s=MARGIN_S, poll_s=POLL_S)
    a.on_lost = lost.append
    writer = EventWriter(engine, fence=a)
    await writer.start()
    holding: asyncio.Task[str] | None = None
    try:
        await a.acquire()
        holding = asyncio.create_task(a.hold())
        await _down_for(server, LEASE_S * 2)  # renewals fail; the lease expires in the row
        assert not a.valid() and lost == []
        with pytest.raises(Suspended):
            a.check()
        pending = asyncio.create_task(writer.write([_arrived(1)]))  # made before the outage, stored after
        await asyncio.to_thread(server.restart)
        back = time.monotonic()
        assert not await b.try_acquire(), "a standby took the lease before its holder could resume it"
        await eventually(lambda: _now(a.valid()), 2, 0.02, what="the leader resumed")
        resumed = time.monotonic() - back
        await asyncio.wait_for(pending, 2)
    finally:
        if holding is not None:
            holding.cancel()
        await writer.stop()
        for each in own:
            await each.dispose()
    print(f"\n[leader outage] suspended through {LEASE_S * 2:.1f} s down; resumed {resumed:.2f} s after the return")
    assert lost == [] and a.epoch == 1
    assert await sql(engine, "SELECT holder, epoch FROM leadership") == [("a", 1)]
    assert await sql(engine, "SELECT call_id FROM call_events") == [("c001",)]


async def _now(value: bool) -> bool:
    return value
