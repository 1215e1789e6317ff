"""Tamper evidence on a real migrated database (SQLite and PostgreSQL): recording seals, hash-chained events,
``verify``'s report."""

from __future__ import annotations

import asyncio
import itertools
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112.callbacks.store import CallbackStore
from padang112.domain.events import CallTransition, DomainEvent, RecordingFinished, RecordingStarted
from padang112.incidents.model import IncidentDraft
from padang112.incidents.store import IncidentStore
from padang112.integrity.seals import Sealer, digest
from padang112.integrity.verify import render, verify
from padang112.storage import chain, migrate
from padang112.storage.db import create_engine
from padang112.storage.models import CallEvent, RecordingSeal
from padang112.storage.repository import EventWriter, Repository
from tests.unit.conftest import sql

pytestmark = pytest.mark.engines("sqlite", "postgresql")  # the storage contract, on both engines

T0 = datetime(2023, 8, 7, 1, 0, tzinfo=UTC)
WAV = b"RIFF" + bytes(range(256)) * 40


def recorded_call(cid: str, at: datetime) -> list[DomainEvent]:
    """A call answered by seat01, recorded as ``call-<cid>``, ended after a minute."""
    t = at + timedelta(seconds=5)
    name = f"call-{cid}"
    return [
        CallTransition(cid, at, None, "received", data={"caller_number": "0812", "carrier": "xl"}),
        CallTransition(cid, at, "received", "queued"),
        CallTransition(cid, t, "queued", "offered", seat="seat01"),
        CallTransition(cid, t, "offered", "connected", seat="seat01"),
        RecordingStarted(cid, t, name, f"/recordings/{name}.wav"),
        CallTransition(
            cid, t + timedelta(seconds=60), "connected", "ended", seat="seat01", data={"ended_by": "caller"}
        ),
        RecordingFinished(cid, t + timedelta(seconds=60), name, 60.0),
    ]


@pytest.fixture
def recordings(tmp_path: Path) -> Path:
    path = tmp_path / "recordings"
    path.mkdir()
    return path


def write_wav(recordings: Path, name: str, age_s: float = 60) -> Path:
    path = recordings / name
    path.write_bytes(WAV)
    old = path.stat().st_mtime - age_s
    os.utime(path, (old, old))
    return path


async def sealed_calls(writer: EventWriter, engine: AsyncEngine, recordings: Path, *ids: str) -> None:
    for i, cid in enumerate(ids):
        await writer.write(recorded_call(cid, T0 + timedelta(minutes=i)))
        write_wav(recordings, f"call-{cid}.wav")
    await Sealer(engine, recordings, clock=lambda: T0 + timedelta(hours=1)).seal_pending()


async def test_each_event_row_links_to_the_one_before_it(engine: AsyncEngine, writer: EventWriter) -> None:
    await writer.write(recorded_call("c1", T0))
    await writer.write(recorded_call("c2", T0))
    async with engine.connect() as conn:
        rows = (await conn.execute(select(CallEvent.id, CallEvent.prev_hash, CallEvent.row_hash))).all()
    assert [r.id for r in rows] == list(range(1, len(rows) + 1))
    assert rows[0].prev_hash == chain.GENESIS
    assert all(later.prev_hash == earlier.row_hash for earlier, later in itertools.pairwise(rows))
    assert len({r.row_hash for r in rows}) == len(rows)


async def test_two_nodes_writing_at_once_keep_one_unbroken_chain(
    engine: AsyncEngine, db_url: str, recordings: Path
) -> None:
    """Two engines (a controller and its standby, or the console's incident store) append at the same moment: the
    write lock (``BEGIN IMMEDIATE`` / PostgreSQL's advisory lock) lets each read the tail only after the other's
    commit, so no two rows share a predecessor."""
    other = create_engine(db_url)
    writers = [EventWriter(engine), EventWriter(other)]
    incidents = IncidentStore(other, clock=lambda: T0)
    draft = IncidentDraft(type_code="fire", priority=1, kecamatan="Kuranji", description="api", agencies=("damkar",))
    try:
        for writer in writers:
            await writer.start()
        await asyncio.gather(
            *(writers[i % 2].write(recorded_call(f"n{i}", T0 + timedelta(seconds=i))) for i in range(60)),
            *(incidents.create(draft, "rina", deadline_s=lambda priority: 60) for _ in range(10)),
        )
        for writer in writers:
            await writer.stop()
        report = await verify(engine, recordings)
        assert report.breaks == [] and report.rows_checked["call_events"] == 60 * 5
        assert report.rows_checked["incident_events"] >= 10
    finally:
        await other.dispose()


async def test_the_writer_keeps_the_tail_in_memory_and_catches_up_when_another_writer_appended(
    engine: AsyncEngine, writer: EventWriter, recordings: Path
) -> None:
    """The event writer chains after the tail it committed last, without reading it; the fallback import (another
    session, same process) appends behind its back: the writer's next batch fails on the taken id, reads the tail
    and commits on its second try. Nothing lost, one unbroken chain."""
    await writer.write(recorded_call("c1", T0))
    story = [
        CallTransition("fb", T0, None, "received", data={"via": "fallback", "caller_number": "0813"}),
        CallTransition("fb", T0, "received", "ended", data={"ended_by": "caller"}),
    ]
    assert await Repository(engine).import_fallback_call("u-fb", "fb", story)
    await writer.write(recorded_call("c2", T0 + timedelta(minutes=1)))
    await writer.write(recorded_call("c3", T0 + timedelta(minutes=2)))
    report = await verify(engine, recordings)
    assert report.breaks == [] and report.rows_checked["call_events"] == 3 * 5 + 2
    async with engine.connect() as conn:
        ids = (await conn.execute(select(CallEvent.id).order_by(CallEvent.id))).scalars().all()
    assert list(ids) == list(range(1, 18))


async def test_a_closed_recording_is_sealed_with_its_sha256_and_size(
    engine: AsyncEngine, writer: EventWriter, recordings: Path
) -> None:
    await sealed_calls(writer, engine, recordings, "c1")
    async with engine.connect() as conn:
        seal = (await conn.execute(select(RecordingSeal))).one()
    assert (seal.name, seal.call_id, seal.size_bytes) == ("call-c1.wav", "c1", len(WAV))
    assert seal.sha256 == digest(recordings / "call-c1.wav").sha256


async def test_a_recording_still_being_written_is_not_sealed_yet(
    engine: AsyncEngine, writer: EventWriter, recordings: Path
) -> None:
    await writer.write(recorded_call("c1", T0))
    write_wav(recordings, "call-c1.wav", age_s=0)  # Asterisk is still closing it
    assert await Sealer(engine, recordings, clock=lambda: T0 + timedelta(hours=1)).seal_pending() == 0
    report = await verify(engine, recordings)
    assert report.ok and report.unsealed == ["call-c1.wav"]


async def test_verify_reports_a_changed_wav_byte_and_a_changed_database_row(
    engine: AsyncEngine, writer: EventWriter, recordings: Path
) -> None:
    await sealed_calls(writer, engine, recordings, "c1", "c2")
    assert (await verify(engine, recordings)).ok

    wav = bytearray((recordings / "call-c2.wav").read_bytes())
    wav[100] ^= 0x01  # one bit of the caller's voice
    (recordings / "call-c2.wav").write_bytes(bytes(wav))
    # someone with access to the database rewrites who answered
    await sql(engine, "UPDATE call_events SET seat = 'seat09' WHERE call_id = 'c1' AND to_state = 'connected'")
    report = await verify(engine, recordings)

    assert report.changed == ["call-c2.wav"]
    changed_row = next(r for r in await _events(engine) if r.call_id == "c1" and r.to_state == "connected")
    assert [(b.table, b.row_id, b.reason) for b in report.breaks] == [("call_events", changed_row.id, "changed")]
    assert not report.ok
    lines = render(report, "en")
    assert "CHANGED" in lines[0] and "call-c2.wav" in lines[0]
    assert f"call_events row {changed_row.id} was changed" in lines[1]
    assert render(report)[-1].startswith("GAGAL: 2")


async def test_verify_reports_a_deleted_row_and_missing_and_extra_recordings(
    engine: AsyncEngine, writer: EventWriter, recordings: Path
) -> None:
    await sealed_calls(writer, engine, recordings, "c1", "c2")
    (recordings / "call-c1.wav").unlink()
    write_wav(recordings, "planted.wav")
    await sql(engine, "DELETE FROM call_events WHERE call_id = 'c1' AND to_state = 'ended'")
    report = await verify(engine, recordings)
    assert report.missing == ["call-c1.wav"]
    assert report.extra == ["planted.wav"]
    assert [b.reason for b in report.breaks] == ["unlinked"]


async def test_incident_events_are_chained_too(engine: AsyncEngine, recordings: Path) -> None:
    store = IncidentStore(engine, clock=lambda: T0)
    draft = IncidentDraft(type_code="fire", priority=1, kecamatan="Kuranji", description="api", agencies=("damkar",))
    await store.create(draft, "rina", deadline_s=lambda priority: 60)
    assert (await verify(engine, recordings)).ok
    await sql(engine, "UPDATE incident_events SET by = 'someone_else'")
    assert {b.table for b in (await verify(engine, recordings)).breaks} == {"incident_events"}


async def test_the_migration_chains_rows_written_before_it(db_url: str, recordings: Path) -> None:
    await migrate.upgrade_async(db_url, "0007")
    old = create_engine(db_url)
    async with old.begin() as conn:  # an older controller's rows: no hashes
        await conn.execute(
            text(
                "INSERT INTO calls (id, state, via, received_at, updated_at) "
                "VALUES ('c0', 'ended', 'controller', :t, :t)"
            ),
            {"t": T0.isoformat(timespec="microseconds")},
        )
        for state in ("received", "queued", "ended"):
            await conn.execute(
                text(
                    "INSERT INTO call_events (call_id, at, to_state, data, kind) "
                    "VALUES ('c0', :t, :s, '{}', 'transition')"
                ),
                {"t": T0.isoformat(timespec="microseconds"), "s": state},
            )
    await old.dispose()
    await migrate.upgrade_async(db_url)
    engine = create_engine(db_url)
    try:
        writer = EventWriter(engine)
        await writer.start()
        await writer.write(recorded_call("c1", T0))
        await writer.stop()
        report = await verify(engine, recordings)
        assert report.ok and report.rows_checked["call_events"] == 3 + 5
    finally:
        await engine.dispose()


async def _events(engine: AsyncEngine) -> list[CallEvent]:
    async with engine.connect() as conn:
        return list((await conn.execute(select(CallEvent))).all())  # type: ignore[arg-type]


async def test_a_call_back_recording_is_sealed_once_its_attempt_is_over(engine: AsyncEngine, recordings: Path) -> None:
    store = CallbackStore(engine, clock=lambda: T0)
    item = await store.abandoned("c9", "081234567890", "xl", 300)
    await store.take(item.id, "rina", "seat01")
    await store.connected(item.id, str(recordings / "callback-1-1.wav"))
    write_wav(recordings, "callback-1-1.wav")
    sealer = Sealer(engine, recordings, clock=lambda: T0 + timedelta(hours=1))
    assert await sealer.seal_pending() == 0  # the caller is still on the line
    assert (await verify(engine, recordings)).extra == []  # an open recording is not "extra"
    await store.attempt_ended(item.id, "hangup")
    assert await sealer.seal_pending() == 1
    async with engine.connect() as conn:
        seal = (await conn.execute(select(RecordingSeal))).one()
    assert (seal.name, seal.call_id) == ("callback-1-1.wav", None)
    assert (await verify(engine, recordings)).ok


async def test_after_its_first_pass_the_sealer_looks_only_at_recent_recordings(
    engine: AsyncEngine, writer: EventWriter, recordings: Path
) -> None:
    now = T0 + timedelta(days=10)
    sealer = Sealer(engine, recordings, clock=lambda: now)
    await writer.write(recorded_call("old1", T0))
    write_wav(recordings, "call-old1.wav")
    assert await sealer.seal_pending() == 1  # the first pass takes the whole backlog
    await writer.write(recorded_call("old2", T0))  # closed long ago, stored late (say, an import)
    await writer.write(recorded_call("new1", now - timedelta(hours=1)))
    write_wav(recordings, "call-old2.wav")
    write_wav(recordings, "call-new1.wav")
    assert await sealer.seal_pending() == 1
    assert (await verify(engine, recordings)).unsealed == ["call-old2.wav"]
    assert await Sealer(engine, recordings, clock=lambda: now).seal_pending() == 1  # a restart catches up
