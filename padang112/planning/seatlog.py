"""Seat time of a simulated day: how long seats were signed in, and how much of it they were occupied."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

OCCUPIED = frozenset({"offered", "busy", "wrap_up"})
OCCUPIED_PAUSES = frozenset({"after_call_work", "callback"})


@dataclass
class SeatLog:
    """Spans ``(start, end, occupied)`` of every seat while it was not offline."""

    spans: list[tuple[datetime, datetime, bool]] = field(default_factory=list)
    _current: dict[str, tuple[str, str | None, datetime]] = field(default_factory=dict)

    def move(self, seat: str, at: datetime, state: str, reason: str | None) -> None:
        self._close(seat, at)
        self._current[seat] = (state, reason, at)

    def close(self, at: datetime) -> None:
        for seat in list(self._current):
            self._close(seat, at)
            del self._current[seat]

    def _close(self, seat: str, at: datetime) -> None:
        previous = self._current.get(seat)
        if previous is None:
            return
        state, reason, since = previous
        if state != "offline" and at > since:
            self.spans.append((since, at, state in OCCUPIED or (state == "paused" and reason in OCCUPIED_PAUSES)))

    def occupancy(self, start: datetime, end: datetime) -> tuple[float, float]:
        """(occupied seat-seconds, signed-in seat-seconds) within ``[start, end)``."""
        occupied = staffed = 0.0
        for since, until, busy in self.spans:
            overlap = (min(until, end) - max(since, start)).total_seconds()
            if overlap > 0:
                staffed += overlap
                if busy:
                    occupied += overlap
        return occupied, staffed
