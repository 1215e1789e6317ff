"""One interface for copying the database out (backup) and in (restore), per backend.

- SQLite: Python's binding of SQLite's online backup API, in one step. One step reads the whole file inside one
  read transaction: with WAL the controller keeps writing meanwhile and the copy is the database as it was at
  that instant (a step-wise backup would restart on every commit, and never finish during a call surge).
- PostgreSQL: padang112 does not copy a PostgreSQL database itself: that is ``pg_dump``'s job, which it runs
  (``--format=custom``) and ``pg_restore`` into an empty database. A repeatable-read transaction exports its
  snapshot, reads the facts in it and holds it while ``pg_dump --snapshot`` copies exactly that instant: the
  manifest's counts describe the dump, while the controller keeps writing. The password goes in ``PGPASSWORD``,
  never on a command line (``ps`` shows those). Run against a real PostgreSQL 15 in
  ``tests/unit/test_backup_restore.py``.

Both return the copy's :class:`Facts` (schema revision, rows of the main tables) for the manifest.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sqlalchemy.engine import make_url

COUNTED = ("calls", "call_events", "recordings", "incidents", "incident_events", "audit_log")
REVISION = "SELECT version_num FROM alembic_version"
FACT_QUERIES = (REVISION, *(f"SELECT count(*) FROM {table}" for table in COUNTED))  # table names: constants


@dataclass(frozen=True)
class Facts:
    """What a copy holds: its schema revision and how many rows the main tables have."""

    schema_revision: str | None = None
    counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, rows: dict[str, list[tuple[object, ...]]]) -> Facts:
        """From the rows each of :data:`FACT_QUERIES` returned (on either engine)."""
        revision = rows[REVISION]
        counts = {table: int(str(rows[f"SELECT count(*) FROM {table}"][0][0])) for table in COUNTED}
        return cls(str(revision[0][0]) if revision else None, counts)


class DatabaseDump(Protocol):
    @property
    def kind(self) -> str: ...

    @property
    def file_name(self) -> str:
        """The dump's name inside a backup directory."""
        ...

    @property
    def method(self) -> str:
        """What makes the copy, as the backup's progress names it."""
        ...

    def backup(self, dest: Path) -> Facts: ...

    def restore(self, src: Path) -> None: ...

    def has_data(self) -> bool:
        """Whether the target already holds a database (restore refuses to overwrite it)."""
        ...


@dataclass(frozen=True)
class SqliteDump:
    path: Path
    kind: str = "sqlite"
    file_name: str = "padang112.db"
    method: str = "SQLite online backup"

    def backup(self, dest: Path) -> Facts:
        source = sqlite3.connect(self.path, timeout=30)
        target = sqlite3.connect(dest)
        try:
            source.backup(target)  # pages=-1: one step, one snapshot
            target.execute("PRAGMA journal_mode=DELETE")  # a self-contained file: no -wal beside it
            return Facts.of({sql: target.execute(sql).fetchall() for sql in FACT_QUERIES})  # the copy's own
        finally:
            target.close()
            source.close()

    def restore(self, src: Path) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".restoring")
        source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
        target = sqlite3.connect(tmp)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        os.replace(tmp, self.path)

    def has_data(self) -> bool:
        return any(p.exists() and p.stat().st_size > 0 for p in (self.path, Path(f"{self.path}-wal")))


@dataclass(frozen=True)
class PostgresDump:
    url: str  # SQLAlchemy URL, e.g. postgresql+asyncpg://padang112:pw@127.0.0.1:5432/padang112
    kind: str = "postgresql"
    file_name: str = "padang112.pgdump"
    method: str = "pg_dump"

    def _target(self) -> tuple[list[str], dict[str, str]]:
        url = make_url(self.url)
        host = url.host or str(url.query.get("host") or "127.0.0.1")  # ?host=/run/postgresql: a unix socket
        args = ["--host", host, "--port", str(url.port or 5432)]
        if url.username:
            args += ["--username", url.username]
        args += ["--dbname", url.database or "padang112"]
        env = {"PGPASSWORD": url.password} if url.password else {}
        return args, env

    def backup_command(self, dest: Path) -> tuple[list[str], dict[str, str]]:
        args, env = self._target()
        return ["pg_dump", "--format=custom", "--no-password", "--file", str(dest), *args], env

    def restore_command(self, src: Path) -> tuple[list[str], dict[str, str]]:
        args, env = self._target()
        return ["pg_restore", "--no-owner", "--exit-on-error", "--no-password", *args, str(src)], env

    def backup(self, dest: Path) -> Facts:
        return asyncio.run(self._backup(dest))

    async def _backup(self, dest: Path) -> Facts:
        from sqlalchemy import text

        from padang112.storage.db import create_engine

        engine = create_engine(self.url)
        try:
            async with engine.connect() as conn:
                await conn.execution_options(isolation_level="REPEATABLE READ")
                async with conn.begin():
                    await conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                    snapshot = str(await conn.scalar(text("SELECT pg_export_snapshot()")))
                    rows = {sql: [tuple(r) for r in await conn.exec_driver_sql(sql)] for sql in FACT_QUERIES}
                    command, env = self.backup_command(dest)
                    await asyncio.to_thread(_run, [*command, f"--snapshot={snapshot}"], env)  # while it is held
        finally:
            await engine.dispose()
        return Facts.of(rows)

    def restore(self, src: Path) -> None:
        _run(*self.restore_command(src))

    def has_data(self) -> bool:
        args, env = self._target()
        query = "SELECT count(*) FROM information_schema.tables WHERE table_name = 'calls'"
        out = _run(["psql", "--no-password", "--tuples-only", "--command", query, *args], env)
        return out.strip() not in ("", "0")


def _run(command: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({done.returncode}): {done.stderr.strip()[:500]}")
    return done.stdout


def for_url(url: str) -> DatabaseDump:
    """The dump for a database URL (``Settings.db_url``)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return SqliteDump(Path(parsed.database or ""))
    if backend == "postgresql":
        return PostgresDump(url)
    raise ValueError(f"no backup method for database backend {backend!r}")
