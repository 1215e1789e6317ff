"""A number's earlier calls of the last 30 days, kept in memory so a screen-pop needs no database query.

Loaded from storage when the controller starts and fed with every event it publishes (its own, the console's
dispositions, imported fallback calls), it mirrors what the ``calls`` rows say: state, seat and disposition of each
call. :meth:`CallerHistory.profile` gives what the call taker's screen shows of a caller: the earlier calls, how many
were pranks since the number was last cleared, and the prank score.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from padang112.domain import prank
from padang112.domain.events import CallAnnotated, CallTransition, DomainEvent
from padang112.domain.prank import PRANK_DISPOSITIONS, PrankScores

WINDOW = prank.WINDOW  # the calls shown are the ones the prank score counts
SHOWN = 20  # earlier calls listed on the screen-pop (all of them count)
PRUNE_EVERY = timedelta(hours=1)


@dataclass(frozen=True)
class EarlierCall:
    id: str
    number: str
    received_at: datetime
    state: str
    disposition: str | None = None
    seat: str | None = None


@dataclass(frozen=True)
class CallerProfile:
    """What the screen-pop shows of a caller besides the call itself."""

    earlier: tuple[EarlierCall, ...]  # newest first, at most SHOWN
    prank_count: int  # earlier calls marked prank/silent since the number's last clearance
    prank_score: float
    prank_cleared_at: datetime | None


class CallerHistory:
    def __init__(self) -> None:
        self._calls: dict[str, EarlierCall] = {}
        self._by_number: dict[str, set[str]] = {}
        self._pruned: datetime | None = None

    def load(self, calls: Iterable[EarlierCall]) -> None:
        for call in calls:
            self._put(call)

    def observe(self, event: DomainEvent) -> None:
        """Follow one published event, as storage applies it to the call's row."""
        if isinstance(event, CallTransition):
            known = self._calls.get(event.call_id)
            number = str(event.data.get("caller_number") or (known.number if known else ""))
            call = known or EarlierCall(event.call_id, number, event.at, event.to_state)
            call = dataclasses.replace(call, number=number, state=event.to_state, seat=event.seat or call.seat)
            self._put(_disposed(call, event.data))
            if known is None:
                self._prune(event.at)
        elif isinstance(event, CallAnnotated) and event.call_id in self._calls:
            self._put(_disposed(self._calls[event.call_id], event.data))

    def profile(self, number: str, call_id: str, now: datetime, pranks: PrankScores) -> CallerProfile:
        """The number's calls other than ``call_id`` received within the window before ``now``."""
        since = now - WINDOW
        earlier = sorted(
            (
                self._calls[i]
                for i in self._by_number.get(number, ())
                if i != call_id and self._calls[i].received_at >= since
            ),
            key=lambda c: (c.received_at, c.id),
            reverse=True,
        )
        cleared = pranks.cleared_at(number)
        pranked = sum(
            1 for c in earlier if c.disposition in PRANK_DISPOSITIONS and (cleared is None or c.received_at > cleared)
        )
        return CallerProfile(tuple(earlier[:SHOWN]), pranked, round(pranks.score(number, now), 3), cleared)

    def _put(self, call: EarlierCall) -> None:
        known = self._calls.get(call.id)
        if known is not None and known.number != call.number:
            self._by_number.get(known.number, set()).discard(call.id)
        self._calls[call.id] = call
        if call.number:
            self._by_number.setdefault(call.number, set()).add(call.id)

    def _prune(self, now: datetime) -> None:
        """Forget calls older than the window (at most once an hour: a new call is the only reason to look)."""
        if self._pruned is not None and now - self._pruned < PRUNE_EVERY:
            return
        self._pruned = now
        for call in [c for c in self._calls.values() if c.received_at < now - WINDOW]:
            del self._calls[call.id]
            ids = self._by_number.get(call.number)
            if ids is not None:
                ids.discard(call.id)
                if not ids:
                    del self._by_number[call.number]


def _disposed(call: EarlierCall, data: dict[str, object]) -> EarlierCall:
    disposition = data.get("disposition")
    return call if disposition is None else dataclasses.replace(call, disposition=str(disposition))
