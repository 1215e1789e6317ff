"""Fixtures shared by the unit tests: a real database, migrated, and its single writer.

The database is a SQLite file unless the test (or its module) is marked ``engines(...)``: the storage contract
tests are marked ``engines("sqlite", "postgresql")`` and run once on each, the PostgreSQL one in a database of
its own on the session's throwaway server (tests/fixtures/postgres.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
import pytest
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112 import config
from padang112.callbacks.store import Callback, CallbackError
from padang112.storage import migrate
from padang112.storage.db import create_engine
from padang112.storage.repository import EventWriter


@pytest.fixture
def settings(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> config.Settings:
    """Settings whose state dir (and so database) is this test's own; ``engine`` uses the same database."""
    toml = tmp_path / "padang112.toml"
    plain_http = "[web]\ninsecure_http = true\n"  # test clients speak plain HTTP on loopback
    database = "" if backend == "sqlite" else f'database_url = "{request.getfixturevalue("db_url")}"\n'
    toml.write_text(f'state_dir = "{tmp_path / "state"}"\n{database}{plain_http}')
    return config.load(toml, environ={})


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    return tmp_path / "state" / "padang112.db"  # the directory does not exist yet


ENGINES = tuple(dict.fromkeys(config.DATABASE_SCHEMES.values()))  # ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker("engines")
    if marker is not None and "backend" in metafunc.fixturenames:
        unknown = set(marker.args) - set(ENGINES)
        assert marker.args and not unknown, f"engines({marker.args}): choose from {ENGINES}"
        metafunc.parametrize("backend", marker.args)


@pytest.fixture
def backend() -> str:
    """The engine under test: ``sqlite`` unless parametrized by an ``engines`` marker."""
    return "sqlite"


@pytest.fixture
def db_url(backend: str, db_file: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A database for the test alone: a SQLite file not created yet, or an empty PostgreSQL database.

    On PostgreSQL a test that takes ``engine`` gets the session's database at head instead, emptied after the
    test (``engine`` still upgrades it: a no-op), which is faster than creating and migrating one each time.
    """
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{db_file}"
        return
    cluster = request.getfixturevalue("pg_cluster")
    if "engine" in request.fixturenames:
        name = cluster.shared_database()
        yield cluster.url(name)
        cluster.empty(name)
    else:
        name = cluster.create_database()
        yield cluster.url(name)
        cluster.drop_database(name)


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    await migrate.upgrade_async(db_url)
    engine = create_engine(db_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def writer(engine: AsyncEngine) -> AsyncIterator[EventWriter]:
    writer = EventWriter(engine)
    await writer.start()
    yield writer
    await writer.stop()


async def sql(engine: AsyncEngine, statement: str, **params: Any) -> list[tuple[Any, ...]]:
    """One statement outside the stores, in its own transaction (to look at or tamper with stored rows, on either
    engine: ``:name`` parameters); its rows, if it returns any."""
    async with engine.begin() as conn:
        result = await conn.execute(text(statement), params)
        return [tuple(row) for row in result] if result.returns_rows else []


async def sql_in(url: str, statement: str, **params: Any) -> list[tuple[Any, ...]]:
    """:func:`sql` on a database URL (an engine of its own)."""
    engine = create_engine(url)
    try:
        return await sql(engine, statement, **params)
    finally:
        await engine.dispose()


def sql_at(url: str, statement: str, **params: Any) -> list[tuple[Any, ...]]:
    """:func:`sql_in` for a synchronous test."""
    return asyncio.run(sql_in(url, statement, **params))


class NoCallbacks:
    """A desk's call-back line where none is wanted: taking an item is refused as unknown."""

    async def place(self, callback_id: int, user: str, seat: str) -> Callback:
        raise CallbackError("no_callback", f"no callback {callback_id}")


class FakeClock:
    """A clock the test moves by hand (no sleeps)."""

    def __init__(self) -> None:
        self.now = datetime(2023, 8, 7, 1, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def templated_app(context_processors: Sequence[Any] = ()) -> web.Application:
    """An application with the console's templates, set up strictly (an undefined name fails the test)."""
    app = web.Application()
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(str(config.PROJECT_ROOT / "web" / "templates")),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        context_processors=list(context_processors),
    )
    return app
