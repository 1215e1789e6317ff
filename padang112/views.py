"""JSON views of the room and of domain events: what the desk answers and the live WebSocket pushes.

Times are ISO 8601 in WIB (+07:00), the room's local time; untrusted text is passed as data and escaped
by whoever renders it (jinja2 autoescape, ``textContent`` in the browser).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from padang112.domain.events import DomainEvent
from padang112.domain.room import Room
from padang112.domain.screen_pop import call_view
from padang112.domain.seats import Seat
from padang112.wib import iso_or_none as wib

ACTIVE_STATES = ("offered", "connected", "transferred")  # the supervisor's "active calls"
__all__ = ["ACTIVE_STATES", "WAITING_ROWS", "call_view", "event_view", "room_view", "seat_view"]


def seat_view(seat: Seat, now: datetime) -> dict[str, Any]:
    since = seat.since
    return {
        "id": seat.id,
        "state": seat.state.value,
        "reason": seat.reason,
        "user": seat.user,
        "registered": seat.registered,
        "call_id": seat.call_id,
        "since": wib(since),
        "in_state_s": int((now - since).total_seconds()) if since else None,
        "phone_failures": seat.failures,  # calls its phone refused or dropped in a row (domain/seat_faults.py)
        "resting": seat.resting,
    }


WAITING_ROWS = 10  # the supervisor sees the first callers in line and the figures, not a wall of rows


def room_view(room: Room, now: datetime | None = None, waiting_rows: int = WAITING_ROWS) -> dict[str, Any]:
    """The first ``waiting_rows`` callers in line (``waiting``), how many wait in all (``waiting_total``) and the
    longest wait (``oldest_wait_s``: the queue is in order, but a flagged caller can wait behind later ones)."""
    now = now or datetime.now(UTC)
    queued = [room.calls[entry[-1]] for entry in room.queue if entry[-1] in room.calls]
    waiting = [call_view(call, now, i + 1) for i, call in enumerate(queued[:waiting_rows])]
    active = [call_view(call, now) for call in room.calls.values() if call.state.value in ACTIVE_STATES]
    oldest = min((call.received_at for call in queued), default=None)
    return {
        "now": wib(now),
        "waiting": waiting,
        "waiting_total": len(queued),
        "oldest_wait_s": int((now - oldest).total_seconds()) if oldest else 0,
        "active": active,
        "seats": [seat_view(s, now) for s in sorted(room.seats.values(), key=lambda s: s.id)],
    }


def event_view(event: DomainEvent) -> dict[str, Any]:
    data = dataclasses.asdict(event)
    data["at"] = wib(event.at)
    return {"type": type(event).__name__, **data}
