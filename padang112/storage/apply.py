"""How each domain event changes the tables, inside a caller's transaction.

Shared by the :class:`~padang112.storage.repository.EventWriter` (live events) and the fallback import, so a
call imported after an outage looks exactly like one the controller handled. All values are bound parameters.

A batch is applied in two steps. :func:`plan` folds the events, in order, into what they do to each table
(pure: the final columns of each call and seat touched, the audit rows in order, the recordings); then
:func:`apply_events` carries the plan out with a few Core statements, each run once for all its rows
(``executemany``): calls and seats are upserted (``INSERT ... ON CONFLICT DO UPDATE``), so nothing is loaded to be
changed. The ORM's load-then-mutate and its unit of work cost more Python per event than the database's own work
(bench/storage_calls.py). The only read left is the stored state and seat of a call whose batch starts with a note
(``CallAnnotated``, ``SeatPhoneFailed``): its audit row repeats them.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.dml import Insert

from padang112.domain.events import (
    CallAnnotated,
    CallTransition,
    DomainEvent,
    RecordingFinished,
    RecordingStarted,
    SeatPhoneFailed,
    SeatTransition,
)
from padang112.storage import chain
from padang112.storage.models import Call, CallEvent, Recording, Seat, SeatEvent
from padang112.storage.nul import storable
from padang112.storage.types import require_aware

log = logging.getLogger(__name__)

EVENT_TYPES = (CallTransition, SeatTransition, RecordingStarted, RecordingFinished, CallAnnotated, SeatPhoneFailed)

# Keys of CallTransition.data copied onto the call row (all of them also land in call_events.data).
CALL_COLUMNS = frozenset(
    {"caller_number", "caller_name", "carrier", "dialed", "channel_id", "disposition", "ended_by", "via", "node"}
)

# The call column that records when the call (last) entered a state.
STATE_TIME_COLUMNS = {
    "received": "received_at",
    "queued": "queued_at",
    "offered": "offered_at",
    "connected": "connected_at",
    "ended": "ended_at",
    "abandoned": "ended_at",
}

CALLS: Table = Call.__table__  # type: ignore[assignment]
SEATS: Table = Seat.__table__  # type: ignore[assignment]
CALL_EVENTS: Table = CallEvent.__table__  # type: ignore[assignment]
SEAT_EVENTS: Table = SeatEvent.__table__  # type: ignore[assignment]
RECORDINGS: Table = Recording.__table__  # type: ignore[assignment]
TABLES = {table.name: table for table in (CALLS, SEATS)}
UPDATE_CALL = update(CALLS).where(CALLS.c.id == bindparam("_id"))  # SET: the columns of the parameters given
FINISH_RECORDING = (  # the newest recording of that name
    update(RECORDINGS)
    .where(
        RECORDINGS.c.id
        == select(func.max(RECORDINGS.c.id))
        .where(RECORDINGS.c.call_id == bindparam("_call"), RECORDINGS.c.name == bindparam("_name"))
        .scalar_subquery()
    )
    .values(finished_at=bindparam("finished_at"), duration_s=bindparam("duration_s"))
)
NOTES = CallAnnotated | SeatPhoneFailed  # call_events rows that are not moves: they repeat the call's state and seat


def check_events(events: Sequence[DomainEvent]) -> None:
    """Refuse, before anything is queued, what could only fail later inside someone else's batch."""
    for ev in events:
        if not isinstance(ev, EVENT_TYPES):
            raise TypeError(f"not a domain event: {ev!r}")
        require_aware(ev.at, f"{type(ev).__name__}.at")


# ---- the plan (pure) ------------------------------------------------------------------------------------------


@dataclass
class Plan:
    """What a batch of events does to the tables (:func:`plan`)."""

    created: dict[str, dict[str, Any]] = field(default_factory=dict)  # calls a transition may create: their row
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)  # call id -> columns set (last value wins)
    seats: dict[str, dict[str, Any]] = field(default_factory=dict)  # seat id -> its row after the batch
    call_events: list[dict[str, Any]] = field(default_factory=list)  # in order; ids and hashes come with the tail
    seat_events: list[dict[str, Any]] = field(default_factory=list)
    recordings: list[dict[str, Any]] = field(default_factory=list)  # new rows (finished in the batch: with it)
    finished: list[RecordingFinished] = field(default_factory=list)  # of recordings stored before the batch


def stored_state_needed(events: Sequence[DomainEvent]) -> set[str]:
    """Calls whose first event in ``events`` is a note: their stored (state, seat) is needed to :func:`plan`."""
    seen: set[str] = set()
    needed: set[str] = set()
    for ev in events:
        if isinstance(ev, CallTransition | RecordingStarted | NOTES) and ev.call_id not in seen:
            seen.add(ev.call_id)
            if isinstance(ev, NOTES):
                needed.add(ev.call_id)
    return needed


def plan(events: Sequence[DomainEvent], stored: Mapping[str, tuple[str, str | None]]) -> Plan:
    """Fold ``events`` in order; ``stored``: call id -> (state, seat) as stored, for :func:`stored_state_needed`.

    Raises ValueError for a note on a call neither stored nor created in the batch.
    """
    out = Plan()
    now: dict[str, tuple[str, str | None]] = dict(stored)  # each call's (state, seat) as the batch goes
    for ev in events:
        if isinstance(ev, CallTransition):
            _transition(out, now, ev)
        elif isinstance(ev, SeatTransition):
            out.seats[ev.seat] = {"id": ev.seat, "state": ev.to_state, "reason": ev.reason, "call_id": ev.call_id}
            out.seats[ev.seat]["since"] = ev.at
            out.seat_events.append(
                {
                    "seat_id": ev.seat,
                    "at": ev.at,
                    "from_state": ev.from_state,
                    "to_state": ev.to_state,
                    "reason": ev.reason,
                    "call_id": ev.call_id,
                }
            )
        elif isinstance(ev, RecordingStarted):
            out.changes.setdefault(ev.call_id, {})["recording"] = ev.name
            row = {"call_id": ev.call_id, "name": ev.name, "path": ev.path, "started_at": ev.at}
            out.recordings.append(row | {"finished_at": None, "duration_s": None})
        elif isinstance(ev, RecordingFinished):
            _finished(out, ev)
        elif isinstance(ev, CallAnnotated):
            _note(out, now, ev.call_id, ev.at, None, {**ev.data, "by": ev.by}, ev.kind)
            columns = out.changes.setdefault(ev.call_id, {})
            columns.update({key: _text(value) for key, value in ev.data.items() if key in CALL_COLUMNS})
            columns["updated_at"] = ev.at
        else:
            data = {"kind": ev.kind, "cause": ev.cause, "failures": ev.failures, "retry_s": ev.retry_s}
            _note(out, now, ev.call_id, ev.at, ev.seat, data | {"paused": ev.paused}, "seat_phone_failed")
    return out


def _transition(out: Plan, now: dict[str, tuple[str, str | None]], ev: CallTransition) -> None:
    if ev.call_id not in now and ev.call_id not in out.created:
        out.created[ev.call_id] = {"id": ev.call_id, "via": "controller", "received_at": ev.at}
    columns = out.changes.setdefault(ev.call_id, {})
    columns["state"], columns["updated_at"] = ev.to_state, ev.at
    seat = now.get(ev.call_id, ("", None))[1]
    if ev.seat is not None:
        columns["seat"] = seat = ev.seat
    now[ev.call_id] = (ev.to_state, seat)
    column = STATE_TIME_COLUMNS.get(ev.to_state)
    if column is not None:
        columns[column] = ev.at
    columns.update({key: _text(value) for key, value in ev.data.items() if key in CALL_COLUMNS})
    out.call_events.append(
        {
            "call_id": ev.call_id,
            "at": ev.at,
            "from_state": ev.from_state,
            "to_state": ev.to_state,
            "seat": ev.seat,
            "kind": "transition",
            "data": dict(ev.data),
        }
    )


def _note(
    out: Plan,
    now: Mapping[str, tuple[str, str | None]],
    call_id: str,
    at: datetime,
    seat: str | None,
    data: dict[str, Any],
    kind: str,
) -> None:
    """A ``call_events`` row that is not a move (the call keeps its state); ``seat`` None: the call's own."""
    if call_id not in now:
        raise ValueError(f"{kind} for unknown call {call_id!r}")
    state, call_seat = now[call_id]
    row = {"call_id": call_id, "at": at, "from_state": state, "to_state": state, "seat": seat or call_seat}
    out.call_events.append(row | {"kind": kind, "data": data})


def _finished(out: Plan, ev: RecordingFinished) -> None:
    """The newest recording of that name: started in this batch, or else stored before it."""
    for row in reversed(out.recordings):
        if row["call_id"] == ev.call_id and row["name"] == ev.name:
            row["finished_at"], row["duration_s"] = ev.at, ev.duration_s
            return
    out.finished.append(ev)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def grouped(rows: Iterable[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Rows with the same columns together (one ``executemany`` each), in the order each column set first came."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    return list(groups.values())


# ---- carrying it out ------------------------------------------------------------------------------------------


async def apply_events(
    session: AsyncSession, events: Sequence[DomainEvent], tail: tuple[int, str] | None = None
) -> tuple[int, str]:
    """Apply ``events`` in order; the caller commits. Returns the call-event chain's new tail (id, hash).

    ``tail``: the chain's last link as the caller knows it (the event writer keeps it); None: read it. A tail that
    is no longer the last one makes the insert fail on the primary key (the ids follow it), never fork the chain.
    """
    conn = await session.connection()
    needed = stored_state_needed(events)
    stored: dict[str, tuple[str, str | None]] = {}
    if needed:
        query = select(CALLS.c.id, CALLS.c.state, CALLS.c.seat).where(CALLS.c.id.in_(sorted(needed)))
        stored = {call_id: (state, seat) for call_id, state, seat in (await conn.execute(query)).all()}
    todo = plan(events, stored)
    if tail is None:
        tail = await session.run_sync(lambda sync: chain.tail(sync, CALL_EVENTS.name))
    await _write_calls(conn, todo)
    if todo.seats:
        await _upsert(conn, SEATS, list(todo.seats.values()), ("state", "reason", "call_id", "since"))
    if todo.call_events:
        backend = conn.dialect.name
        for row in todo.call_events:  # hashed as stored: PostgreSQL keeps no NUL
            row.update({k: storable(v, backend) for k, v in row.items() if isinstance(v, str)})
        tail = chain.link_rows(tail, CALL_EVENTS.name, todo.call_events)
        await conn.execute(CALL_EVENTS.insert(), todo.call_events)
    if todo.seat_events:
        await conn.execute(SEAT_EVENTS.insert(), todo.seat_events)
    if todo.recordings:
        await conn.execute(RECORDINGS.insert(), todo.recordings)
    for ev in todo.finished:
        await _finish_recording(conn, ev)
    return tail


async def _write_calls(conn: AsyncConnection, todo: Plan) -> None:
    """Calls a transition touched are upserted (created if new, else only the columns their events set); the
    others only updated: a note or a recording never creates a call (a recording of an unknown call fails on its
    foreign key, a note on an unknown call in :func:`plan`)."""
    upserts: dict[tuple[tuple[str, ...], tuple[str, ...]], list[dict[str, Any]]] = {}
    updates: list[dict[str, Any]] = []
    for call_id, columns in todo.changes.items():
        if call_id in todo.created:
            row = todo.created[call_id] | columns
            upserts.setdefault((tuple(sorted(row)), tuple(sorted(columns))), []).append(row)
        else:
            updates.append({"_id": call_id} | columns)
    for (_, changed), rows in upserts.items():
        await _upsert(conn, CALLS, rows, changed)
    for rows in grouped(updates):
        await conn.execute(UPDATE_CALL, rows)


async def _upsert(conn: AsyncConnection, table: Table, rows: list[dict[str, Any]], changed: Iterable[str]) -> None:
    """``INSERT ... ON CONFLICT (id) DO UPDATE SET`` the ``changed`` columns, once for all ``rows`` (same columns)."""
    await conn.execute(_upsert_statement(conn.dialect.name, table.name, tuple(changed)), rows)


@functools.cache
def _upsert_statement(backend: str, table: str, changed: tuple[str, ...]) -> Insert:
    """Built once per shape: building ``excluded`` costs more than compiling the statement (found from cache)."""
    statement = (postgresql if backend == "postgresql" else sqlite).insert(TABLES[table])
    return statement.on_conflict_do_update(
        index_elements=["id"], set_={name: statement.excluded[name] for name in changed}
    )


async def _finish_recording(conn: AsyncConnection, ev: RecordingFinished) -> None:
    values = {"_call": ev.call_id, "_name": ev.name, "finished_at": ev.at, "duration_s": ev.duration_s}
    if (await conn.execute(FINISH_RECORDING, values)).rowcount == 0:
        log.warning("call %s: recording %s finished but was never started", ev.call_id, ev.name)
