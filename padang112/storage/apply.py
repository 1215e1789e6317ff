"""How each domain event changes the tables, inside a caller's transaction.

Shared by the :class:`~padang112.storage.repository.EventWriter` (live events) and the fallback import, so a
call imported after an outage looks exactly like one the controller handled. All values go through the ORM
as bound parameters.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from padang112.domain.events import (
    CallAnnotated,
    CallTransition,
    DomainEvent,
    RecordingFinished,
    RecordingStarted,
    SeatPhoneFailed,
    SeatTransition,
)
from padang112.storage.models import Call, CallEvent, Recording, Seat, SeatEvent
from padang112.storage.types import require_aware

log = logging.getLogger(__name__)

Row = TypeVar("Row", Call, Seat)

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


def check_events(events: Sequence[DomainEvent]) -> None:
    """Refuse, before anything is queued, what could only fail later inside someone else's batch."""
    for ev in events:
        if not isinstance(ev, EVENT_TYPES):
            raise TypeError(f"not a domain event: {ev!r}")
        require_aware(ev.at, f"{type(ev).__name__}.at")


async def apply_events(session: AsyncSession, events: Sequence[DomainEvent]) -> None:
    """Apply ``events`` in order; the caller commits.

    The call and seat rows the events touch are loaded with one query each, up front: looking them up
    one by one would cost a round trip to the database thread per event. The unit of work then inserts
    new calls and seats before the rows that refer to them (it orders inserts by foreign key).
    """
    call_ids = {
        ev.call_id
        for ev in events
        if isinstance(ev, CallTransition | RecordingStarted | CallAnnotated | SeatPhoneFailed)
    }
    calls = await _load(session, Call, call_ids)
    seats = await _load(session, Seat, {ev.seat for ev in events if isinstance(ev, SeatTransition)})
    for ev in events:
        if isinstance(ev, CallTransition):
            _call_transition(session, calls, ev)
        elif isinstance(ev, SeatTransition):
            _seat_transition(session, seats, ev)
        elif isinstance(ev, RecordingStarted):
            _recording_started(session, calls, ev)
        elif isinstance(ev, CallAnnotated):
            _call_annotated(session, calls, ev)
        elif isinstance(ev, SeatPhoneFailed):
            _seat_phone_failed(session, calls, ev)
        else:
            await _recording_finished(session, ev)


async def _load(session: AsyncSession, model: type[Row], ids: set[str]) -> dict[str, Row]:
    if not ids:
        return {}
    rows = await session.scalars(select(model).where(model.id.in_(ids)))
    return {row.id: row for row in rows}


def _call_annotated(session: AsyncSession, calls: dict[str, Call], ev: CallAnnotated) -> None:
    call = _story_row(session, calls, ev.call_id, ev.at, None, {**ev.data, "by": ev.by}, ev.kind)
    for key, value in ev.data.items():
        if key in CALL_COLUMNS:
            setattr(call, key, _text(value))
    call.updated_at = ev.at


def _seat_phone_failed(session: AsyncSession, calls: dict[str, Call], ev: SeatPhoneFailed) -> None:
    """In the call's story: the seat it was offered to could not take it (kind ``seat_phone_failed``)."""
    data = {"kind": ev.kind, "cause": ev.cause, "failures": ev.failures, "retry_s": ev.retry_s, "paused": ev.paused}
    _story_row(session, calls, ev.call_id, ev.at, ev.seat, data, "seat_phone_failed")


def _story_row(
    session: AsyncSession,
    calls: dict[str, Call],
    call_id: str,
    at: datetime,
    seat: str | None,
    data: dict[str, Any],
    kind: str,
) -> Call:
    """A ``call_events`` row that is not a move (the call keeps its state); ``seat`` None: the call's own."""
    call = calls.get(call_id)
    if call is None:
        raise ValueError(f"{kind} for unknown call {call_id!r}")
    state = call.state
    session.add(
        CallEvent(
            call_id=call_id, at=at, from_state=state, to_state=state, seat=seat or call.seat, data=data, kind=kind
        )
    )
    return call


def _call_transition(session: AsyncSession, calls: dict[str, Call], ev: CallTransition) -> None:
    call = calls.get(ev.call_id)
    if call is None:
        call = Call(id=ev.call_id, state=ev.to_state, via="controller", received_at=ev.at, updated_at=ev.at)
        session.add(call)
        calls[ev.call_id] = call
    call.state = ev.to_state
    call.updated_at = ev.at
    if ev.seat is not None:
        call.seat = ev.seat
    column = STATE_TIME_COLUMNS.get(ev.to_state)
    if column is not None:
        setattr(call, column, ev.at)
    for key, value in ev.data.items():
        if key in CALL_COLUMNS:
            setattr(call, key, _text(value))
    session.add(
        CallEvent(
            call_id=ev.call_id,
            at=ev.at,
            from_state=ev.from_state,
            to_state=ev.to_state,
            seat=ev.seat,
            data=dict(ev.data),
        )
    )


def _seat_transition(session: AsyncSession, seats: dict[str, Seat], ev: SeatTransition) -> None:
    seat = seats.get(ev.seat)
    if seat is None:
        seat = Seat(id=ev.seat, state=ev.to_state, since=ev.at)
        session.add(seat)
        seats[ev.seat] = seat
    seat.state = ev.to_state
    seat.reason = ev.reason
    seat.call_id = ev.call_id
    seat.since = ev.at
    session.add(
        SeatEvent(
            seat_id=ev.seat,
            at=ev.at,
            from_state=ev.from_state,
            to_state=ev.to_state,
            reason=ev.reason,
            call_id=ev.call_id,
        )
    )


def _recording_started(session: AsyncSession, calls: dict[str, Call], ev: RecordingStarted) -> None:
    call = calls.get(ev.call_id)
    if call is not None:
        call.recording = ev.name
    # Without a call row the recordings foreign key fails the transaction: a bug upstream, not data to keep.
    session.add(Recording(call_id=ev.call_id, name=ev.name, path=ev.path, started_at=ev.at))


async def _recording_finished(session: AsyncSession, ev: RecordingFinished) -> None:
    recording = await session.scalar(
        select(Recording)
        .where(Recording.call_id == ev.call_id, Recording.name == ev.name)
        .order_by(Recording.id.desc())
        .limit(1)
    )
    if recording is None:
        log.warning("call %s: recording %s finished but was never started", ev.call_id, ev.name)
        return
    recording.finished_at = ev.at
    recording.duration_s = ev.duration_s


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
