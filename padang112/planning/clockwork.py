"""A virtual clock: actions scheduled at virtual seconds, run in time order (ties in the order scheduled)."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

Action = Callable[[], Awaitable[None] | None]


@dataclass(order=True)
class _Entry:
    at: float
    seq: int
    action: Action | None = field(compare=False)
    key: str | None = field(default=None, compare=False)


class Clockwork:
    def __init__(self) -> None:
        self.now = 0.0
        self._heap: list[_Entry] = []
        self._seq = itertools.count()
        self._keyed: dict[str, _Entry] = {}

    def at(self, when: float, action: Action, key: str | None = None) -> None:
        """Run ``action`` at virtual second ``when`` (never before now); a ``key`` replaces its earlier action."""
        if key is not None:
            self.cancel(key)
        entry = _Entry(max(when, self.now), next(self._seq), action, key)
        heapq.heappush(self._heap, entry)
        if key is not None:
            self._keyed[key] = entry

    def after(self, delay: float, action: Action, key: str | None = None) -> None:
        self.at(self.now + delay, action, key)

    def cancel(self, key: str) -> None:
        entry = self._keyed.pop(key, None)
        if entry is not None:
            entry.action = None

    def pending(self, key: str) -> bool:
        return key in self._keyed

    async def run(self, until: float) -> int:
        """Run every action due up to ``until``; returns how many ran."""
        ran = 0
        while self._heap and self._heap[0].at <= until:
            entry = heapq.heappop(self._heap)
            if entry.action is None:
                continue
            if entry.key is not None and self._keyed.get(entry.key) is entry:
                del self._keyed[entry.key]
            self.now = entry.at
            result = entry.action()
            if result is not None:
                await result
            ran += 1
        self.now = max(self.now, until)
        return ran
