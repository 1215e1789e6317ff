"""A write that finds the database locked longer than busy_timeout is tried again, not dropped (issue 15: "database
is locked" in call-back handling at 50 calls/s). A second, raw SQLite connection holds the write lock for 0.6 s, as
a long group commit would; the busy timeout is lowered to 100 ms so the test does not wait 5 s per attempt."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112.callbacks.store import CallbackStore
from padang112.domain.events import CallTransition
from padang112.storage import busy, db
from padang112.storage.repository import EventWriter, Repository

HELD_S = 0.6


@pytest.fixture
async def quick_busy_engine(
    monkeypatch: pytest.MonkeyPatch, db_url: str, engine: AsyncEngine
) -> AsyncIterator[AsyncEngine]:
    """The migrated database, through a new engine whose connections give up the lock after 100 ms."""
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 100)
    monkeypatch.setattr(busy, "PAUSE_S", 0.05)
    quick = db.create_engine(db_url)
    yield quick
    await quick.dispose()


def hold_write_lock(db_file: Path, seconds: float) -> threading.Event:
    """Another writer holds the database's write lock for ``seconds``; returns once it has the lock."""
    taken = threading.Event()

    def hold() -> None:
        connection = sqlite3.connect(db_file, isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        taken.set()
        threading.Event().wait(seconds)
        connection.execute("ROLLBACK")
        connection.close()

    threading.Thread(target=hold, daemon=True).start()
    assert taken.wait(5)
    return taken


async def test_a_locked_database_fails_a_write_that_is_not_tried_again(quick_busy_engine, db_file: Path) -> None:
    store = CallbackStore(quick_busy_engine, lambda: datetime.now(UTC))
    hold_write_lock(db_file, HELD_S)
    with pytest.raises(OperationalError, match="locked"):
        await CallbackStore.abandoned.__wrapped__(store, "c-1", "+6281200000001", "xl", 300)  # type: ignore[attr-defined]


async def test_an_abandoned_callers_item_is_stored_once_the_lock_is_free(quick_busy_engine, db_file: Path) -> None:
    store = CallbackStore(quick_busy_engine, lambda: datetime.now(UTC))
    hold_write_lock(db_file, HELD_S)
    item = await store.abandoned("c-1", "+6281200000001", "xl", 300)
    assert [i.id for i in await store.active()] == [item.id] and item.abandoned_calls == 1


async def test_a_batch_of_call_events_is_committed_once_the_lock_is_free(quick_busy_engine, db_file: Path) -> None:
    writer = EventWriter(quick_busy_engine)
    await writer.start()
    try:
        hold_write_lock(db_file, HELD_S)
        await asyncio.wait_for(writer.write([CallTransition("busy-1", datetime.now(UTC), None, "received")]), 10)
    finally:
        await writer.stop()
    assert (await Repository(quick_busy_engine).get_call("busy-1")) is not None


def test_only_a_locked_database_counts_as_busy() -> None:
    assert busy.is_busy(OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked")))
    assert not busy.is_busy(OperationalError("INSERT", {}, sqlite3.OperationalError("no such table: calls")))
    assert not busy.is_busy(RuntimeError("database is locked"))


@pytest.mark.engines("postgresql")
async def test_on_postgresql_a_write_kept_past_lock_timeout_is_tried_again(quick_busy_engine, db_url: str) -> None:
    """The same on PostgreSQL: another session holds the stores' advisory write lock past ``lock_timeout``."""
    store = CallbackStore(quick_busy_engine, lambda: datetime.now(UTC))
    holder = db.create_engine(db_url)
    try:
        async with holder.connect() as session:
            await session.execute(text(f"SELECT pg_advisory_lock({db.WRITE_LOCK_KEY})"))
            with pytest.raises(DBAPIError, match="lock timeout"):
                await CallbackStore.abandoned.__wrapped__(store, "c-1", "+6281200000001", "xl", 300)  # type: ignore[attr-defined]
            stored = asyncio.create_task(store.abandoned("c-1", "+6281200000001", "xl", 300))
            await asyncio.sleep(HELD_S)
            await session.execute(text(f"SELECT pg_advisory_unlock({db.WRITE_LOCK_KEY})"))
        item = await asyncio.wait_for(stored, 10)
    finally:
        await holder.dispose()
    assert [i.id for i in await store.active()] == [item.id]
