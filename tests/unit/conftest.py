"""Fixtures shared by the unit tests: a real SQLite file, migrated, and its single writer."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
import pytest
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112 import config
from padang112.callbacks.store import Callback, CallbackError
from padang112.storage import migrate
from padang112.storage.db import create_engine
from padang112.storage.repository import EventWriter


@pytest.fixture
def settings(tmp_path: Path) -> config.Settings:
    """Settings whose state dir (and so database) is this test's own; ``engine`` uses the same file."""
    toml = tmp_path / "padang112.toml"
    plain_http = "[web]\ninsecure_http = true\n"  # test clients speak plain HTTP on loopback
    toml.write_text(f'state_dir = "{tmp_path / "state"}"\n{plain_http}')
    return config.load(toml, environ={})


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    return tmp_path / "state" / "padang112.db"  # the directory does not exist yet


@pytest.fixture
def db_url(db_file: Path) -> str:
    return f"sqlite+aiosqlite:///{db_file}"


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
