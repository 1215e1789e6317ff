"""Prank and silent-call history of a number: a score that decays, used to queue such callers last.

Each call marked ``prank`` or ``silent`` adds 1 to its number's score, once however often it is marked (a
call's latest disposition decides: marked again as an emergency, it no longer counts); a mark loses half its
weight every :data:`HALF_LIFE` (so a number that stops is forgiven). A number at or above :data:`THRESHOLD` is
*flagged*: its caller hears a short warning and waits behind genuine callers — but is never blocked: a child in
real trouble still gets through. Only real numbers are scored: callers without caller ID (``anonymous``, empty,
``restricted``...) all share one placeholder, and marking one of them would queue every hidden caller last.

A call taker or supervisor can clear a number (:meth:`PrankScores.clear` with the time): marks up to that
time no longer count, also when they are loaded again after a restart; marks after it count as usual.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

HALF_LIFE = timedelta(days=7)
THRESHOLD = 1.8  # about two marks within the last day or so
WINDOW = timedelta(days=30)
# what a call taker may say a call was; the search also knows the system's own "handled" and "abandoned"
DISPOSITIONS = ("emergency", "information", "prank", "silent", "wrong_number", "test")
PRANK_DISPOSITIONS = frozenset({"prank", "silent"})
_SCORABLE = re.compile(r"\+?[0-9]{3,20}")


def scorable(number: str | None) -> bool:
    """A caller ID that names one line (digits, an optional ``+``), not a placeholder shared by many callers."""
    return number is not None and _SCORABLE.fullmatch(number) is not None


class PrankScores:
    """In memory, per caller number; fed from the database at start and by each new disposition."""

    def __init__(self) -> None:
        self._marks: dict[str, dict[str, datetime]] = defaultdict(dict)  # number -> call id -> marked at
        self._cleared: dict[str, datetime] = {}  # number -> latest clearance: marks up to it do not count

    def load(self, marks: Iterable[tuple[str, datetime, str]], clearances: Iterable[tuple[str, datetime]]) -> None:
        """Fill from storage: (number, marked at, call id) and (number, cleared at), in any order."""
        for number, at in clearances:
            self.clear(number, at)
        for number, at, call_id in marks:
            self.mark(number, at, call_id)

    def mark(self, number: str, at: datetime, call_id: str) -> None:
        """Count call ``call_id`` from ``number`` as prank/silent (once: a second mark of it changes nothing)."""
        cleared = self._cleared.get(number)
        if scorable(number) and (cleared is None or at > cleared):
            self._marks[number].setdefault(call_id, at)

    def unmark(self, number: str, call_id: str) -> None:
        """The call was given another disposition after all: it no longer counts."""
        marks = self._marks.get(number)
        if marks is not None:
            marks.pop(call_id, None)
            if not marks:
                del self._marks[number]

    def clear(self, number: str, at: datetime | None = None) -> None:
        """Forget the number's marks; with ``at``, also every mark up to ``at`` that arrives later (a reload)."""
        if at is None:
            self._marks.pop(number, None)
            return
        if number in self._cleared and self._cleared[number] >= at:
            return
        self._cleared[number] = at
        kept = {call: m for call, m in self._marks.get(number, {}).items() if m > at}
        if kept:
            self._marks[number] = kept
        else:
            self._marks.pop(number, None)

    def cleared_at(self, number: str) -> datetime | None:
        """When the number was last cleared (as far as this process knows), else None."""
        return self._cleared.get(number)

    def score(self, number: str, now: datetime) -> float:
        marks = [m for m in self._marks.get(number, {}).values() if now - m <= WINDOW]
        return sum((0.5 ** ((now - m) / HALF_LIFE) for m in marks), 0.0)

    def flagged(self, number: str, now: datetime) -> bool:
        return self.score(number, now) >= THRESHOLD
