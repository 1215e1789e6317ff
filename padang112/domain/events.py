"""Domain events: every state change of a call or a seat, as a plain value.

The room (``padang112.domain.room``) emits these; the storage layer persists them (audit trail) and the
web console pushes them live. They carry no Asterisk vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class CallTransition:
    """A call moved from one state to another (``from_state`` is None when the call is first seen).

    ``data`` holds the call attributes known at that moment that storage should set on the call row:
    keys among ``caller_number``, ``caller_name``, ``carrier``, ``dialed``, ``channel_id``, ``disposition``,
    ``ended_by``, ``via`` (``controller``, ``fallback``, or ``early``: hung up before either had the call).
    """

    call_id: str
    at: datetime
    from_state: str | None
    to_state: str
    seat: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SeatTransition:
    seat: str
    at: datetime
    from_state: str | None
    to_state: str
    reason: str | None = None
    call_id: str | None = None


@dataclass(frozen=True)
class RecordingStarted:
    call_id: str
    at: datetime
    name: str  # file name without extension, as given to Asterisk
    path: str  # where the file lands on the host


@dataclass(frozen=True)
class RecordingFinished:
    call_id: str
    at: datetime
    name: str
    duration_s: float | None = None


@dataclass(frozen=True)
class CallAnnotated:
    """Something a person recorded about a call without moving it, e.g. its disposition.

    ``data`` keys that are call attributes (``disposition``) update the call; ``by`` is the username.
    """

    call_id: str
    at: datetime
    kind: str
    by: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SeatPhoneFailed:
    """A seat's phone could not take the call offered to it (see ``domain/seat_faults.py``).

    ``kind``: busy, rejected, incompatible, unreachable, unknown (a refusal before answer), no_ring (never said it
    rings within the ring time) or dropped (answered and hung up at once); ``cause`` the switch's Q.850 cause if
    any; ``failures`` in a row so far; the seat rests ``retry_s`` seconds before it is offered a call again, or is
    ``paused`` (``phone_failing``) after too many.
    """

    seat: str
    at: datetime
    call_id: str
    kind: str
    cause: int | None
    failures: int
    retry_s: float
    paused: bool


DomainEvent = CallTransition | SeatTransition | RecordingStarted | RecordingFinished | CallAnnotated | SeatPhoneFailed
