"""Observers a chaos scenario runs in the background: the controller's /readyz and the fallback queue's members,
sampled every few hundred milliseconds with their monotonic times, so a test can say when a state began and
whether something it must never see (an emptied fallback queue) happened between two samples of its own."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any


def fallback_members(asterisk: Any, queue: str) -> dict[str, bool]:
    """The fallback queue's members now: interface (``PJSIP/seat07``) -> paused."""
    members: dict[str, bool] = {}
    for line in asterisk.rx(f"queue show {queue}").splitlines():
        found = re.search(r"\((PJSIP/[^)\s]+)\)", line)
        if found:
            members[found.group(1)] = "paused" in line.lower()
    return members


class Sampler:
    """Calls ``probe`` every ``interval_s`` and keeps (monotonic time, value) until stopped."""

    def __init__(self, probe: Callable[[], Awaitable[Any]], interval_s: float) -> None:
        self.probe = probe
        self.interval_s = interval_s
        self.samples: list[tuple[float, Any]] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> Sampler:
        self._task = asyncio.create_task(self._run())
        return self

    async def _run(self) -> None:
        while True:
            started = time.monotonic()
            self.samples.append((started, await self.probe()))
            await asyncio.sleep(max(0.0, self.interval_s - (time.monotonic() - started)))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def first_after(self, since: float, wanted: Callable[[Any], bool]) -> float | None:
        """Monotonic time of the first sample taken at or after ``since`` for which ``wanted`` holds."""
        return next((at for at, value in self.samples if at >= since and wanted(value)), None)

    def between(self, start: float, end: float) -> list[Any]:
        return [value for at, value in self.samples if start <= at <= end]


def readyz_sampler(supervisor: Any, interval_s: float = 0.2) -> Sampler:
    """The supervised controller's /readyz status (None while nothing answers)."""
    return Sampler(supervisor.readyz, interval_s).start()


def queue_sampler(asterisk: Any, queue: str, interval_s: float = 0.5) -> Sampler:
    return Sampler(lambda: asyncio.to_thread(fallback_members, asterisk, queue), interval_s).start()
