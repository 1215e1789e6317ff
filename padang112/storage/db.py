"""Async engine and sessions, on SQLite (the default: one file) or PostgreSQL 15 (``postgresql+asyncpg://``).

Both engines keep one rule: **one writer at a time**. The event chains (:mod:`padang112.storage.chain`) read the
last hash and append after it, stores read-then-write (a fallback import checks its mark first), so every
session from :func:`for_writing` takes the database's one write lock before its first statement and keeps it
until commit. Readers never wait for it.

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

For PostgreSQL the write lock is a transaction-level advisory lock (``pg_advisory_xact_lock``, key
:data:`WRITE_LOCK_KEY`), taken by the same "begin" hook and released by commit or rollback. Transactions are
READ COMMITTED: every statement after the lock sees what the previous writer committed, as under SQLite's lock.
``lock_timeout`` is the SQLite busy timeout, so a writer that cannot get the lock fails after as long. None of
the pragmas apply (PostgreSQL is durable and enforces foreign keys by default). Schema and column types are the
same on both engines: times are the same fixed-width UTC text (:mod:`padang112.storage.types`), so they sort and
compare alike. PostgreSQL's text cannot hold NUL: see :mod:`padang112.storage.nul`. A PostgreSQL pool pings a
connection before lending it (``pool_pre_ping``): after a server restart no caller gets a dead one
(:mod:`padang112.storage.outage`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from padang112.cluster.fence import APPLICATION_NAME
from padang112.config import database_engine
from padang112.storage import chain, nul

BUSY_TIMEOUT_MS = 5000  # a writer waits this long for the lock; then storage/busy.py tries its transaction again
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
)
_BEGIN_IMMEDIATE = "padang112_begin_immediate"  # execution option read by the "begin" hooks
WRITE_LOCK_KEY = 112_112  # PostgreSQL advisory lock of for_writing sessions (scoped to the database)
CONNECT_TIMEOUT_S = 5.0  # asyncpg waits 60 s by default for a server that does not answer


def create_engine(url: str | URL, *, application_name: str = APPLICATION_NAME, **kwargs: Any) -> AsyncEngine:
    """An async engine for ``url``; for a SQLite file, creates its directory and sets the pragmas above.

    ``postgresql://`` without a driver means asyncpg; a URL for any other engine is a ValueError.
    ``application_name`` names the PostgreSQL sessions (``pg_stat_activity``): a leader's runtime names them after
    its epoch, so the next leader can end them (``padang112.cluster.leadership``).
    """
    chain.install()  # every session that writes call or incident events chains them
    sa_url = make_url(url)
    if database_engine(sa_url.drivername) == "postgresql":
        return _postgresql_engine(sa_url, application_name, **kwargs)
    _make_parent_dir(sa_url)
    engine = create_async_engine(sa_url, **kwargs)
    event.listen(engine.sync_engine, "connect", _on_connect)
    event.listen(engine.sync_engine, "begin", _on_begin)
    return engine


def shown(url: str | URL) -> str:
    """``url`` fit for a terminal or a log: the password masked."""
    return make_url(url).render_as_string(hide_password=True)


def _postgresql_engine(url: URL, application_name: str, **kwargs: Any) -> AsyncEngine:
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+asyncpg")
    settings = {"application_name": application_name, "lock_timeout": str(BUSY_TIMEOUT_MS)}
    connect_args = kwargs.pop("connect_args", {})
    connect_args["server_settings"] = {**settings, **connect_args.get("server_settings", {})}
    connect_args.setdefault("timeout", CONNECT_TIMEOUT_S)
    kwargs.setdefault("pool_pre_ping", True)  # a server restart leaves every pooled connection dead: none is used
    engine = create_async_engine(url, connect_args=connect_args, **kwargs)
    event.listen(engine.sync_engine, "begin", _on_begin_postgresql)
    nul.install(engine)
    return engine


def for_writing(engine: AsyncEngine) -> AsyncEngine:
    """The same engine (same pool), but its transactions take the write lock first (module docstring)."""
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


def _on_begin_postgresql(connection: Connection) -> None:
    if connection.get_execution_options().get(_BEGIN_IMMEDIATE):
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")
