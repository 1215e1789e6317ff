"""Storage: schema and migrations, what a call's story looks like once stored, untrusted strings, imports.

Real databases, no mocks: each test runs on a SQLite file in ``tmp_path`` and on a PostgreSQL 15 database
(``engines`` marker, tests/unit/conftest.py). The writer's concurrency and durability are in
``test_storage_writer.py``.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112.domain.events import (
    CallTransition,
    DomainEvent,
    RecordingFinished,
    RecordingStarted,
    SeatPhoneFailed,
    SeatTransition,
)
from padang112.storage import EventWriter, Repository, create_engine, migrate
from padang112.storage.db import shown
from padang112.storage.models import Base
from padang112.storage.nul import storable

REPO_ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2023, 8, 7, 1, 0, tzinfo=UTC)
HEAD_REVISION = "0013"  # the newest migration in padang112/storage/migrations/versions/
TABLES = {"calls", "call_events", "seats", "seat_events", "recordings", "fallback_imports", "alembic_version"}

pytestmark = pytest.mark.engines("sqlite", "postgresql")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def repo(engine: AsyncEngine) -> Repository:
    return Repository(engine)


def schema(db_url: str) -> dict[str, Any]:
    """Every table's columns (name, type, nullable), indexes and foreign keys, as the engine reports them."""

    async def read() -> dict[str, Any]:
        engine = create_engine(db_url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(_describe)
        finally:
            await engine.dispose()

    return asyncio.run(read())


def _describe(sync: Any) -> dict[str, Any]:
    found = inspect(sync)
    return {
        table: (
            [(c["name"], str(c["type"]), c["nullable"]) for c in found.get_columns(table)],
            sorted((i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in found.get_indexes(table)),
            sorted(
                (f["name"], tuple(f["constrained_columns"]), f["referred_table"]) for f in found.get_foreign_keys(table)
            ),
        )
        for table in found.get_table_names()
    }


def test_upgrade_creates_the_schema(db_url: str) -> None:
    migrate.upgrade(db_url)

    assert set(schema(db_url)) >= TABLES
    assert migrate.current(db_url) == HEAD_REVISION


@pytest.mark.engines("sqlite")
def test_the_sqlite_file_is_in_wal_mode(db_url: str, db_file: Path) -> None:
    migrate.upgrade(db_url)

    with sqlite3.connect(db_file) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_upgrade_twice_is_a_no_op(db_url: str) -> None:
    migrate.upgrade(db_url)
    before = schema(db_url)
    migrate.upgrade(db_url)

    assert schema(db_url) == before
    assert migrate.current(db_url) == HEAD_REVISION


async def test_upgrade_async_runs_from_inside_an_event_loop(db_url: str) -> None:
    two = (migrate.upgrade_async(db_url), migrate.upgrade_async(db_url))
    results = await asyncio.gather(*two, return_exceptions=True)
    assert list(results) == [None, None]  # two at once serialize
    assert await asyncio.to_thread(migrate.current, db_url) == HEAD_REVISION


UPGRADER_PROCESS = """
import pathlib, sys, time
from padang112.storage import migrate
print("ready", flush=True)
while not pathlib.Path(sys.argv[2]).exists():
    time.sleep(0.002)
migrate.upgrade(sys.argv[1])
"""


async def test_processes_upgrading_the_same_file_at_once_all_succeed(db_url: str, tmp_path: Path) -> None:
    go = tmp_path / "go"
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            UPGRADER_PROCESS,
            db_url,
            str(go),
            cwd=REPO_ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(4)
    ]
    for proc in procs:
        assert proc.stdout is not None
        assert await asyncio.wait_for(proc.stdout.readline(), 30) == b"ready\n"
    go.touch()  # all four start migrating within a few milliseconds
    codes = [await asyncio.wait_for(proc.wait(), 30) for proc in procs]
    errors = [(await proc.stderr.read()).decode(errors="replace")[-2000:] for proc in procs if proc.stderr]
    assert codes == [0, 0, 0, 0], "\n".join(errors)
    assert await asyncio.to_thread(migrate.current, db_url) == HEAD_REVISION


async def test_migrations_build_exactly_the_models_schema(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata)
        )
    assert diff == []


@pytest.mark.engines("sqlite")
async def test_every_connection_gets_the_durability_pragmas(engine: AsyncEngine, db_file: Path) -> None:
    assert db_file.parent.is_dir()  # created by create_engine / upgrade
    async with engine.connect() as a, engine.connect() as b:
        for conn in (a, b):
            pragmas = [
                (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar()
                for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
            ]
            assert pragmas == ["wal", 2, 5000, 1]  # synchronous 2 = FULL


async def test_a_full_call_story_is_stored_in_order_with_aware_utc_times(writer: EventWriter, repo: Repository) -> None:
    call, seat = "1691400000.17", "seat01"
    caller = {
        "caller_number": "081266001122",
        "caller_name": "Budi",
        "carrier": "telkomsel",
        "dialed": "112",
        "channel_id": "1691400000.17",
    }
    await writer.write([SeatTransition(seat, at(-60), None, "available")])
    await writer.write([CallTransition(call, at(0), None, "received", data=caller)])
    await writer.write([CallTransition(call, at(1), "received", "queued")])
    await writer.write(
        [
            CallTransition(call, at(2), "queued", "offered", seat=seat),
            SeatTransition(seat, at(2), "available", "offered", call_id=call),
        ]
    )
    await writer.write(
        [
            CallTransition(call, at(5), "offered", "connected", seat=seat),
            SeatTransition(seat, at(5), "offered", "busy", call_id=call),
            RecordingStarted(call, at(5), "call-1691400000.17", "/recordings/call-1691400000.17.wav"),
        ]
    )
    await writer.write(
        [
            CallTransition(call, at(65), "connected", "ended", seat=seat, data={"ended_by": "caller"}),
            RecordingFinished(call, at(65), "call-1691400000.17", duration_s=60.0),
            SeatTransition(seat, at(65), "busy", "wrap_up", call_id=call),
        ]
    )
    await writer.write([SeatTransition(seat, at(75), "wrap_up", "available")])

    stored = await repo.get_call(call)
    assert stored is not None
    assert (stored.state, stored.seat, stored.via, stored.ended_by) == ("ended", seat, "controller", "caller")
    assert (stored.caller_number, stored.carrier, stored.dialed) == ("081266001122", "telkomsel", "112")
    assert (stored.received_at, stored.queued_at, stored.offered_at) == (at(0), at(1), at(2))
    assert (stored.connected_at, stored.ended_at, stored.updated_at) == (at(5), at(65), at(65))
    assert stored.recording == "call-1691400000.17"

    events = await repo.call_events(call)
    assert [(e.from_state, e.to_state) for e in events] == [
        (None, "received"),
        ("received", "queued"),
        ("queued", "offered"),
        ("offered", "connected"),
        ("connected", "ended"),
    ]
    assert [e.at for e in events] == [at(0), at(1), at(2), at(5), at(65)]
    assert events[0].data == caller
    times = [e.at for e in events] + [stored.received_at, stored.ended_at]
    assert all(t is not None and t.tzinfo is not None and t.utcoffset() == timedelta(0) for t in times)

    seat_moves = [(e.to_state, e.call_id) for e in await repo.seat_events(seat)]
    assert seat_moves == [
        ("available", None),
        ("offered", call),
        ("busy", call),
        ("wrap_up", call),
        ("available", None),
    ]
    assert await repo.seat_states() == {seat: ("available", None, at(75))}

    [recording] = await repo.recordings(call)
    assert (recording.started_at, recording.finished_at, recording.duration_s) == (at(5), at(65), 60.0)
    assert recording.path == "/recordings/call-1691400000.17.wav"


async def test_times_in_another_zone_are_stored_as_the_same_instant_in_utc(
    writer: EventWriter, repo: Repository
) -> None:
    wib = timezone(timedelta(hours=7))  # Padang's local time
    local = datetime(2023, 8, 7, 8, 0, tzinfo=wib)
    await writer.write([CallTransition("tz-1", local, None, "received")])

    stored = await repo.get_call("tz-1")
    assert stored is not None and stored.received_at == T0
    assert stored.received_at.tzinfo == UTC


UNTRUSTED = {
    "quotes": "Budi \"the 'boss'\" O'Neil",
    "sql": "'); DROP TABLE calls;--",
    "html": "<script>alert(1)</script>",
    "4 KB": ("0812'\"<>&;\\%_" * 400)[:4096],
    "replacement chars": b"\xff\xfe0812\xc3".decode("utf-8", "replace"),
    "emoji and scripts": "📞🚒 Budi — بودي — ブディ",
    "control chars": "0812\x00\t\r\n\x1b[31m",
}


@pytest.mark.parametrize("raw", UNTRUSTED.values(), ids=UNTRUSTED.keys())
async def test_untrusted_caller_strings_round_trip_verbatim(
    writer: EventWriter, repo: Repository, raw: str, backend: str
) -> None:
    """Verbatim, except that PostgreSQL's text has no NUL: there it reads back as U+FFFD (storage/nul.py)."""
    call = "raw-1"
    data = {"caller_number": raw, "caller_name": raw, "carrier": "xl"}
    await writer.write([CallTransition(call, at(0), None, "received", data=data)])

    stored = await repo.get_call(call)
    kept = storable(raw, backend)
    assert stored is not None and (stored.caller_number, stored.caller_name) == (kept, kept)
    [event] = await repo.call_events(call)
    assert event.data == data  # JSON text: a NUL is written as \u0000, kept on both engines
    assert [c.id for c in await repo.calls_from_number(raw, at(-1))] == [call]
    assert await repo.recent_calls(limit=1000)  # the calls table is still there


async def test_calls_from_number_lists_that_number_since_a_time_newest_first(
    writer: EventWriter, repo: Repository
) -> None:
    for i, (number, second) in enumerate([("0811", 0), ("0811", 100), ("0822", 150), ("0811", 200)]):
        data = {"caller_number": number}
        await writer.write([CallTransition(f"n-{i}", at(second), None, "received", data=data)])

    assert [c.id for c in await repo.calls_from_number("0811", at(50))] == ["n-3", "n-1"]
    assert [c.id for c in await repo.recent_calls(limit=2)] == ["n-3", "n-2"]
    with pytest.raises(ValueError, match="timezone-aware"):
        await repo.calls_from_number("0811", datetime(2023, 8, 7))


def fallback_story(call: str) -> list[CallTransition]:
    data = {"via": "fallback", "caller_number": "085377", "carrier": "indosat", "disposition": "handled"}
    return [
        CallTransition(call, at(0), None, "received", data=data),
        CallTransition(call, at(1), "received", "queued"),
        CallTransition(call, at(3), "queued", "connected", seat="seat02"),
        CallTransition(call, at(40), "connected", "ended", seat="seat02", data={"ended_by": "seat"}),
    ]


async def test_fallback_import_is_idempotent(repo: Repository) -> None:
    events = fallback_story("fb-1")
    assert not await repo.is_fallback_imported("1691400099.3")

    assert await repo.import_fallback_call("1691400099.3", "fb-1", events) is True
    assert await repo.import_fallback_call("1691400099.3", "fb-1", events) is False

    assert await repo.is_fallback_imported("1691400099.3")
    assert len(await repo.call_events("fb-1")) == len(events)
    stored = await repo.get_call("fb-1")
    assert stored is not None
    assert (stored.via, stored.state, stored.disposition) == ("fallback", "ended", "handled")
    assert stored.ended_at == at(40)


async def test_concurrent_imports_of_one_fallback_call_store_it_once(repo: Repository, writer: EventWriter) -> None:
    live = writer.write([CallTransition("live-1", at(0), None, "received")])  # a writer busy meanwhile
    imports = (repo.import_fallback_call("u-2", "fb-2", fallback_story("fb-2")) for _ in range(4))
    results = await asyncio.gather(*imports, live, return_exceptions=True)

    assert sorted(results[:4], key=str) == [False, False, False, True]
    assert results[4] is None
    assert len(await repo.call_events("fb-2")) == 4
    assert await repo.get_call("live-1") is not None


async def test_a_failed_fallback_import_leaves_nothing_behind(repo: Repository, engine: AsyncEngine) -> None:
    broken: list[DomainEvent] = [*fallback_story("fb-3"), RecordingStarted("no-such-call", at(5), "x", "/x.wav")]
    with pytest.raises(Exception, match=r"(?i)foreign key"):
        await repo.import_fallback_call("u-3", "fb-3", broken)

    assert not await repo.is_fallback_imported("u-3")
    assert await repo.get_call("fb-3") is None
    async with engine.connect() as conn:
        query = text("SELECT count(*) FROM call_events WHERE call_id = :id")
        assert (await conn.execute(query, {"id": "fb-3"})).scalar() == 0


async def test_a_seat_phone_failure_is_stored_in_the_call_story_without_moving_the_call(
    writer: EventWriter, repo: Repository
) -> None:
    await writer.write(
        [
            CallTransition("f-1", at(0), None, "received"),
            CallTransition("f-1", at(0), "received", "queued"),
            CallTransition("f-1", at(1), "queued", "offered", seat="seat01"),
            CallTransition("f-1", at(1), "offered", "queued", seat="seat01"),
            SeatPhoneFailed("seat01", at(1), "f-1", "busy", 17, 1, 5.0, False),
        ]
    )
    last = (await repo.call_events("f-1"))[-1]
    assert (last.kind, last.from_state, last.to_state, last.seat) == ("seat_phone_failed", "queued", "queued", "seat01")
    assert last.data == {"kind": "busy", "cause": 17, "failures": 1, "retry_s": 5.0, "paused": False}
    assert (await repo.open_calls())["f-1"] == "queued"


async def test_open_calls_are_those_not_yet_ended_or_abandoned(writer: EventWriter, repo: Repository) -> None:
    await writer.write(
        [
            CallTransition("o-1", at(0), None, "received"),
            CallTransition("o-2", at(1), None, "received"),
            CallTransition("o-2", at(2), "received", "queued"),
            CallTransition("o-3", at(3), None, "received"),
            CallTransition("o-3", at(4), "received", "abandoned"),
            CallTransition("o-4", at(5), None, "received"),
            CallTransition("o-4", at(6), "received", "connected"),
        ]
    )
    assert await repo.open_calls() == {"o-1": "received", "o-2": "queued", "o-4": "connected"}


async def test_open_recordings_are_the_unfinished_recordings_of_open_calls_oldest_first(
    writer: EventWriter, repo: Repository
) -> None:
    await writer.write(
        [
            CallTransition("r-1", at(0), None, "received"),
            CallTransition("r-1", at(1), "received", "connected"),
            RecordingStarted("r-1", at(1), "call-r-1-seat01-a1", "/rec/call-r-1-seat01-a1.wav"),
            RecordingStarted("r-1", at(2), "call-r-1-seat02-b1", "/rec/call-r-1-seat02-b1.wav"),
            RecordingStarted("r-1", at(3), "call-r-1-seat03-b2", "/rec/call-r-1-seat03-b2.wav"),
            RecordingFinished("r-1", at(4), "call-r-1-seat02-b1"),
            CallTransition("r-2", at(0), None, "received"),
            CallTransition("r-2", at(1), "received", "connected"),
            RecordingStarted("r-2", at(1), "call-r-2-seat04-a1", "/rec/call-r-2-seat04-a1.wav"),
            CallTransition("r-2", at(5), "connected", "ended"),
        ]
    )
    assert await repo.open_recordings() == {"r-1": ("call-r-1-seat01-a1", "call-r-1-seat03-b2")}
    assert [r.name for r in await repo.recordings("r-1")] == [
        "call-r-1-seat01-a1",
        "call-r-1-seat02-b1",
        "call-r-1-seat03-b2",
    ]


async def test_ping_fails_on_a_database_without_the_schema(db_url: str) -> None:
    engine = create_engine(db_url)  # an empty database (no ``engine`` fixture: not migrated)
    try:
        with pytest.raises(Exception, match=r'no such table|relation "calls" does not exist'):
            await Repository(engine).ping()
        await migrate.upgrade_async(db_url)
        await Repository(engine).ping()
    finally:
        await engine.dispose()


def test_an_engine_padang112_does_not_run_on_is_refused_naming_the_two_it_does() -> None:
    with pytest.raises(ValueError, match=r"'mysql\+aiomysql' .* sqlite\+aiosqlite:///<file> or postgresql\+asyncpg://"):
        create_engine("mysql+aiomysql://padang112:secret@127.0.0.1/padang112")
    assert "secret" not in shown("postgresql+asyncpg://padang112:secret@127.0.0.1/padang112")
