"""Recording seals: each recording's SHA-256 and size, stored once the file is closed.

A recording is closed when its call has let go of it: a controller bridge recording once the call's
``RecordingFinished`` is stored (Asterisk closes the file as the bridge goes away, just after), a fallback
MixMonitor recording when its call is imported (the call is over by then), a call-back recording when its
attempt is over. :class:`Sealer` waits ``grace_s`` beyond that and for the file to stop changing, then hashes it
(in a worker thread) and stores a :class:`~padang112.storage.models.RecordingSeal`. It runs every
``interval_s`` in the controller's runtime, so recordings closed while it was down are sealed when it is back.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from padang112.domain.callbacks import CallbackState
from padang112.storage.db import for_writing, session_factory
from padang112.storage.models import CallbackEventRow, CallbackRow, Recording, RecordingSeal
from padang112.storage.outage import log_failure

log = logging.getLogger(__name__)

CHUNK = 1 << 20
LOOKBACK = timedelta(days=1)  # after its first pass, the sealer looks at recordings closed this recently


@dataclass(frozen=True)
class FileDigest:
    sha256: str
    size_bytes: int


def digest(path: Path) -> FileDigest:
    """SHA-256 and size of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
            size += len(chunk)
    return FileDigest(h.hexdigest(), size)


def file_name(name: str) -> str:
    """The recording's file name in ``recordings_dir`` from the name given to Asterisk (or a stored path)."""
    base = Path(name).name
    return base if base.endswith(".wav") else f"{base}.wav"


@dataclass(frozen=True)
class Known:
    """Every recording the database knows of: ``closed`` (file name -> call id or None) and still ``open`` ones."""

    closed: dict[str, str | None]
    open: set[str]


async def known_recordings(engine: AsyncEngine, closed_before: datetime) -> Known:
    """Recordings the database names, split by whether they were closed before ``closed_before``."""
    closed: dict[str, str | None] = {}
    still_open: set[str] = set()
    async with session_factory(engine)() as session:
        rows = await session.execute(select(Recording.name, Recording.call_id, Recording.finished_at))
        for name, call_id, finished_at in rows:
            if finished_at is not None and finished_at < closed_before:
                closed[file_name(name)] = call_id
            else:
                still_open.add(file_name(name))
        cb = await session.execute(
            select(CallbackEventRow.data, CallbackEventRow.at, CallbackRow.state)
            .join(CallbackRow, CallbackRow.id == CallbackEventRow.callback_id)
            .where(CallbackEventRow.kind == "connected")
        )
        for data, at, state in cb:
            name = file_name(str(data.get("recording", "")))
            if state != CallbackState.CONNECTED.value and at < closed_before:
                closed[name] = None
            else:
                still_open.add(name)
    still_open -= set(closed)  # a name seen closed once (say, an earlier row) is closed
    return Known(closed, still_open)


class Sealer:
    """Seals closed recordings; :meth:`run` loops, :meth:`seal_pending` is one pass (tests, ``verify``)."""

    def __init__(
        self,
        engine: AsyncEngine,
        recordings_dir: Path,
        *,
        grace_s: float = 5.0,
        interval_s: float = 10.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._engine = engine
        self._write = session_factory(for_writing(engine))
        self._dir = recordings_dir
        self._grace = grace_s
        self._interval = interval_s
        self._clock = clock
        self._warned: set[str] = set()
        self._since: datetime | None = None  # None: the next pass looks at every recording

    async def run(self) -> None:
        while True:
            try:
                await self.seal_pending()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the next pass tries again; call handling never depends on this
                log_failure(log, "sealing recordings failed", exc)
            await asyncio.sleep(self._interval)

    async def seal_pending(self) -> int:
        """Seal every closed, unsealed recording whose file exists and is quiet; returns how many.

        The first pass looks at every recording (a backlog after an upgrade or downtime); later ones only at
        recordings closed in the last ``LOOKBACK`` (an index on ``finished_at``), so a pass stays cheap however
        long the history grows.
        """
        now = self._clock()
        todo = await self._closed_unsealed(now - timedelta(seconds=self._grace), self._since)
        digests = await asyncio.to_thread(self._digest_quiet, list(todo))
        if digests:
            async with self._write.begin() as session:
                for name, d in digests.items():
                    session.add(
                        RecordingSeal(
                            name=name, call_id=todo[name], sha256=d.sha256, size_bytes=d.size_bytes, sealed_at=now
                        )
                    )
            log.info("sealed %d recordings (SHA-256 and size stored)", len(digests))
        self._since = now - LOOKBACK
        return len(digests)

    async def _closed_unsealed(self, closed_before: datetime, since: datetime | None) -> dict[str, str | None]:
        """File name -> call id (None for a call-back) of closed recordings without a seal."""
        sealed = exists().where(RecordingSeal.name == Recording.name + ".wav")
        calls = select(Recording.name, Recording.call_id).where(Recording.finished_at < closed_before, ~sealed)
        callbacks = (
            select(CallbackEventRow.data)
            .join(CallbackRow, CallbackRow.id == CallbackEventRow.callback_id)
            .where(CallbackEventRow.kind == "connected", CallbackRow.state == CallbackState.DONE.value)
            .where(CallbackRow.closed_at < closed_before)
        )
        if since is not None:
            calls = calls.where(Recording.finished_at >= since)
            callbacks = callbacks.where(CallbackRow.closed_at >= since)
        async with session_factory(self._engine)() as session:
            todo: dict[str, str | None] = {file_name(name): call_id for name, call_id in await session.execute(calls)}
            names = {file_name(str(data.get("recording", ""))) for data in await session.scalars(callbacks)}
            if names:
                done = set(await session.scalars(select(RecordingSeal.name).where(RecordingSeal.name.in_(names))))
                todo.update((name, None) for name in names - done)
        return todo

    def _digest_quiet(self, names: list[str]) -> dict[str, FileDigest]:
        out: dict[str, FileDigest] = {}
        for name in names:
            path = self._dir / name
            try:
                if time.time() - path.stat().st_mtime < self._grace:
                    continue  # still being written: next pass
                out[name] = digest(path)
            except FileNotFoundError:
                if name not in self._warned:
                    self._warned.add(name)
                    log.warning("recording %s is closed but its file is missing: not sealed", name)
        return out


class PlaybackCheck:
    """Whether a recording about to be played is the one sealed: ``verified``, ``changed`` or ``unsealed``.

    Results are remembered per file name, size and modification time, so the browser's range requests for one
    playback hash the file once.
    """

    MAX_CACHED = 256

    def __init__(self, read_sessions: async_sessionmaker[AsyncSession]) -> None:
        self._read = read_sessions
        self._cache: dict[tuple[str, int, int], str] = {}

    async def status(self, path: Path) -> str:
        stat = await asyncio.to_thread(path.stat)
        key = (path.name, stat.st_size, stat.st_mtime_ns)
        if (cached := self._cache.get(key)) is not None:
            return cached
        async with self._read() as session:
            seal = await session.get(RecordingSeal, path.name)
        if seal is None:
            return "unsealed"  # not remembered: the sealer may seal it any moment
        found = await asyncio.to_thread(digest, path)
        status = "verified" if (found.sha256, found.size_bytes) == (seal.sha256, seal.size_bytes) else "changed"
        if len(self._cache) >= self.MAX_CACHED:
            self._cache.clear()
        self._cache[key] = status
        return status
