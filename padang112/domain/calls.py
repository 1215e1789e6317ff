"""The call state machine.

``received → queued → offered → connected → ended``; a caller who hangs up before being connected ends in
``abandoned``. An offered call goes back to ``queued`` when the seat does not answer, and a connected one when the
seat's phone dropped it at once (``seat_faults.py``: the caller is first in line again). A waiting call is
``handed_over`` to Asterisk's own fallback queue when the controller shuts down, so nobody waits on a
controller that is not there. A warm hand-off moves a connected call to ``transferred`` when the call taker
leaves it with an agency's duty phone (``connected → transferred → ended``, see ``handoff.py``). Any other move
is a bug and raises :class:`IllegalTransition`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from padang112.domain.events import CallTransition


class IllegalTransition(Exception):
    """A state machine was asked for a move its table does not allow."""


class CallState(str, enum.Enum):
    RECEIVED = "received"
    QUEUED = "queued"
    OFFERED = "offered"
    CONNECTED = "connected"
    ENDED = "ended"
    ABANDONED = "abandoned"
    HANDED_OVER = "handed_over"
    TRANSFERRED = "transferred"  # warm hand-off done: the caller talks with an agency's duty phone, no seat


ALLOWED: dict[CallState, frozenset[CallState]] = {
    CallState.RECEIVED: frozenset({CallState.QUEUED, CallState.ABANDONED, CallState.HANDED_OVER}),
    CallState.QUEUED: frozenset({CallState.OFFERED, CallState.ABANDONED, CallState.HANDED_OVER}),
    CallState.OFFERED: frozenset({CallState.CONNECTED, CallState.QUEUED, CallState.ABANDONED, CallState.HANDED_OVER}),
    CallState.CONNECTED: frozenset({CallState.ENDED, CallState.TRANSFERRED, CallState.QUEUED}),
    CallState.TRANSFERRED: frozenset({CallState.ENDED}),
    CallState.ENDED: frozenset(),
    CallState.ABANDONED: frozenset(),
    CallState.HANDED_OVER: frozenset(),
}

TERMINAL = frozenset({CallState.ENDED, CallState.ABANDONED, CallState.HANDED_OVER})
NODE_LOST = "node_lost"  # ended_by of a call whose Asterisk node died under it: its caller is to be called back


@dataclass
class Call:
    """One emergency call as the room sees it. ``seq`` orders the queue (arrival order)."""

    id: str
    channel: str
    seq: int
    caller_number: str
    caller_name: str
    carrier: str
    dialed: str
    received_at: datetime
    state: CallState = CallState.RECEIVED
    seat: str | None = None
    leg: str | None = None  # the seat leg being offered or connected
    leg_rang: bool = False  # the offered seat's phone said it rings (only then can the seat let it ring out)
    recording: str | None = None
    flagged: bool = False  # prank/silent history: waits behind genuine callers, never blocked
    agency: str | None = None  # warm hand-off: the agency whose duty phone is dialled or in the call
    agency_leg: str | None = None
    agency_joined: bool = False
    seat_lost: bool = False  # its call taker vanished (controller away, phone dropped the call): first in line again
    connected_at: datetime | None = None  # when a seat answered it (this controller saw it)
    node: str = ""  # the Asterisk node it arrived on (its channels, bridge and seat legs live there)
    history: list[CallState] = field(default_factory=list)

    @property
    def queue_key(self) -> tuple[int, datetime, int]:
        """Whose turn comes first: a caller whose call taker vanished, then genuine callers, then flagged ones; each
        group in arrival order. Arrival is the time, not only ``seq``: a call adopted from one node's snapshot
        (reconcile) takes its place by when it arrived among the calls of the nodes rebuilt before it."""
        return (-1 if self.seat_lost else 1 if self.flagged else 0, self.received_at, self.seq)

    def move(self, to: CallState, at: datetime, **data: Any) -> CallTransition:
        if to not in ALLOWED[self.state]:
            raise IllegalTransition(f"call {self.id}: {self.state.value} -> {to.value} is not allowed")
        before = self.state
        self.history.append(before)
        self.state = to
        return CallTransition(self.id, at, before.value, to.value, seat=self.seat, data=data)

    @property
    def waiting(self) -> bool:
        return self.state in (CallState.QUEUED, CallState.OFFERED)
