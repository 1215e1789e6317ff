"""Retention: delete what is past its time, per kind, once a day; never what is under an open incident or kept.

Indonesia's personal-data law (UU 27/2022 on Pelindungan Data Pribadi) applies to callers' numbers and voices:
data is kept no longer than its purpose needs. Per kind (``[retention]``, days, 0 = for ever):

- recordings: the WAV file is deleted and its seal marked removed (``verify`` then expects it gone);
- call records: the call, its events (each leaves a chain tombstone: id and hashes, no content), its
  recordings' rows and files, its fallback-import mark; call-back items closed before the cut-off with their
  trail; prank-score clearances;
- audit log: ``audit_log`` rows (sign-ins, playbacks, account changes).

A call stays, with its recordings, while it is marked keep, or while an incident made from it is open or
marked keep (:func:`padang112.ops.keep.protected_call_ids`). Work is done in small transactions so the
controller's event writer never waits long for the write lock. Every run logs what it deleted (call ids and
recording names, never numbers) and writes a ``retention_run`` audit row.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import delete, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from padang112.config import RetentionSettings
from padang112.domain.calls import TERMINAL
from padang112.integrity.seals import Sealer, file_name
from padang112.ops.keep import protected_call_ids
from padang112.storage.db import for_writing, session_factory
from padang112.storage.models import (
    AuditEntry,
    Call,
    CallbackEventRow,
    CallbackRow,
    CallEvent,
    ChainTombstone,
    FallbackImport,
    PrankClearanceRow,
    Recording,
    RecordingSeal,
)
from padang112.wib import WIB

log = logging.getLogger("padang112.retention")
BATCH = 200
BY = "retention"


@dataclass
class RetentionResult:
    calls: list[str] = field(default_factory=list)
    recordings: list[str] = field(default_factory=list)
    callbacks: int = 0
    audit_rows: int = 0
    kept_calls: int = 0  # past their time but protected


class Retention:
    def __init__(
        self,
        engine: AsyncEngine,
        policy: RetentionSettings,
        recordings_dir: Path,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._engine = engine
        self._read = session_factory(engine)
        self._write = session_factory(for_writing(engine))
        self._policy = policy
        self._dir = recordings_dir
        self._clock = clock

    def _cutoff(self, days: int, now: datetime) -> datetime | None:
        return now - timedelta(days=days) if days > 0 else None

    async def run_once(self) -> RetentionResult:
        now = self._clock()
        result = RetentionResult()
        await Sealer(self._engine, self._dir, clock=self._clock).seal_pending()  # nothing leaves unsealed
        async with self._read() as session:
            protected = await protected_call_ids(session)
        if (cut := self._cutoff(self._policy.call_records_days, now)) is not None:
            await self._calls(cut, now, protected, result)
        if (cut := self._cutoff(self._policy.recordings_days, now)) is not None:
            await self._recordings(cut, now, protected, result)
        if (cut := self._cutoff(self._policy.audit_log_days, now)) is not None:
            async with self._write.begin() as session:
                done = await session.execute(delete(AuditEntry).where(AuditEntry.at < cut))
                result.audit_rows = done.rowcount or 0  # type: ignore[attr-defined]
        async with self._write.begin() as session:
            detail = {
                "calls": len(result.calls),
                "recordings": len(result.recordings),
                "callbacks": result.callbacks,
                "audit_rows": result.audit_rows,
                "kept_calls": result.kept_calls,
            }
            session.add(AuditEntry(at=now, username=BY, action="retention_run", detail=detail))
        log.info(
            "retention: deleted %d call records, %d recordings, %d call-back items, %d audit rows; %d old calls kept "
            "(open incident or keep mark)",
            len(result.calls),
            len(result.recordings),
            result.callbacks,
            result.audit_rows,
            result.kept_calls,
        )
        for i in range(0, len(result.calls), 50):
            log.info("retention: call records deleted: %s", " ".join(result.calls[i : i + 50]))
        for i in range(0, len(result.recordings), 50):
            log.info("retention: recordings deleted: %s", " ".join(result.recordings[i : i + 50]))
        return result

    async def _calls(self, cut: datetime, now: datetime, protected: set[str], result: RetentionResult) -> None:
        terminal = [state.value for state in TERMINAL]
        async with self._read() as session:
            old = list(await session.scalars(select(Call.id).where(Call.state.in_(terminal), Call.ended_at < cut)))
        result.kept_calls += sum(1 for cid in old if cid in protected)
        old = [cid for cid in old if cid not in protected]
        for i in range(0, len(old), BATCH):
            batch = old[i : i + BATCH]
            async with self._write.begin() as session:
                names = [
                    file_name(n)
                    for n in await session.scalars(select(Recording.name).where(Recording.call_id.in_(batch)))
                ]
                await _mark_removed(session, names, now)
                await session.execute(
                    insert(ChainTombstone).from_select(
                        ["table_name", "row_id", "prev_hash", "row_hash", "deleted_at"],
                        select(
                            literal(CallEvent.__tablename__),
                            CallEvent.id,
                            CallEvent.prev_hash,
                            CallEvent.row_hash,
                            literal(now, ChainTombstone.deleted_at.type),
                        ).where(CallEvent.call_id.in_(batch)),
                    )
                )
                for model, column in (
                    (CallEvent, CallEvent.call_id),
                    (Recording, Recording.call_id),
                    (FallbackImport, FallbackImport.call_id),
                    (Call, Call.id),
                ):
                    await session.execute(delete(model).where(column.in_(batch)))
            self._unlink(names, result)
            result.calls += batch
        async with self._write.begin() as session:
            callbacks = list(await session.scalars(select(CallbackRow).where(CallbackRow.closed_at < cut)))
            gone = [
                cb.id
                for cb in callbacks
                if not {cb.first_call_id, cb.last_call_id, cb.matched_call_id or ""} & protected
            ]
            await session.execute(delete(CallbackEventRow).where(CallbackEventRow.callback_id.in_(gone)))
            await session.execute(delete(CallbackRow).where(CallbackRow.id.in_(gone)))
            await session.execute(delete(PrankClearanceRow).where(PrankClearanceRow.cleared_at < cut))
            result.callbacks = len(gone)

    async def _recordings(self, cut: datetime, now: datetime, protected: set[str], result: RetentionResult) -> None:
        query = (
            select(RecordingSeal.name, RecordingSeal.call_id, RecordingSeal.sealed_at, Call.received_at)
            .outerjoin(Call, Call.id == RecordingSeal.call_id)
            .where(RecordingSeal.removed_at.is_(None))
        )
        async with self._read() as session:
            rows = (await session.execute(query)).all()
        old = [
            name
            for name, call_id, sealed_at, received_at in rows
            if (received_at or sealed_at) < cut and call_id not in protected
        ]
        for i in range(0, len(old), BATCH):
            async with self._write.begin() as session:
                await _mark_removed(session, old[i : i + BATCH], now)
            self._unlink(old[i : i + BATCH], result)

    def _unlink(self, names: list[str], result: RetentionResult) -> None:
        """Delete the files once their seals say removed (committed): a file left over is safer than a record lost."""
        for name in names:
            (self._dir / name).unlink(missing_ok=True)
        result.recordings += names

    async def run_daily(self) -> None:
        """Run every day at ``run_at`` (WIB); a failed run is logged and tried again the next day."""
        while True:
            await asyncio.sleep(seconds_until(self._policy.run_at, self._clock()))
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("retention run failed")


async def _mark_removed(session: AsyncSession, names: list[str], now: datetime) -> None:
    if names:
        await session.execute(
            update(RecordingSeal)
            .where(RecordingSeal.name.in_(names), RecordingSeal.removed_at.is_(None))
            .values(removed_at=now, removed_by=BY)
        )


def seconds_until(run_at: str, now: datetime) -> float:
    """Seconds from ``now`` to the next ``HH:MM`` WIB."""
    hour, minute = (int(part) for part in run_at.split(":"))
    local = now.astimezone(WIB)
    target = datetime.combine(local.date(), time(hour, minute), WIB)
    if target <= local:
        target += timedelta(days=1)
    return (target - local).total_seconds()
