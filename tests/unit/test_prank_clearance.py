"""Clearing a number's prank score: marks before the clearance stop counting (also after a reload), later ones count;
the API stores who and when before it applies the clearance."""

from __future__ import annotations

import asyncio
import types
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112.controller import Controller
from padang112.desk import Desk
from padang112.domain.prank import PrankScores
from padang112.storage.db import session_factory
from padang112.storage.models import PrankClearanceRow
from padang112.storage.repository import Repository
from padang112.web import pranks
from padang112.web.keys import DESK, REPOSITORY
from tests.unit.conftest import NoCallbacks
from tests.unit.test_incident_api import app, client, published, sign_in, users  # noqa: F401 (fixtures)

pytestmark = pytest.mark.engines("sqlite", "postgresql")  # the storage contract, on both engines

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
NUMBER = "+6281990000009"


def test_marks_up_to_a_clearance_stop_counting_and_later_marks_count_again() -> None:
    scores = PrankScores()
    for minutes in (30, 20):
        scores.mark(NUMBER, NOW - timedelta(minutes=minutes), f"call-{minutes}")
    assert scores.flagged(NUMBER, NOW)
    scores.clear(NUMBER, NOW - timedelta(minutes=10))
    assert scores.score(NUMBER, NOW) == 0 and scores.cleared_at(NUMBER) == NOW - timedelta(minutes=10)
    scores.mark(NUMBER, NOW - timedelta(minutes=15), "call-15")  # a mark dated before the clearance (a reload): ignored
    assert scores.score(NUMBER, NOW) == 0
    scores.mark(NUMBER, NOW - timedelta(minutes=5), "call-5")
    scores.mark(NUMBER, NOW, "call-0")
    assert scores.flagged(NUMBER, NOW)
    scores.clear(NUMBER, NOW - timedelta(hours=1))  # an older clearance changes nothing
    assert scores.flagged(NUMBER, NOW) and scores.cleared_at(NUMBER) == NOW - timedelta(minutes=10)


def test_loading_applies_clearances_whatever_the_order() -> None:
    marks = [(NUMBER, NOW - timedelta(hours=h), f"call-{h}") for h in (2, 1, 0)]
    scores = PrankScores()
    scores.load(marks, [(NUMBER, NOW - timedelta(minutes=30))])
    assert 0.99 < scores.score(NUMBER, NOW) <= 1.0  # only the mark after the clearance
    assert not scores.flagged(NUMBER, NOW)


async def test_clearances_are_stored_and_read_back_for_a_restart(engine: AsyncEngine) -> None:
    repo = Repository(engine)
    await repo.add_prank_clearance(NUMBER, NOW - timedelta(days=40), "rina", None, 2.0)  # outside the window
    await repo.add_prank_clearance(NUMBER, NOW, "rina", "call-1", 1.9)
    assert await repo.prank_clearances(NOW - timedelta(days=30)) == [(NUMBER, NOW)]


class FakeController:
    """What the prank routes use of the controller: its scores, the room's live calls, its inbox (``ask``: nothing
    else waits in it here, so a request is decided at once, by the controller's own ``_decide``)."""

    def __init__(self) -> None:
        self.pranks = PrankScores()
        self.room = types.SimpleNamespace(calls={})

    def ask(self, request: Any) -> asyncio.Future[str | None]:
        answer: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        answer.set_result(Controller._decide(self, request))  # type: ignore[arg-type]
        return answer


@pytest.fixture
def controller() -> FakeController:
    return FakeController()


@pytest.fixture(autouse=True)
def prank_routes(app: web.Application, engine: AsyncEngine, controller: FakeController) -> None:
    app[DESK] = Desk(controller, NoCallbacks())  # type: ignore[arg-type]
    app[REPOSITORY] = Repository(engine)
    pranks.setup(app)


@pytest.fixture
async def stored(engine: AsyncEngine) -> AsyncIterator[Any]:
    async def rows() -> list[PrankClearanceRow]:
        async with session_factory(engine)() as session:
            return list(await session.scalars(select(PrankClearanceRow)))

    yield rows


async def test_a_call_taker_clears_a_calling_number_and_the_clearance_is_stored_with_who_and_when(
    sign_in: Any, controller: FakeController, stored: Any
) -> None:
    now = datetime.now(UTC)
    for minutes in (30, 20):
        controller.pranks.mark(NUMBER, now - timedelta(minutes=minutes), f"call-{minutes}")
    controller.room.calls["c1"] = types.SimpleNamespace(caller_number=NUMBER)
    rina = await sign_in("rina")
    score = await (await rina.post("/api/v1/prank-scores", json={"number": NUMBER})).json()
    assert score["flagged"] is True and score["cleared_at"] is None

    response = await rina.post("/api/v1/prank-clearances", json={"number": NUMBER, "call_id": "c1"})
    assert response.status == 201, await response.text()
    body = await response.json()
    assert body["flagged"] is False and body["score"] == 0 and body["cleared_by"] == "rina"
    assert body["score_before"] > 1.8 and body["cleared_at"].endswith("+07:00")
    assert not controller.pranks.flagged(NUMBER, datetime.now(UTC))
    [row] = await stored()
    assert (row.number, row.cleared_by, row.call_id) == (NUMBER, "rina", "c1") and row.score_before > 1.8


async def test_bad_numbers_unknown_numbers_and_agencies_are_refused(sign_in: Any, stored: Any) -> None:
    joni, bpbd = await sign_in("joni"), await sign_in("bpbd1")
    for body, status, code in (
        ({}, 400, "bad_number"),
        ({"number": "  "}, 400, "bad_number"),
        ({"number": "1" * 65}, 400, "bad_number"),
        ({"number": ["0812"]}, 400, "bad_number"),
        ({"number": "0812", "call_id": 7}, 400, "bad_call_id"),
    ):
        response = await joni.post("/api/v1/prank-clearances", json=body)
        assert response.status == status, (body, await response.text())
        assert (await response.json())["error"] == code
    assert (await joni.post("/api/v1/prank-scores", json={})).status == 400
    assert (await bpbd.post("/api/v1/prank-clearances", json={"number": NUMBER})).status == 403
    assert await stored() == []
