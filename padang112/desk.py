"""The console's only door to the controller: queries answer with views, commands with Accepted or Refused.

Whether a command is allowed is the room's decision (``Decision.refused``): the console maps the refusal's code to
an HTTP status and never re-checks the room's state itself. Views are the JSON shapes of :mod:`padang112.views`,
so nothing mutable of the room leaves the controller.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from padang112.callbacks.store import Callback, CallbackError
from padang112.controller import Controller, Subscriber
from padang112.domain import commands as c
from padang112.domain.console import ClearPrank, Dispose
from padang112.domain.events import CallAnnotated
from padang112.domain.prank import PrankScores
from padang112.views import WAITING_ROWS, call_view, room_view, seat_view


@dataclass(frozen=True)
class Accepted:
    pass


@dataclass(frozen=True)
class Refused:
    code: str


Outcome = Accepted | Refused


@dataclass(frozen=True)
class CallFacts:
    """What the console may know of a live call to decide about it (its seat, its caller's number)."""

    id: str
    seat: str | None
    caller_number: str


class CallbackLine(Protocol):
    """The controller's call-back line (``telephony/callback_dialer.py``), as the console may use it."""

    async def place(self, callback_id: int, user: str, seat: str) -> Callback: ...


class Desk:
    def __init__(self, controller: Controller, callbacks: CallbackLine) -> None:
        self._controller = controller
        self._room = controller.room
        self._callbacks = callbacks

    # ---- queries ---------------------------------------------------------------------------------------------
    def seat_of(self, username: str) -> str | None:
        """The seat this call taker is signed in to, if any."""
        for seat in self._room.seats.values():
            if seat.user == username:
                return seat.id
        return None

    def seat_ids(self) -> list[str]:
        return sorted(self._room.seats)

    def room(self, now: datetime | None = None, waiting_rows: int = WAITING_ROWS) -> dict[str, Any]:
        """The room: the first ``waiting_rows`` callers in line with the queue's figures, active calls, seats."""
        return room_view(self._room, now or datetime.now(UTC), waiting_rows)

    def seat(self, seat_id: str, now: datetime | None = None) -> dict[str, Any] | None:
        seat = self._room.seats.get(seat_id)
        return None if seat is None else seat_view(seat, now or datetime.now(UTC))

    def call(self, call_id: str, now: datetime | None = None) -> dict[str, Any] | None:
        call = self._room.calls.get(call_id)
        return None if call is None else call_view(call, now or datetime.now(UTC))

    def call_at(self, seat_id: str, now: datetime | None = None) -> dict[str, Any] | None:
        """The call the seat is offered or talking on."""
        seat = self._room.seats.get(seat_id)
        return None if seat is None or seat.call_id is None else self.call(seat.call_id, now)

    def facts(self, call_id: str) -> CallFacts | None:
        call = self._room.calls.get(call_id)
        return None if call is None else CallFacts(call.id, call.seat, call.caller_number)

    @property
    def pranks(self) -> PrankScores:
        """The numbers' decaying prank/silent scores (read; a clearance goes through :meth:`clear_prank`)."""
        return self._controller.pranks

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Receive every domain event the controller stores and publishes; returns the function that stops it."""
        subscribers = self._controller.subscribers
        subscribers.append(subscriber)

        def stop() -> None:
            if subscriber in subscribers:
                subscribers.remove(subscriber)

        return stop

    def signed_in(self) -> int:
        """How many seats a call taker is signed in to now (ready, on a call or paused)."""
        return sum(1 for seat in self._room.seats.values() if seat.signed_in)

    def waiting(self) -> int:
        """How many callers wait in the queue now."""
        return len(self._room.queue)

    # ---- commands --------------------------------------------------------------------------------------------
    async def do(self, command: c.Command) -> Outcome:
        """A room command, decided in its turn in the controller's one inbox (after what the switch reported
        before it)."""
        return _outcome(await self._controller.ask(command))

    async def dispose(self, event: CallAnnotated, number: str | None, prank: bool) -> Outcome:
        """Store and publish a call's disposition; a prank/silent one counts in the number's score, any other takes
        the call out of it."""
        return _outcome(await self._controller.ask(Dispose(event, number, prank)))

    async def call_back(self, callback_id: int, username: str) -> Callback:
        """The call taker takes a call-back item and calls the number back from their own seat; the line reserves
        the seat through the room's inbox (refused unless ready). Raises ``CallbackError`` with the refusal's code."""
        seat = self.seat_of(username)
        if seat is None:
            raise CallbackError("not_signed_in", f"{username} is not signed in to a seat")
        return await self._callbacks.place(callback_id, username, seat)

    async def clear_prank(self, number: str, at: datetime) -> None:
        """Forget the number's prank marks up to ``at`` (the clearance is stored first by the caller, so a stopping
        controller that cannot take it now applies it at its next start)."""
        await self._controller.ask(ClearPrank(number, at))


def _outcome(refused: str | None) -> Outcome:
    return Accepted() if refused is None else Refused(refused)
