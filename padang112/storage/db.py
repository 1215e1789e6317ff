"""Async engine and sessions.

For SQLite every connection is set up for one writer and many readers, also across processes:

- ``journal_mode=WAL``: readers never block the writer nor each other (a test process reads the file a
  controller subprocess writes).
- ``synchronous=FULL``: each commit is fsynced, so a crash or power loss loses no committed event. The
  :class:`~padang112.storage.repository.EventWriter` commits in groups to pay for that fsync once per batch.
- ``busy_timeout`` (``BUSY_TIMEOUT_MS``): a second writer (a migration, a fallback import, a store) waits instead of
  failing; one that still finds the database locked is tried again (``storage/busy.py``).
- ``foreign_keys=ON``: SQLite leaves them off by default.

SQLAlchemy emits ``BEGIN`` itself (the driver's implicit transactions are switched off): migrations get
transactional DDL, and engines from :func:`for_writing` use ``BEGIN IMMEDIATE``, which takes the write lock
up front. A deferred transaction that reads and then writes can fail at once with ``SQLITE_BUSY`` when
another connection committed in between; an immediate one waits for the lock under ``busy_timeout``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from padang112.storage import chain

BUSY_TIMEOUT_MS = 5000  # a writer waits this long for the lock; then storage/busy.py tries its transaction again
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
)
_BEGIN_IMMEDIATE = "padang112_begin_immediate"  # execution option read by the "begin" hook


def create_engine(url: str | URL, **kwargs: Any) -> AsyncEngine:
    """An async engine for ``url``; for a SQLite file, creates its directory and sets the pragmas above."""
    chain.install()  # every session that writes call or incident events chains them
    sa_url = make_url(url)
    if sa_url.get_backend_name() != "sqlite":
        return create_async_engine(sa_url, **kwargs)
    _make_parent_dir(sa_url)
    engine = create_async_engine(sa_url, **kwargs)
    event.listen(engine.sync_engine, "connect", _on_connect)
    event.listen(engine.sync_engine, "begin", _on_begin)
    return engine


def for_writing(engine: AsyncEngine) -> AsyncEngine:
    """The same engine (same pool), but its transactions start with ``BEGIN IMMEDIATE`` on SQLite."""
    return engine.execution_options(**{_BEGIN_IMMEDIATE: True})


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit (they are turned into records right away)."""
    return async_sessionmaker(engine, expire_on_commit=False)


def _make_parent_dir(url: URL) -> None:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    dbapi_connection.isolation_level = None  # the "begin" hook below emits BEGIN
    cursor = dbapi_connection.cursor()
    try:  # the busy timeout first: switching to WAL may have to wait for another process
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def _on_begin(connection: Connection) -> None:
    if connection.get_execution_options().get(_BEGIN_IMMEDIATE):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql("BEGIN")
