"""The storage API: one :class:`EventWriter` that persists domain events, and a read-side :class:`Repository`.

SQLite takes one writer at a time and every commit costs an fsync (``synchronous=FULL``). So all live events
go through a single task that commits whatever has queued up meanwhile in one transaction (group commit):
under load, a hundred writers share one fsync instead of waiting for a hundred.

While the database cannot be reached (a PostgreSQL restart: :mod:`padang112.storage.outage`) the writer keeps the
batch it holds and everything written after it, in order, and tries again every ``RETRY_S``; the controller goes on
(its lease permitting) and its events are committed, in the order they were made, once the database answers. The
backlog is bounded (``max_backlog`` events): a write beyond it is refused, not queued.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from padang112.cluster.fence import UNFENCED, Fence
from padang112.domain.calls import TERMINAL, CallState
from padang112.domain.events import DomainEvent
from padang112.storage.apply import apply_events, check_events
from padang112.storage.busy import retry_when_busy
from padang112.storage.db import for_writing, session_factory
from padang112.storage.models import (
    Call,
    CallEvent,
    FallbackImport,
    PrankClearanceRow,
    Recording,
    Seat,
    SeatEvent,
)
from padang112.storage.outage import must_wait
from padang112.storage.records import (
    CallEventRecord,
    CallRecord,
    RecordingRecord,
    SeatEventRecord,
    SeatStateRecord,
)
from padang112.storage.types import require_aware

log = logging.getLogger(__name__)

OPEN_STATES = tuple(state.value for state in CallState if state not in TERMINAL)
MAX_BACKLOG = 10_000  # events written and not yet committed; ~3 MB. A 50 calls/s surge makes ~400 events a second.
RETRY_S = 0.25  # a batch the database could not take is tried again this often
STOP_GRACE_S = 10.0  # after stop(), events still waiting for an unreachable database are given up this much later


class BacklogFull(RuntimeError):
    """The database has not taken events for so long that ``max_backlog`` of them wait: this write is refused."""


@dataclass(frozen=True)
class _Write:
    events: tuple[DomainEvent, ...]
    done: asyncio.Future[None]  # the writer's caller awaits it (and may cancel it)
    settled: asyncio.Event  # set once committed or failed, whatever the caller did
    made: float  # time.perf_counter() when write() was called: its commit lag is measured from here


class EventWriter:
    """The only writer of live events.

    :meth:`write` returns once its events are committed; writes are applied in the order they were made,
    each one all-or-nothing. If a batch fails, its writes are retried one by one so that a bad write (say,
    a recording for an unknown call) fails alone and the others still commit. A batch that fails because the
    database cannot be reached (or the leader is suspended) is not a bad write: it is tried again, and the writes
    behind it wait (module docstring). The task survives database errors; it ends only with :meth:`stop`, which
    first commits everything already written (giving up ``STOP_GRACE_S`` after the stop on a database still away).
    """

    def __init__(
        self, engine: AsyncEngine, *, max_batch: int = 200, fence: Fence = UNFENCED, max_backlog: int = MAX_BACKLOG
    ) -> None:
        """``fence``: checked inside each batch's transaction, so a controller that is no longer the leader has its
        events refused by the database itself (:mod:`padang112.cluster.fence`)."""
        self._sessions = session_factory(for_writing(engine))
        self._fence = fence
        self._max_batch = max_batch
        self._max_backlog = max_backlog
        self._queue: asyncio.Queue[_Write | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._accepting = False
        self._commits = 0
        self._events = 0
        self._backlog = 0  # events written and not yet settled
        self._last: _Write | None = None  # the newest write: settled after every earlier one
        self._give_up_at: float | None = None  # monotonic; set by stop()
        self.waiting_since: float | None = None  # monotonic start of the current wait for the database, or None
        # The call-event chain's last link as this writer committed it (None: read it in the next transaction).
        self._tail: tuple[int, str] | None = None
        # called after each committed batch with (events, seconds from taking the batch to its commit)
        self.batch_observers: list[Callable[[int, float], None]] = []
        # called for each committed write with the seconds from write() to its commit (the event lag)
        self.lag_observers: list[Callable[[float], None]] = []

    @property
    def commits(self) -> int:
        """Transactions committed so far (with :attr:`events`, shows how well commits are grouped)."""
        return self._commits

    @property
    def events(self) -> int:
        """Events committed so far."""
        return self._events

    @property
    def queue_depth(self) -> int:
        """Writes waiting for the next batch."""
        return self._queue.qsize()

    @property
    def backlog(self) -> int:
        """Events written and not yet committed (nor refused)."""
        return self._backlog

    async def start(self) -> None:
        if self._task is not None:
            raise RuntimeError("EventWriter already started")
        self._accepting = True
        self._task = asyncio.create_task(self._run(), name="storage-event-writer")

    async def stop(self) -> None:
        """Refuse new writes, commit the pending ones, end the task."""
        if self._task is None:
            return
        self._accepting = False
        self._give_up_at = time.monotonic() + STOP_GRACE_S
        self._queue.put_nowait(None)
        task, self._task = self._task, None
        await task

    async def write(self, events: Sequence[DomainEvent]) -> None:
        """Persist ``events``; returns when they are committed, raises what made their transaction fail
        (:class:`BacklogFull` at once when ``max_backlog`` events already wait).

        Cancelling the caller does not take the events back: they are committed all the same.
        """
        check_events(events)
        if not self._accepting:
            raise RuntimeError("EventWriter is not running")
        if not events:
            return
        if self._backlog + len(events) > self._max_backlog:
            raise BacklogFull(f"{self._backlog} events wait for the database: {len(events)} more refused")
        loop = asyncio.get_running_loop()
        write = _Write(tuple(events), loop.create_future(), asyncio.Event(), time.perf_counter())
        self._backlog += len(events)
        self._last = write
        self._queue.put_nowait(write)
        await write.done

    async def flushed(self) -> None:
        """Return once every write made before this call is settled (committed or failed)."""
        if self._last is not None:
            await self._last.settled.wait()

    def _settle(self, write: _Write, error: BaseException | None) -> None:
        self._backlog -= len(write.events)
        write.settled.set()
        if write.done.done():  # the writer's caller was cancelled
            return
        if error is None:
            write.done.set_result(None)
        else:
            write.done.set_exception(error)

    async def _run(self) -> None:
        batch: list[_Write] = []
        try:
            while True:
                batch, stopping = await self._next_batch()
                if batch:
                    await self._commit(batch)
                batch = []
                if stopping:
                    return
        finally:
            # Work is left over only when the task was cancelled instead of stopped.
            while not self._queue.empty():
                if (item := self._queue.get_nowait()) is not None:
                    batch.append(item)
            for write in batch:
                self._settle(write, RuntimeError("EventWriter cancelled: events may not be committed"))

    async def _next_batch(self) -> tuple[list[_Write], bool]:
        """Wait for a write, then take whatever else is queued, up to ``max_batch`` events.

        Returns the batch and whether :meth:`stop` was asked for. A write is never split across batches.
        """
        item = await self._queue.get()
        batch: list[_Write] = []
        count = 0
        while item is not None:
            batch.append(item)
            count += len(item.events)
            if count >= self._max_batch or self._queue.empty():
                return batch, False
            item = self._queue.get_nowait()
        return batch, True

    async def _commit(self, batch: list[_Write]) -> None:
        events = [ev for write in batch for ev in write.events]
        began = time.perf_counter()
        try:
            await self._stored(events)
        except Exception as exc:
            if len(batch) == 1:
                log.error("storage: write of %d events failed: %r", len(events), exc, exc_info=exc)
                self._settle(batch[0], exc)
                return
            log.warning("storage: batch of %d writes failed (%r); retrying them one by one", len(batch), exc)
            for write in batch:
                await self._commit([write])
            return
        committed = time.perf_counter()
        self._commits += 1
        self._events += len(events)
        for observe in self.batch_observers:
            observe(len(events), committed - began)
        for write in batch:
            for observe_lag in self.lag_observers:
                observe_lag(committed - write.made)
            self._settle(write, None)

    async def _stored(self, events: list[DomainEvent]) -> None:
        """One transaction, tried again while the database is locked (``busy.py``), and while it cannot be reached
        or this leader is suspended (``outage.py``): then every ``RETRY_S``, until :meth:`stop`'s grace is over."""
        while True:
            try:
                await retry_when_busy(lambda: self._apply(events), f"a batch of {len(events)} events")
            except Exception as exc:
                if not must_wait(exc) or (self._give_up_at is not None and time.monotonic() > self._give_up_at):
                    raise
                if self.waiting_since is None:
                    self.waiting_since = time.monotonic()
                    log.error(
                        "storage: basis data tidak menerima peristiwa, disimpan berurutan begitu kembali / the "
                        "database takes no events (%r); %d wait, in order, for its return",
                        exc,
                        self._backlog,
                    )
                await asyncio.sleep(RETRY_S)
                continue
            if self.waiting_since is not None:
                log.warning(
                    "storage: basis data kembali / the database is back after %.1f s; the waiting events are stored",
                    time.monotonic() - self.waiting_since,
                )
                self.waiting_since = None
            return

    async def _apply(self, events: list[DomainEvent]) -> None:
        """One transaction. With the chain's tail from memory, a failure may mean another writer appended to the
        chain meanwhile (the ids after our tail were taken: a primary-key error): tried once more, tail read."""
        tail, self._tail = self._tail, None  # known again only once this transaction commits
        try:
            self._tail = await self._transaction(events, tail)
        except Exception:
            if tail is None:
                raise
            log.info("storage: a batch failed with the chain's tail from memory; again with the tail read")
            self._tail = await self._transaction(events, None)

    async def _transaction(self, events: list[DomainEvent], tail: tuple[int, str] | None) -> tuple[int, str]:
        async with self._sessions.begin() as session:
            await self._fence.check_stored(session)
            return await apply_events(session, events, tail)


class Repository:
    """Reads for the consoles and the controller, plus the idempotent import of fallback calls."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._read = session_factory(engine)
        self._write = session_factory(for_writing(engine))

    @property
    def read_sessions(self) -> async_sessionmaker[AsyncSession]:
        """Sessions for read-only queries that live elsewhere (e.g. statistics)."""
        return self._read

    async def marked_calls(self, dispositions: frozenset[str], since: datetime) -> list[tuple[str, datetime, str]]:
        """(caller number, received at, call id) of calls given one of ``dispositions`` since ``since``."""
        require_aware(since, "since")
        query = select(Call.caller_number, Call.received_at, Call.id).where(
            Call.disposition.in_(sorted(dispositions)), Call.received_at >= since
        )
        async with self._read() as session:
            return [(number, at, call_id) for number, at, call_id in (await session.execute(query)).all() if number]

    async def called_in_over(self, number: str, carrier: str) -> bool:
        """Did a call from ``number`` ever arrive over ``carrier``'s trunk? (Only such numbers are called back.)"""
        query = select(Call.id).where(Call.caller_number == number, Call.carrier == carrier).limit(1)
        async with self._read() as session:
            return (await session.scalar(query)) is not None

    async def prank_clearances(self, since: datetime) -> list[tuple[str, datetime]]:
        """(caller number, cleared at) of prank-score clearances since ``since``, oldest first."""
        require_aware(since, "since")
        query = (
            select(PrankClearanceRow.number, PrankClearanceRow.cleared_at)
            .where(PrankClearanceRow.cleared_at >= since)
            .order_by(PrankClearanceRow.cleared_at, PrankClearanceRow.id)  # id: ties in the same order on both engines
        )
        async with self._read() as session:
            return [(number, at) for number, at in (await session.execute(query)).all()]

    async def add_prank_clearance(
        self, number: str, at: datetime, by: str, call_id: str | None, score_before: float
    ) -> None:
        """Store that ``by`` cleared ``number``'s prank score at ``at`` (append-only: the audit trail)."""
        require_aware(at, "at")
        async with self._write.begin() as session:
            session.add(
                PrankClearanceRow(
                    number=number, cleared_at=at, cleared_by=by, call_id=call_id, score_before=score_before
                )
            )

    async def ping(self) -> None:
        """Raise if the database cannot be read (readiness probe): file, schema and connection pool."""
        async with self._read() as session:
            await session.execute(select(Call.id).limit(1))

    async def get_call(self, call_id: str) -> CallRecord | None:
        async with self._read() as session:
            row = await session.get(Call, call_id)
            return None if row is None else CallRecord.of(row)

    async def call_events(self, call_id: str) -> list[CallEventRecord]:
        """The call's audit trail, oldest first."""
        async with self._read() as session:
            query = select(CallEvent).where(CallEvent.call_id == call_id).order_by(CallEvent.id)
            return [CallEventRecord.of(row) for row in await session.scalars(query)]

    async def seat_events(self, seat: str) -> list[SeatEventRecord]:
        """The seat's audit trail, oldest first."""
        async with self._read() as session:
            query = select(SeatEvent).where(SeatEvent.seat_id == seat).order_by(SeatEvent.id)
            return [SeatEventRecord.of(row) for row in await session.scalars(query)]

    async def seat_states(self) -> dict[str, SeatStateRecord]:
        async with self._read() as session:
            rows = await session.scalars(select(Seat).order_by(Seat.id))
            return {row.id: SeatStateRecord(row.state, row.reason, row.since) for row in rows}

    async def recordings(self, call_id: str) -> list[RecordingRecord]:
        async with self._read() as session:
            query = select(Recording).where(Recording.call_id == call_id).order_by(Recording.id)
            return [RecordingRecord.of(row) for row in await session.scalars(query)]

    async def recording_names(self, call_ids: Sequence[str]) -> dict[str, list[str]]:
        """Call id -> the names of its recordings, oldest first (calls without one are left out)."""
        names: dict[str, list[str]] = {}
        if not call_ids:
            return names
        query = select(Recording.call_id, Recording.name).where(Recording.call_id.in_(call_ids)).order_by(Recording.id)
        async with self._read() as session:
            for call_id, name in (await session.execute(query)).all():
                names.setdefault(call_id, []).append(name)
        return names

    async def recent_calls(self, limit: int = 50) -> list[CallRecord]:
        """The latest calls, newest first."""
        async with self._read() as session:
            query = select(Call).order_by(Call.received_at.desc(), Call.id.desc()).limit(limit)
            return [CallRecord.of(row) for row in await session.scalars(query)]

    async def open_calls(self) -> dict[str, str]:
        """Calls not yet ended or abandoned, id -> state, oldest first: what a restarted controller reconciles."""
        query = select(Call.id, Call.state).where(Call.state.in_(OPEN_STATES)).order_by(Call.received_at, Call.id)
        async with self._read() as session:
            return dict((await session.execute(query)).tuples().all())

    async def open_recordings(self) -> dict[str, tuple[str, ...]]:
        """Recordings not finished of calls not ended, call id -> names oldest first: what a reconcile closes."""
        query = (
            select(Recording.call_id, Recording.name)
            .join(Call, Call.id == Recording.call_id)
            .where(Call.state.in_(OPEN_STATES), Recording.finished_at.is_(None))
            .order_by(Recording.id)
        )
        names: dict[str, tuple[str, ...]] = {}
        async with self._read() as session:
            for call_id, name in (await session.execute(query)).all():
                names[call_id] = (*names.get(call_id, ()), name)
        return names

    async def calls_from_number(self, number: str, since: datetime) -> list[CallRecord]:
        """Calls from ``number`` received at or after ``since``, newest first (the screen-pop history)."""
        require_aware(since, "since")
        query = (
            select(Call)
            .where(Call.caller_number == number, Call.received_at >= since)
            .order_by(Call.received_at.desc(), Call.id.desc())
        )
        async with self._read() as session:
            return [CallRecord.of(row) for row in await session.scalars(query)]

    async def is_fallback_imported(self, uniqueid: str) -> bool:
        async with self._read() as session:
            return await session.get(FallbackImport, uniqueid) is not None

    async def import_fallback_call(self, uniqueid: str, call_id: str, events: Sequence[DomainEvent]) -> bool:
        """Store a call the fallback queue handled: its events and the import mark, in one transaction.

        The events should carry ``data={"via": "fallback", ...}`` on the first transition. Returns False
        (and changes nothing) if ``uniqueid`` was imported before, also by another process: the write lock
        is taken before the check.
        """
        check_events(events)
        async with self._write.begin() as session:
            if await session.get(FallbackImport, uniqueid) is not None:
                return False
            await apply_events(session, events)
            imported = FallbackImport(uniqueid=uniqueid, call_id=call_id, imported_at=datetime.now(UTC))
            session.add(imported)
        return True
