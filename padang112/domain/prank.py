"""Prank and silent-call history of a number: a score that decays, used to queue such callers last.

Each call marked ``prank`` or ``silent`` adds 1 to its number's score; a mark loses half its weight every
:data:`HALF_LIFE` (so a number that stops is forgiven). A number at or above :data:`THRESHOLD` is *flagged*:
its caller hears a short warning and waits behind genuine callers — but is never blocked: a child in real
trouble still gets through.

A call taker or supervisor can clear a number (:meth:`PrankScores.clear` with the time): marks up to that
time no longer count, also when they are loaded again after a restart; marks after it count as usual.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

HALF_LIFE = timedelta(days=7)
THRESHOLD = 1.8  # about two marks within the last day or so
WINDOW = timedelta(days=30)
PRANK_DISPOSITIONS = frozenset({"prank", "silent"})


class PrankScores:
    """In memory, per caller number; fed from the database at start and by each new disposition."""

    def __init__(self) -> None:
        self._marks: dict[str, list[datetime]] = defaultdict(list)
        self._cleared: dict[str, datetime] = {}  # number -> latest clearance: marks up to it do not count

    def load(self, marks: Iterable[tuple[str, datetime]], clearances: Iterable[tuple[str, datetime]]) -> None:
        """Fill from storage: (number, marked at) and (number, cleared at), in any order."""
        for number, at in clearances:
            self.clear(number, at)
        for number, at in marks:
            self.mark(number, at)

    def mark(self, number: str, at: datetime) -> None:
        cleared = self._cleared.get(number)
        if number and (cleared is None or at > cleared):
            self._marks[number].append(at)

    def clear(self, number: str, at: datetime | None = None) -> None:
        """Forget the number's marks; with ``at``, also every mark up to ``at`` that arrives later (a reload)."""
        if at is None:
            self._marks.pop(number, None)
            return
        if number in self._cleared and self._cleared[number] >= at:
            return
        self._cleared[number] = at
        kept = [m for m in self._marks.get(number, ()) if m > at]
        if kept:
            self._marks[number] = kept
        else:
            self._marks.pop(number, None)

    def cleared_at(self, number: str) -> datetime | None:
        """When the number was last cleared (as far as this process knows), else None."""
        return self._cleared.get(number)

    def score(self, number: str, now: datetime) -> float:
        marks = [m for m in self._marks.get(number, ()) if now - m <= WINDOW]
        return sum((0.5 ** ((now - m) / HALF_LIFE) for m in marks), 0.0)

    def flagged(self, number: str, now: datetime) -> bool:
        return self.score(number, now) >= THRESHOLD
