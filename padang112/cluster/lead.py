"""``serve``'s first phase on PostgreSQL: wait to lead, then hold the lease while the runtime acts.

On SQLite (one box) there is no standby: :func:`leading` yields :data:`~padang112.cluster.fence.UNFENCED` at once
and the per-switch single-instance guard (``padang112/single_instance.py``) keeps a second ``serve`` out. On
PostgreSQL that guard cannot stay: a paused old leader still holds it, so the standby could never take over; the
lease in the database replaces it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from padang112.cluster.fence import UNFENCED, Fence
from padang112.cluster.leadership import Leadership
from padang112.config import Settings, database_engine
from padang112.storage.db import create_engine
from padang112.storage.migrate import upgrade_async

log = logging.getLogger(__name__)

RETRY_S = 1.0  # a database that is not reachable yet is tried again this often


def clustered(settings: Settings) -> bool:
    """Two controllers may share this database (PostgreSQL): leadership decides who acts."""
    return database_engine(settings.db_url.partition("://")[0]) == "postgresql"


@contextlib.asynccontextmanager
async def leading(
    settings: Settings, stop: asyncio.Event, on_lost: Callable[[str], None]
) -> AsyncIterator[Fence | None]:
    """The fence to act under once this process leads; None when ``stop`` came first (a standby told to stop).

    While the body runs the lease is renewed; losing it calls ``on_lost`` (``serve`` exits). Leaving the body
    releases the lease, so after an orderly stop the standby takes over at once.
    """
    if not clustered(settings):
        yield UNFENCED
        return
    if not await _first(_migrated(settings.db_url), stop.wait()):  # the leadership table exists before contending
        yield None
        return
    engine = create_engine(settings.db_url, pool_size=2)
    leadership = Leadership(engine, on_lost=on_lost)
    try:
        if not await _first(leadership.acquire(), stop.wait()):
            yield None
            return
        holding = asyncio.create_task(leadership.hold(), name="leadership")
        try:
            yield leadership
        finally:
            holding.cancel()
            await asyncio.gather(holding, return_exceptions=True)
            with contextlib.suppress(Exception):  # the lease then simply expires
                await leadership.release()
    finally:
        await engine.dispose()


async def _migrated(url: str) -> None:
    """Bring the schema to head, waiting for a database that does not answer yet (a standby may boot first)."""
    said = ""
    while True:
        try:
            await upgrade_async(url)
            return
        except Exception as exc:
            if repr(exc) != said:
                log.warning("siaga: basis data belum siap / standby: database not ready: %s", exc)
            said = repr(exc)
        await asyncio.sleep(RETRY_S)


async def _first(lead: Coroutine[Any, Any, Any], stopped: Coroutine[Any, Any, Any]) -> bool:
    """True when ``lead`` finished first; the other is cancelled."""
    leader = asyncio.ensure_future(lead)
    stopper = asyncio.ensure_future(stopped)
    done, pending = await asyncio.wait({leader, stopper}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    return leader in done
