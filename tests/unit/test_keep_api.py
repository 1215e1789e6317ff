"""``/api/v1/keep-marks``: supervisors and admins put and release legal holds; others may not."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiohttp_jinja2
import jinja2
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112 import config
from padang112.accounts.users import UserStore
from padang112.ops.keep import KeepStore
from padang112.storage.repository import EventWriter
from padang112.web import auth, keep, login
from padang112.web.keys import KEEP
from tests.unit.test_incident_api import (
    PASSWORD,
    As,
    sign_in,  # noqa: F401  (a fixture)
)
from tests.unit.test_integrity import recorded_call

Client = TestClient[web.Request, web.Application]


@pytest.fixture
def app(settings: config.Settings, engine: AsyncEngine) -> web.Application:
    app = web.Application()
    login.setup(app, settings, engine=engine)
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(str(config.PROJECT_ROOT / "web" / "templates")),
        autoescape=jinja2.select_autoescape(["html"]),
        context_processors=[auth.context_processor],
    )
    app[KEEP] = KeepStore(engine, lambda: datetime.now(UTC))
    app.router.add_get("/api/v1/keep-marks", keep.list_marks)
    app.router.add_post("/api/v1/keep-marks", keep.add_mark)
    app.router.add_delete("/api/v1/keep-marks/{mark_id}", keep.release_mark)
    return app


@pytest.fixture
async def client(app: web.Application, writer: EventWriter) -> AsyncIterator[Client]:
    users: UserStore = app[auth.AUTH].users
    for name, role in (("joni", "supervisor"), ("adm", "admin"), ("rina", "call_taker")):
        await users.create(name, role=role, password=PASSWORD)
    await writer.write(recorded_call("c1", datetime(2023, 8, 7, 1, 0, tzinfo=UTC)))
    async with TestClient(TestServer(app)) as client:
        yield client


async def test_a_supervisor_keeps_a_call_and_an_admin_releases_it(client: Client, sign_in: Any) -> None:
    joni: As = await sign_in("joni")
    response = await joni.post("/api/v1/keep-marks", json={"subject": "call", "id": "c1", "reason": "polisi"})
    assert response.status == 201, await response.text()
    mark = await response.json()
    assert (mark["subject"], mark["subject_id"], mark["marked_by"]) == ("call", "c1", "joni")
    assert [m["id"] for m in await (await joni.get("/api/v1/keep-marks")).json()] == [mark["id"]]
    adm: As = await sign_in("adm")
    released = await (await adm.request("DELETE", f"/api/v1/keep-marks/{mark['id']}")).json()
    assert released["released_by"] == "adm" and await (await joni.get("/api/v1/keep-marks")).json() == []
    again = await adm.request("DELETE", f"/api/v1/keep-marks/{mark['id']}")
    assert again.status == 404 and (await again.json())["error"] == "not_active"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"subject": "call", "id": "nope", "reason": "x"}, 404, "not_found"),
        ({"subject": "seat", "id": "seat01", "reason": "x"}, 400, "bad_subject"),
        ({"subject": "call", "id": "c1", "reason": ""}, 400, "no_reason"),
    ],
)
async def test_bad_marks_are_refused_with_a_reason(
    client: Client, sign_in: Any, body: dict[str, str], status: int, code: str
) -> None:
    joni: As = await sign_in("joni")
    response = await joni.post("/api/v1/keep-marks", json=body)
    assert response.status == status and (await response.json())["error"] == code


async def test_a_call_taker_may_not_keep_anything(client: Client, sign_in: Any) -> None:
    rina: As = await sign_in("rina")
    response = await rina.post("/api/v1/keep-marks", json={"subject": "call", "id": "c1", "reason": "x"})
    assert response.status == 403
