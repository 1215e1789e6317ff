"""A write that found the database locked is tried again, never dropped.

The stores have one writer at a time (:mod:`padang112.storage.db`: SQLite's write lock, PostgreSQL's advisory
lock). A write transaction waits for it up to 5 s (``busy_timeout``, ``lock_timeout``) and then fails. At 50
calls/s the event writer's group commits (each fsynced) can keep another store's write waiting that long. The whole
transaction was rolled back then, so running it again is safe: :func:`retry_when_busy` does, with a growing pause,
up to ``ATTEMPTS`` times, so a call-back item or a batch of a call's events gets about 27 s to be stored before it
is given up (and logged as an error by its caller).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

ATTEMPTS = 5
PAUSE_S = 0.2  # after the n-th failed attempt: n * PAUSE_S, on top of the busy_timeout it already waited

P = ParamSpec("P")
T = TypeVar("T")


BUSY_MESSAGES = ("database is locked", "database is busy", "lock timeout")  # SQLite's two, PostgreSQL's lock_timeout


def is_busy(exc: BaseException) -> bool:
    """The write lock was not had in time (SQLite's busy timeout, PostgreSQL's lock_timeout on the advisory write
    lock): the whole transaction was rolled back and can be tried again."""
    text = str(exc).lower()
    return isinstance(exc, DBAPIError) and any(message in text for message in BUSY_MESSAGES)


async def retry_when_busy(work: Callable[[], Awaitable[T]], what: str) -> T:
    """``work()`` (one whole transaction), tried again while the database is locked."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await work()
        except DBAPIError as exc:
            if not is_busy(exc) or attempt == ATTEMPTS:
                raise
            log.warning("storage: %s found the database locked (attempt %d of %d): again", what, attempt, ATTEMPTS)
            await asyncio.sleep(PAUSE_S * attempt)
    raise AssertionError("unreachable")  # the last attempt returned or raised


def busy_retried(method: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """A store method that is one write transaction, tried again while the database is locked."""

    @functools.wraps(method)
    async def retried(*args: P.args, **kwargs: P.kwargs) -> T:
        return await retry_when_busy(lambda: method(*args, **kwargs), method.__qualname__)

    return retried
