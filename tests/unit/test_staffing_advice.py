"""Staffing advice from measured calls: the estimator (pure) and ``GET /api/v1/staffing-advice`` over HTTP on a real
migrated SQLite file (no controller, no Asterisk)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp_jinja2
import jinja2
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112 import config
from padang112.planning import staffing
from padang112.storage.records import CallRecord
from padang112.storage.repository import EventWriter, Repository
from padang112.web import auth, history, login
from padang112.web import keys as webapp
from padang112.web import staffing as staffing_web
from tests.unit.conftest import FakeClock
from tests.unit.test_history import PASSWORD, sign_in, story

Client = TestClient[web.Request, web.Application]
NOW = datetime(2023, 8, 28, 7, 30, tzinfo=UTC)  # 14:30 WIB


def record(n: int, at: datetime, answer_s: float | None, talk_s: float = 60.0, wait_s: float = 30.0) -> CallRecord:
    connected = at + timedelta(seconds=answer_s) if answer_s is not None else None
    ended = connected + timedelta(seconds=talk_s) if connected else at + timedelta(seconds=wait_s)
    return CallRecord(
        id=f"c{n}",
        state="ended" if connected else "abandoned",
        via="controller",
        received_at=at,
        updated_at=ended,
        offered_at=connected,
        connected_at=connected,
        ended_at=ended,
    )


def test_measured_load_counts_offered_calls_handle_time_and_patience() -> None:
    """28 days, each with 10 calls at 14:xx WIB: 9 answered after 5 s and talking 60 s, one giving up after 30 s."""
    calls = []
    for day in range(28):
        at = NOW - timedelta(days=day + 1)
        calls += [record(day * 10 + k, at + timedelta(minutes=k), 5.0 if k else None) for k in range(10)]
    now_hour, next_hour = staffing.from_calls(calls, NOW, wrap_s=10.0)
    assert (now_hour.hour, next_hour.hour) == (14, 15)
    assert now_hour.load.calls_per_hour == pytest.approx(10.0)
    assert now_hour.load.handle_s == pytest.approx(70.0)  # talk from the seat's ring + wrap-up
    assert now_hour.load.patience_s == pytest.approx((9 * 5 + 30) / 1)  # waiting time of all / callers who gave up
    assert now_hour.seats >= 1 and now_hour.figures is not None
    assert next_hour.load.calls_per_hour == 0 and next_hour.figures is None


def test_a_room_younger_than_four_weeks_divides_by_the_days_it_ran() -> None:
    calls = [record(k, NOW - timedelta(days=1, minutes=k), 5.0) for k in range(12)]
    assert staffing.from_calls(calls, NOW)[0].load.calls_per_hour == pytest.approx(12.0)


@pytest.fixture
async def client(settings: config.Settings, engine: AsyncEngine, writer: EventWriter) -> AsyncIterator[Client]:
    clock = FakeClock()
    clock.now = NOW
    app = web.Application()
    login.setup(app, settings, engine=engine, clock=clock)
    aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(str(config.PROJECT_ROOT / "web" / "templates")))
    app[webapp.REPOSITORY] = Repository(engine)
    app[webapp.SETTINGS] = settings
    app[history.CLOCK] = clock
    staffing_web.setup(app)
    for day in range(1, 8):
        for k in range(40):  # a busy 14:00 hour every day for a week
            at = NOW - timedelta(days=day) - timedelta(minutes=30) + timedelta(seconds=90 * k)
            await writer.write(story(f"d{day}-{k}", at, "+6281234567890", seat="seat01", answer_s=4, talk_s=120))
    for name, role in (("joni", "supervisor"), ("rina", "call_taker")):
        await app[auth.AUTH].users.create(name, role=role, password=PASSWORD)
    async with TestClient(TestServer(app)) as client:
        yield client


async def test_the_supervisor_gets_the_advice_for_this_hour_and_the_next(client: Client) -> None:
    await sign_in(client, "joni")
    response = await client.get("/api/v1/staffing-advice")
    assert response.status == 200, await response.text()
    data = await response.json()
    now_hour, next_hour = data["hours"]
    assert (now_hour["hour"], next_hour["hour"]) == (14, 15)
    assert now_hour["calls_per_hour"] == 40.0 and now_hour["handle_s"] == 120 + 10  # story() rings and answers at once
    assert now_hour["seats"] >= 2 and now_hour["pct_within_15"] >= 90 and now_hour["pct_within_20"] >= 95
    assert next_hour["calls_per_hour"] == 0
    assert data["signed_in"] is None  # no controller (no desk) in this test


async def test_a_call_taker_does_not_get_the_advice(client: Client) -> None:
    await sign_in(client, "rina")
    assert (await client.get("/api/v1/staffing-advice")).status == 403
