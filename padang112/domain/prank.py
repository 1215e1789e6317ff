"""Prank and silent-call history of a number: a score that decays, used to queue such callers last.

Each call marked ``prank`` or ``silent`` adds 1 to its number's score; a mark loses half its weight every
:data:`HALF_LIFE` (so a number that stops is forgiven). A number at or above :data:`THRESHOLD` is *flagged*:
its caller hears a short warning and waits behind genuine callers — but is never blocked: a child in real
trouble still gets through.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

HALF_LIFE = timedelta(days=7)
THRESHOLD = 1.8  # about two marks within the last day or so
WINDOW = timedelta(days=30)
PRANK_DISPOSITIONS = frozenset({"prank", "silent"})


class PrankScores:
    """In memory, per caller number; fed from the database at start and by each new disposition."""

    def __init__(self) -> None:
        self._marks: dict[str, list[datetime]] = defaultdict(list)

    def mark(self, number: str, at: datetime) -> None:
        if number:
            self._marks[number].append(at)

    def clear(self, number: str) -> None:
        self._marks.pop(number, None)

    def score(self, number: str, now: datetime) -> float:
        marks = [m for m in self._marks.get(number, ()) if now - m <= WINDOW]
        return sum(0.5 ** ((now - m) / HALF_LIFE) for m in marks)

    def flagged(self, number: str, now: datetime) -> bool:
        return self.score(number, now) >= THRESHOLD
