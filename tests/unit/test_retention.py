"""Retention on a real SQLite file: what is past its time goes (logged), open incidents and keep marks hold."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112.config import RetentionSettings
from padang112.incidents.model import IncidentDraft
from padang112.incidents.store import IncidentStore
from padang112.integrity.verify import verify
from padang112.ops.keep import KeepError, KeepStore
from padang112.ops.retention import Retention, seconds_until
from padang112.storage.models import AuditEntry, Call, RecordingSeal
from padang112.storage.repository import EventWriter
from tests.unit.test_integrity import recorded_call, write_wav

pytestmark = pytest.mark.engines("sqlite", "postgresql")  # the storage contract, on both engines

OLD = datetime(2023, 1, 1, 1, 0, tzinfo=UTC)
NOW = datetime(2026, 1, 1, 1, 0, tzinfo=UTC)


@pytest.fixture
def recordings(tmp_path: Path) -> Path:
    path = tmp_path / "recordings"
    path.mkdir()
    return path


@pytest.fixture
async def room(engine: AsyncEngine, writer: EventWriter, recordings: Path) -> None:
    """Old calls c0..c4 and a fresh call new1, all recorded."""
    for i in range(5):
        await writer.write(recorded_call(f"c{i}", OLD + timedelta(minutes=i)))
        write_wav(recordings, f"call-c{i}.wav")
    await writer.write(recorded_call("new1", NOW - timedelta(days=1)))
    write_wav(recordings, "call-new1.wav")
    async with engine.begin() as conn:
        await conn.execute(
            AuditEntry.__table__.insert(),
            [
                {"at": OLD, "username": "rina", "action": "login", "detail": {}},
                {"at": NOW, "username": "rina", "action": "login", "detail": {}},
            ],
        )


def retention(engine: AsyncEngine, recordings: Path, **days: int) -> Retention:
    policy = RetentionSettings(**{"recordings_days": 0, "call_records_days": 0, "audit_log_days": 0, **days})
    return Retention(engine, policy, recordings, clock=lambda: NOW)


async def count(engine: AsyncEngine, model: type) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(model))).scalar_one())


async def test_old_call_records_and_their_recordings_go_the_chain_still_verifies(
    engine: AsyncEngine, room: None, recordings: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "padang112.retention")
    result = await retention(engine, recordings, call_records_days=365).run_once()
    assert sorted(result.calls) == [f"c{i}" for i in range(5)]
    assert sorted(result.recordings) == [f"call-c{i}.wav" for i in range(5)]
    assert sorted(p.name for p in recordings.iterdir()) == ["call-new1.wav"]
    assert await count(engine, Call) == 1
    report = await verify(engine, recordings)
    assert report.ok, report  # tombstones keep the chain whole; removed seals are not "missing"
    assert "deleted 5 call records, 5 recordings" in caplog.text and "c0 c1 c2 c3 c4" in caplog.text
    assert "0812" not in caplog.text  # never a caller's number in the log


async def test_recordings_can_go_before_the_call_records(engine: AsyncEngine, room: None, recordings: Path) -> None:
    result = await retention(engine, recordings, recordings_days=90).run_once()
    assert result.calls == [] and len(result.recordings) == 5
    assert await count(engine, Call) == 6
    async with engine.connect() as conn:
        removed = (await conn.execute(select(RecordingSeal.name).where(RecordingSeal.removed_at.is_not(None)))).all()
    assert len(removed) == 5 and (await verify(engine, recordings)).ok


async def test_nothing_under_an_open_incident_or_a_keep_mark_is_deleted(
    engine: AsyncEngine, room: None, recordings: Path
) -> None:
    incidents = IncidentStore(engine, lambda: OLD)
    draft = IncidentDraft("flood", 2, "Kuranji", "banjir", agencies=("bpbd",), call_id="c1")
    await incidents.create(draft, "rina", lambda p: 120)  # dispatched: open
    closed_draft = IncidentDraft("flood", 2, "Kuranji", "banjir", agencies=("bpbd",), call_id="c3")
    kept_incident = await incidents.create(closed_draft, "rina", lambda p: 120)
    await incidents.set_task_state(kept_incident.id, "bpbd", "cancelled", "joni", reason="ganda / duplicate")
    assert (await incidents.get(kept_incident.id)).state.value == "closed"  # type: ignore[union-attr]
    closed_draft = IncidentDraft("flood", 2, "Kuranji", "banjir", agencies=("bpbd",), call_id="c4")
    closed = await incidents.create(closed_draft, "rina", lambda p: 120)
    await incidents.set_task_state(closed.id, "bpbd", "cancelled", "joni", reason="ganda / duplicate")
    keep = KeepStore(engine, lambda: NOW)
    await keep.mark("call", "c2", "permintaan polisi / police request", "joni")
    await keep.mark("incident", str(kept_incident.id), "sengketa", "joni")
    result = await retention(engine, recordings, call_records_days=365, recordings_days=30).run_once()
    assert sorted(result.calls) == ["c0", "c4"] and result.kept_calls == 3
    assert {p.name for p in recordings.iterdir()} == {"call-c1.wav", "call-c2.wav", "call-c3.wav", "call-new1.wav"}


async def test_a_released_keep_mark_no_longer_holds(engine: AsyncEngine, room: None, recordings: Path) -> None:
    keep = KeepStore(engine, lambda: NOW)
    mark = await keep.mark("call", "c2", "sementara", "joni")
    released = await keep.release(mark.id, "admin1")
    assert released.released_by == "admin1" and await keep.active() == []
    result = await retention(engine, recordings, call_records_days=365).run_once()
    assert "c2" in result.calls
    with pytest.raises(KeepError) as again:
        await keep.release(mark.id, "admin1")
    assert again.value.code == "not_active"


async def test_keep_marks_need_a_known_subject_and_a_reason(engine: AsyncEngine, room: None) -> None:
    keep = KeepStore(engine, lambda: NOW)
    for args, code in [
        (("call", "nope", "x"), "not_found"),
        (("incident", "99", "x"), "not_found"),
        (("seat", "seat01", "x"), "bad_subject"),
        (("call", "c1", "  "), "no_reason"),
    ]:
        with pytest.raises(KeepError) as refused:
            await keep.mark(*args, by="joni")
        assert refused.value.code == code


async def test_old_audit_rows_go_and_each_run_is_audited(engine: AsyncEngine, room: None, recordings: Path) -> None:
    result = await retention(engine, recordings, audit_log_days=365).run_once()
    assert result.audit_rows == 1
    async with engine.connect() as conn:
        actions = (await conn.execute(select(AuditEntry.action).order_by(AuditEntry.id))).scalars().all()
    assert actions == ["login", "retention_run"]


async def test_zero_days_keeps_everything(engine: AsyncEngine, room: None, recordings: Path) -> None:
    result = await retention(engine, recordings).run_once()
    assert (result.calls, result.recordings, result.audit_rows) == ([], [], 0)


def test_the_daily_run_is_at_its_wib_time() -> None:
    at = datetime(2026, 1, 1, 19, 0, tzinfo=UTC)  # 02:00 WIB
    assert seconds_until("02:30", at) == 30 * 60
    assert seconds_until("02:00", at) == 24 * 3600
