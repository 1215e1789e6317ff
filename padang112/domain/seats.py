"""The seat state machine.

``offline → available ⇄ offered → busy → wrap_up → available``, and ``paused`` (with a reason) from
``offline``/``available``/``offered``/``wrap_up``. A seat is *eligible* for a call only when it is available, its
softphone is registered, its device is not in use by a call the controller did not place (for
example one the fallback queue put through while the controller was down) and it is not resting after its phone
refused a call.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from padang112.domain.calls import IllegalTransition
from padang112.domain.events import SeatTransition


class SeatState(str, enum.Enum):
    OFFLINE = "offline"
    AVAILABLE = "available"
    OFFERED = "offered"
    BUSY = "busy"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"


class PauseReason(str, enum.Enum):
    BREAK = "break"
    TRAINING = "training"
    TECHNICAL = "technical"
    NOT_RESPONDING = "not_responding"  # set by the controller after a ring-no-answer
    PHONE_FAILING = "phone_failing"  # set by the controller after the phone refused calls several times in a row


# Pauses a person chose; the others (not responding, a failing phone) are the controller's and do not outlive it: a
# restarted controller starts those seats afresh. A call-back's pause is kept, for the call-back line to decide
# (``domain/reconcile.py``).
SET_BY_PERSON = frozenset({PauseReason.BREAK.value, PauseReason.TRAINING.value, PauseReason.TECHNICAL.value})


ALLOWED: dict[SeatState, frozenset[SeatState]] = {
    SeatState.OFFLINE: frozenset({SeatState.AVAILABLE, SeatState.PAUSED}),
    SeatState.AVAILABLE: frozenset({SeatState.OFFERED, SeatState.PAUSED, SeatState.OFFLINE}),
    SeatState.OFFERED: frozenset({SeatState.BUSY, SeatState.AVAILABLE, SeatState.PAUSED, SeatState.OFFLINE}),
    SeatState.BUSY: frozenset({SeatState.WRAP_UP}),
    SeatState.WRAP_UP: frozenset({SeatState.AVAILABLE, SeatState.PAUSED, SeatState.OFFLINE}),
    SeatState.PAUSED: frozenset({SeatState.AVAILABLE, SeatState.OFFLINE}),
}


@dataclass
class Seat:
    id: str
    state: SeatState = SeatState.OFFLINE
    reason: str | None = None
    registered: bool = False
    device_in_use: bool = False
    signed_in: bool = False
    user: str | None = None  # the call taker signed in to this seat in the console, if any
    since: datetime | None = None  # time of the last transition
    idle_since: datetime | None = None  # when it last became available: the longest idle is rung first
    call_id: str | None = None
    failures: int = 0  # calls its phone refused or dropped in a row (domain/seat_faults.py)
    resting: bool = False  # its phone refused a call: not offered one until it has rested
    unreachable: frozenset[str] = frozenset()  # nodes that do not reach its phone (several nodes): no leg from there

    def move(self, to: SeatState, at: datetime, reason: str | None = None) -> SeatTransition:
        if to not in ALLOWED[self.state]:
            raise IllegalTransition(f"seat {self.id}: {self.state.value} -> {to.value} is not allowed")
        before = self.state
        self.state = to
        self.reason = reason if to == SeatState.PAUSED else None
        self.since = at
        if to == SeatState.AVAILABLE:
            self.idle_since = at
        if to not in (SeatState.OFFERED, SeatState.BUSY, SeatState.WRAP_UP):
            self.call_id = None
        return SeatTransition(self.id, at, before.value, to.value, reason=self.reason, call_id=self.call_id)

    @property
    def eligible(self) -> bool:
        return self.state == SeatState.AVAILABLE and self.registered and not self.device_in_use and not self.resting
