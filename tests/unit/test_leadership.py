"""The leadership lease on the real PostgreSQL 15 (tests/fixtures/postgres.py): two contenders, takeover within the
lease, a stale holder refused, strictly increasing epochs, local validity after a pause, the event writer fenced;
serve's first phase (``cluster/lead.py``): a standby waits, stops without leading, takes a released lease at once."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112 import config
from padang112.cluster.fence import UNFENCED, Fence, Fenced, Suspended
from padang112.cluster.lead import leading
from padang112.cluster.leadership import Leadership
from padang112.domain.events import CallTransition
from padang112.storage.db import WRITE_LOCK_KEY, create_engine
from padang112.storage.repository import EventWriter
from tests.fixtures.controller import eventually
from tests.unit.conftest import sql

pytestmark = pytest.mark.engines("postgresql")

LEASE_S, RENEW_S, MARGIN_S, POLL_S = 1.2, 0.3, 0.3, 0.05  # the production figures scaled down: quick tests


@pytest.fixture
async def contenders(engine: AsyncEngine, db_url: str) -> AsyncIterator[Callable[[str], Leadership]]:
    """Contenders each on an engine of their own (as two processes), on the migrated database."""
    engines: list[AsyncEngine] = []

    def make(name: str) -> Leadership:
        own = create_engine(db_url)
        engines.append(own)
        return Leadership(own, name, lease_s=LEASE_S, renew_s=RENEW_S, margin_s=MARGIN_S, poll_s=POLL_S)

    yield make
    for own in engines:
        await own.dispose()


async def test_one_leads_the_other_waits_until_the_lease_expires(contenders: Callable[[str], Leadership]) -> None:
    a, b = contenders("a"), contenders("b")
    assert await a.acquire() == 1 and a.valid()
    assert not await b.try_acquire() and not b.valid()
    holding = asyncio.create_task(a.hold())
    waiting = asyncio.create_task(b.acquire())
    await asyncio.sleep(LEASE_S * 2)  # a renews: b keeps waiting well past one lease
    assert not waiting.done() and a.valid()
    holding.cancel()  # a dies: no more renewals
    died = time.monotonic()
    assert await asyncio.wait_for(waiting, LEASE_S * 2) == 2
    took = time.monotonic() - died
    assert took <= LEASE_S + POLL_S + 0.3, took
    assert b.valid()


async def test_a_stale_holder_cannot_renew_after_a_takeover(
    contenders: Callable[[str], Leadership], engine: AsyncEngine
) -> None:
    a, b = contenders("a"), contenders("b")
    await a.acquire()
    await asyncio.sleep(LEASE_S + 0.1)  # a "paused": its lease expired in the database's clock
    assert not a.valid()  # and it knows, without a round trip
    with pytest.raises(Fenced):
        a.check()
    assert await b.try_acquire() and b.epoch == 2
    assert not await a.renew()
    assert await sql(engine, "SELECT holder, epoch FROM leadership") == [("b", 2)]


async def test_a_paused_leader_knows_at_once_that_it_may_not_act_and_resumes_when_nobody_took_over(
    contenders: Callable[[str], Leadership], engine: AsyncEngine
) -> None:
    lost: list[str] = []
    a = contenders("a")
    a.on_lost = lost.append
    await a.acquire()
    time.sleep(LEASE_S + 0.05)  # the whole event loop stands still, as under SIGSTOP; the lease expired meanwhile
    assert not a.valid()
    with pytest.raises(Suspended):
        a.check()
    assert lost == []  # not known to be lost: nobody took the lease (epoch 1 is still in the row)
    holding = asyncio.create_task(a.hold())
    await eventually(lambda: _now(a.valid()), 1, 0.02, what="a resumed")
    assert lost == [] and a.epoch == 1 and not holding.done()
    assert await sql(engine, "SELECT holder, epoch FROM leadership") == [("a", 1)]
    holding.cancel()


async def test_a_paused_leader_woken_after_a_takeover_loses_at_its_first_round_trip(
    contenders: Callable[[str], Leadership],
) -> None:
    lost: list[str] = []
    a, b = contenders("a"), contenders("b")
    a.on_lost = lost.append
    await a.acquire()
    await asyncio.sleep(LEASE_S + 0.05)
    assert await b.try_acquire() and b.epoch == 2
    assert await asyncio.wait_for(a.hold(), 1) == lost[0]
    assert "another controller" in lost[0]
    with pytest.raises(Fenced) as refused:
        a.check()
    assert not isinstance(refused.value, Suspended)


async def test_a_lease_is_not_taken_in_its_first_lease_after_the_database_started(
    contenders: Callable[[str], Leadership], engine: AsyncEngine
) -> None:
    """After a database restart its holder gets one lease's time to resume: a standby whose lease is longer than
    the server has been up (here absurdly long) cannot take even an expired lease."""
    a = contenders("a")
    await a.acquire()
    await asyncio.sleep(LEASE_S + 0.05)
    up = await sql(engine, "SELECT extract(epoch FROM clock_timestamp() - pg_postmaster_start_time())")
    patient = contenders("b")
    patient.lease_s = float(up[0][0]) + 3600
    assert not await patient.try_acquire()
    assert await contenders("c").try_acquire()  # the ordinary lease: the server has been up longer than it


async def test_epochs_strictly_increase_with_every_change_of_holder(
    contenders: Callable[[str], Leadership],
) -> None:
    epochs = []
    for name in ("a", "b", "c", "a2"):
        leader = contenders(name)
        epochs.append(await asyncio.wait_for(leader.acquire(), LEASE_S * 3))
        await leader.release()  # an orderly stop: the next one takes over at once
    assert epochs == [1, 2, 3, 4]


async def test_a_dropped_connection_is_survived_by_a_renewing_leader(
    contenders: Callable[[str], Leadership], engine: AsyncEngine
) -> None:
    """A connection blip is not a lost lease: the pool reconnects and the renewal goes through."""
    a = contenders("a")
    await a.acquire()
    holding = asyncio.create_task(a.hold())
    await sql(
        engine,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
        " AND datname = current_database() AND application_name = 'padang112'",
    )
    await asyncio.sleep(LEASE_S * 2)
    assert a.valid() and not holding.done()
    holding.cancel()


async def test_the_database_refuses_a_stale_leaders_events(
    contenders: Callable[[str], Leadership], engine: AsyncEngine
) -> None:
    a, b = contenders("a"), contenders("b")
    await a.acquire()
    writer = EventWriter(engine, fence=a)
    await writer.start()
    event = CallTransition("c1", datetime.now(UTC), None, "received")
    try:
        await writer.write([event])  # the leader stores
        await asyncio.sleep(LEASE_S + 0.1)
        await b.acquire()
        a._renewed_at = time.monotonic()  # pretend a's local clock still trusts the lease: the database refuses
        a.lost_reason = None
        late = CallTransition("c1", datetime.now(UTC), "received", "queued")
        with pytest.raises(Fenced):
            await writer.write([late])
    finally:
        await writer.stop()
    assert await sql(engine, "SELECT to_state FROM call_events") == [("received",)]


async def _standby(settings: config.Settings, stop: asyncio.Event) -> Fence | None:
    async with leading(settings, stop, pytest.fail) as fence:
        return fence


async def test_serve_waits_as_standby_stops_without_leading_and_the_released_lease_is_taken_at_once(
    settings: config.Settings,
) -> None:
    async with leading(settings, asyncio.Event(), pytest.fail) as first:
        assert isinstance(first, Leadership) and first.valid() and first.epoch == 1
        stop = asyncio.Event()
        standby = asyncio.create_task(_standby(settings, stop))
        await asyncio.sleep(0.6)
        assert not standby.done()  # waits while the first leads
        stop.set()  # SIGTERM to the standby
        assert await asyncio.wait_for(standby, 2) is None
    began = time.monotonic()
    async with leading(settings, asyncio.Event(), pytest.fail) as second:  # the first released its lease
        assert isinstance(second, Leadership) and second.epoch == 2
    assert time.monotonic() - began < 1.0


@pytest.mark.engines("sqlite")
async def test_on_sqlite_serve_leads_at_once_unfenced(settings: config.Settings) -> None:
    async with leading(settings, asyncio.Event(), pytest.fail) as fence:
        assert fence is UNFENCED


async def test_the_new_leader_ends_a_paused_leaders_open_write_transaction(
    contenders: Callable[[str], Leadership], engine: AsyncEngine, db_url: str
) -> None:
    """A leader paused in its event writer's commit holds the write lock; the takeover ends its sessions, so the new
    leader's first write does not wait for ``lock_timeout`` (5 s) and the stale batch is rolled back."""
    a, b = contenders("a"), contenders("b")
    await a.acquire()
    stale = create_engine(db_url, application_name=a.application_name)
    conn = await stale.connect()
    try:
        await conn.begin()
        await conn.execute(text(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})"))  # then "paused"
        await asyncio.sleep(LEASE_S + 0.1)
        await b.acquire()
        writer = EventWriter(engine, fence=b)
        await writer.start()
        began = time.monotonic()
        try:
            await writer.write([CallTransition("c9", datetime.now(UTC), None, "received")])
        finally:
            await writer.stop()
        assert time.monotonic() - began < 1.0
        with pytest.raises(DBAPIError):
            await conn.execute(text("SELECT 1"))
    finally:
        with contextlib.suppress(Exception):
            await conn.close()
        await stale.dispose()


async def _now(value: bool) -> bool:
    return value
