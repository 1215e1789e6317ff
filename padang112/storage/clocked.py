"""The base of the domain stores: read sessions, ``BEGIN IMMEDIATE`` write sessions and an injected clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from padang112.storage.db import for_writing, session_factory
from padang112.storage.types import require_aware


class ClockedStore:
    """Read sessions, ``BEGIN IMMEDIATE`` write sessions and an injected clock (``clock`` gives aware datetimes)."""

    def __init__(self, engine: AsyncEngine, clock: Callable[[], datetime]) -> None:
        self._read = session_factory(engine)
        self._write = session_factory(for_writing(engine))
        self._clock = clock

    def _now(self) -> datetime:
        now = self._clock()
        require_aware(now, "clock time")
        return now.astimezone(UTC)  # as read back from the database
