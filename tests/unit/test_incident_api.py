"""``/api/v1/incidents`` over HTTP: form validation, creation, concurrent edits, agency rules and the agency queue.

The app has auth, jinja2 and the incident routes only (no controller, no live hub): the incident service is
built on the migrated SQLite file with a list as its publisher, so the tests can read what was pushed.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112 import config
from padang112.accounts.users import UserStore
from padang112.incidents import routing
from padang112.incidents.service import IncidentService
from padang112.incidents.store import IncidentStore
from padang112.web import auth, incidents, login
from tests.unit.conftest import FakeClock, templated_app

PASSWORD = "kuranji-banjir-2023"
SCRIPT = "<script>alert('banjir')</script>"
Client = TestClient[web.Request, web.Application]
FLOOD = {
    "type_code": "flood",
    "priority": 2,
    "kecamatan": "Koto Tangah",
    "description": "Air setinggi lutut di Jalan Adinegoro",
    "callback_number": "+6281234567890",
}
USERS = (
    ("rina", "call_taker", None),
    ("joni", "supervisor", None),
    ("bpbd1", "agency", "bpbd"),
    ("pupr1", "agency", "pupr"),
)


@pytest.fixture
def published() -> list[dict[str, Any]]:
    return []


@pytest.fixture
def app(
    settings: config.Settings, engine: AsyncEngine, clock: FakeClock, published: list[dict[str, Any]]
) -> web.Application:
    app = templated_app([auth.context_processor])
    login.setup(app, settings, engine=engine, clock=clock)
    app[incidents.INCIDENTS] = IncidentService(
        IncidentStore(engine, clock), publish=published.append, deadline_s=routing.ack_deadline_s
    )
    # the routes of incidents.setup, without its cleanup_ctx (which needs the controller's engine and live hub)
    app.router.add_get("/api/v1/incident-catalog", incidents.catalog)
    app.router.add_post("/api/v1/incidents", incidents.create)
    app.router.add_get("/api/v1/incidents/{incident_id}", incidents.get_incident)
    app.router.add_patch("/api/v1/incidents/{incident_id}", incidents.update)
    app.router.add_post(r"/api/v1/incidents/{incident_id}/tasks/{agency}/{state}", incidents.task_state)
    app.router.add_get("/api/v1/agency/queue", incidents.agency_queue)
    app.router.add_get("/api/v1/incidents", incidents.open_incidents)
    return app


@pytest.fixture
def users(app: web.Application) -> UserStore:
    return app[auth.AUTH].users


@pytest.fixture
async def client(app: web.Application, users: UserStore) -> AsyncIterator[Client]:
    for name, role, agency in USERS:
        await users.create(name, role=role, password=PASSWORD, agency=agency)
    async with TestClient(TestServer(app)) as client:
        yield client


class As:
    """One signed-in user's browser: its own cookie jar, and the session's CSRF token sent as a header."""

    def __init__(self, client: Client, session: aiohttp.ClientSession, csrf: str) -> None:
        self.client, self.session, self.csrf = client, session, csrf

    async def request(self, method: str, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        headers = {auth.CSRF_HEADER: self.csrf, **kwargs.pop("headers", {})}
        return await self.session.request(method, self.client.make_url(path), headers=headers, **kwargs)

    async def get(self, path: str) -> aiohttp.ClientResponse:
        return await self.request("GET", path)

    async def post(self, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        return await self.request("POST", path, **kwargs)

    async def patch(self, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        return await self.request("PATCH", path, **kwargs)


@pytest.fixture
async def sign_in(client: Client, app: web.Application) -> AsyncIterator[Any]:
    sessions: list[aiohttp.ClientSession] = []

    async def open_as(username: str) -> As:
        session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        sessions.append(session)
        page = await (await session.get(client.make_url("/masuk"))).text()
        match = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert match, page
        data = {"username": username, "password": PASSWORD, "csrf_token": match.group(1), "next": "/"}
        response = await session.post(client.make_url("/masuk"), data=data, allow_redirects=False)
        assert response.status == 303, await response.text()
        token = session.cookie_jar.filter_cookies(client.make_url("/"))[auth.SESSION_COOKIE].value
        active = await app[auth.AUTH].sessions.resolve(token)
        assert active is not None
        return As(client, session, active.csrf_token)

    yield open_as
    for session in sessions:
        await session.close()


async def create_flood(user: As, **overrides: Any) -> dict[str, Any]:
    response = await user.post("/api/v1/incidents", json={**FLOOD, **overrides})
    assert response.status == 201, await response.text()
    return await response.json()


async def bad_fields(response: aiohttp.ClientResponse) -> dict[str, Any]:
    assert response.status == 400, await response.text()
    body = await response.json()
    assert body["error"] == "invalid"
    return body["fields"]


# --- the form's validation -------------------------------------------------------------------------------


async def test_a_form_missing_fields_lists_every_bad_field_at_once(sign_in: Any) -> None:
    rina = await sign_in("rina")
    fields = await bad_fields(await rina.post("/api/v1/incidents", json={}))
    assert set(fields) == {"type_code", "priority", "kecamatan", "description"}
    for field in fields.values():
        assert field["message"] and field["message_en"]
    assert fields["description"]["message_en"] == "A description is required."


async def test_an_oversized_description_is_refused_on_description(sign_in: Any) -> None:
    rina = await sign_in("rina")
    fields = await bad_fields(await rina.post("/api/v1/incidents", json={**FLOOD, "description": "x" * 5000}))
    assert set(fields) == {"description"}
    assert "4000" in fields["description"]["message_en"]


async def test_an_unknown_kecamatan_is_refused(sign_in: Any) -> None:
    rina = await sign_in("rina")
    fields = await bad_fields(await rina.post("/api/v1/incidents", json={**FLOOD, "kecamatan": "Menteng"}))
    assert set(fields) == {"kecamatan"}
    assert "Padang" in fields["kecamatan"]["message_en"]


async def test_latitude_without_longitude_and_coordinates_outside_padang_are_refused(sign_in: Any) -> None:
    rina = await sign_in("rina")
    fields = await bad_fields(await rina.post("/api/v1/incidents", json={**FLOOD, "latitude": -0.9}))
    assert set(fields) == {"longitude"}
    jakarta = {**FLOOD, "latitude": -6.2, "longitude": 106.8}
    fields = await bad_fields(await rina.post("/api/v1/incidents", json=jakarta))
    assert set(fields) == {"latitude", "longitude"}
    assert "outside Padang" in fields["latitude"]["message_en"]
    padang = await create_flood(rina, latitude=-0.9, longitude=100.35)
    assert (padang["latitude"], padang["longitude"]) == (-0.9, 100.35)


async def test_a_priority_that_is_not_a_number_gets_a_clear_message(sign_in: Any) -> None:
    rina = await sign_in("rina")
    fields = await bad_fields(await rina.post("/api/v1/incidents", json={**FLOOD, "priority": "abc"}))
    assert fields["priority"]["message_en"] == "Must be a whole number."
    fields = await bad_fields(await rina.post("/api/v1/incidents", json={**FLOOD, "priority": 7}))
    assert fields["priority"]["message_en"] == "Priority must be 1 to 4."


async def test_a_body_that_is_not_json_is_refused(sign_in: Any) -> None:
    rina = await sign_in("rina")
    response = await rina.post(
        "/api/v1/incidents", data="type_code=flood", headers={"Content-Type": "application/json"}
    )
    assert response.status == 400
    assert (await response.json())["error"] == "bad_json"
    response = await rina.post("/api/v1/incidents", json=["flood"])
    assert response.status == 400 and (await response.json())["error"] == "bad_json"


async def test_html_in_the_description_is_stored_and_returned_verbatim(sign_in: Any) -> None:
    rina = await sign_in("rina")
    created = await create_flood(rina, description=SCRIPT)
    assert created["description"] == SCRIPT
    again = await (await rina.get(f"/api/v1/incidents/{created['id']}")).json()
    assert again["description"] == SCRIPT


async def test_a_json_null_is_an_empty_field_not_the_text_none(sign_in: Any) -> None:
    rina = await sign_in("rina")
    fields = await bad_fields(
        await rina.post("/api/v1/incidents", json={**FLOOD, "description": None, "type_code": None})
    )
    assert set(fields) == {"description", "type_code"}
    assert fields["type_code"]["message_en"] == "Choose an incident type."
    created = await create_flood(rina, caller_name=None, notes=None, location_text=None)
    assert (created["caller_name"], created["notes"], created["location_text"]) == ("", "", "")


# --- creation ----------------------------------------------------------------------------------------------


async def test_a_valid_flood_goes_to_bpbd_and_pupr_with_a_numbered_reference_and_is_published(
    sign_in: Any, published: list[dict[str, Any]]
) -> None:
    rina = await sign_in("rina")
    created = await create_flood(rina)
    assert [t["agency"] for t in created["tasks"]] == ["bpbd", "pupr"]
    assert all(t["state"] == "dispatched" for t in created["tasks"])
    assert re.fullmatch(r"112-\d{8}-\d{4}", created["number"])
    assert created["number"] == "112-20230807-0001"  # the fake clock's WIB day
    assert created["state"] == "dispatched" and created["created_by"] == "rina"
    assert (await create_flood(rina))["number"] == "112-20230807-0002"
    [first, _] = published
    assert first["type"] == "incident" and first["change"] == "created"
    assert first["incident"]["id"] == created["id"]


# --- concurrent edits --------------------------------------------------------------------------------------


async def test_two_edits_of_the_same_version_the_second_gets_409_and_nothing_is_lost(sign_in: Any) -> None:
    rina, joni = await sign_in("rina"), await sign_in("joni")
    created = await create_flood(rina)
    path = f"/api/v1/incidents/{created['id']}"
    version = created["version"]
    first = await rina.patch(path, json={"version": version, "changes": {"victims": 3}})
    assert first.status == 200, await first.text()
    assert (await first.json())["victims"] == 3
    second = await joni.patch(path, json={"version": version, "changes": {"priority": 1}})
    assert second.status == 409
    conflict = await second.json()
    assert conflict["error"] == "conflict" and conflict["message_en"]
    current = conflict["current"]
    assert current["victims"] == 3 and current["priority"] == 2 and current["version"] > version

    shown = await (await joni.get(path)).json()
    assert shown["victims"] == 3 and shown["priority"] == 2
    retry = await joni.patch(path, json={"version": current["version"], "changes": {"priority": 1}})
    assert retry.status == 200, await retry.text()
    final = await (await rina.get(path)).json()
    assert (final["victims"], final["priority"]) == (3, 1)
    edits = [e for e in final["events"] if e["kind"] == "edited"]
    assert [e["by"] for e in edits] == ["rina", "joni"]


async def test_truly_concurrent_edits_of_one_version_one_wins_one_conflicts(sign_in: Any) -> None:
    rina, joni = await sign_in("rina"), await sign_in("joni")
    created = await create_flood(rina)
    path = f"/api/v1/incidents/{created['id']}"
    a, b = await asyncio.gather(
        rina.patch(path, json={"version": created["version"], "changes": {"notes": "dari rina"}}),
        joni.patch(path, json={"version": created["version"], "changes": {"notes": "dari joni"}}),
    )
    assert sorted((a.status, b.status)) == [200, 409]
    winner, loser = (a, b) if a.status == 200 else (b, a)
    assert (await loser.json())["current"]["notes"] == (await winner.json())["notes"]


async def test_an_edit_without_version_or_of_a_field_that_cannot_be_edited_is_400(sign_in: Any) -> None:
    rina = await sign_in("rina")
    created = await create_flood(rina)
    path = f"/api/v1/incidents/{created['id']}"
    assert (await rina.patch(path, json={"changes": {"victims": 1}})).status == 400
    response = await rina.patch(path, json={"version": created["version"], "changes": {"created_by": "x"}})
    assert response.status == 400 and (await response.json())["error"] == "invalid"


async def test_an_edit_is_checked_like_the_form_and_stored_in_canonical_spelling(sign_in: Any) -> None:
    rina = await sign_in("rina")
    created = await create_flood(rina)
    path = f"/api/v1/incidents/{created['id']}"
    version = created["version"]
    for changes, field in (
        ({"kecamatan": "Menteng"}, "kecamatan"),
        ({"description": "x" * 5000}, "description"),
        ({"description": "   "}, "description"),
        ({"priority": "abc"}, "priority"),
        ({"latitude": -6.2, "longitude": 106.8}, "latitude"),
        ({"latitude": -0.9}, "longitude"),
    ):
        fields = await bad_fields(await rina.patch(path, json={"version": version, "changes": changes}))
        assert field in fields, changes
    unchanged = await (await rina.get(path)).json()
    assert unchanged["version"] == version and unchanged["kecamatan"] == "Koto Tangah"
    moved = await rina.patch(
        path, json={"version": version, "changes": {"kecamatan": "  kuranji ", "description": f" {SCRIPT} "}}
    )
    assert moved.status == 200, await moved.text()
    body = await moved.json()
    assert (body["kecamatan"], body["description"]) == ("Kuranji", SCRIPT)


# --- agency rules ------------------------------------------------------------------------------------------


async def test_the_pupr_operator_cannot_move_the_bpbd_task(sign_in: Any) -> None:
    rina, pupr = await sign_in("rina"), await sign_in("pupr1")
    created = await create_flood(rina)
    response = await pupr.post(f"/api/v1/incidents/{created['id']}/tasks/bpbd/acknowledged")
    assert response.status == 403
    assert (await response.json())["error"] == "not_your_agency"
    own = await pupr.post(f"/api/v1/incidents/{created['id']}/tasks/pupr/acknowledged")
    assert own.status == 200
    tasks = {t["agency"]: t["state"] for t in (await own.json())["tasks"]}
    assert tasks == {"bpbd": "dispatched", "pupr": "acknowledged"}


async def test_the_pupr_operator_cannot_see_an_incident_without_a_pupr_task(sign_in: Any) -> None:
    rina, pupr, bpbd = await sign_in("rina"), await sign_in("pupr1"), await sign_in("bpbd1")
    missing = await create_flood(rina, type_code="missing_person")  # bpbd + satpolpp
    path = f"/api/v1/incidents/{missing['id']}"
    assert (await pupr.get(path)).status == 404
    assert (await pupr.post(path + "/tasks/pupr/acknowledged")).status == 404
    assert (await bpbd.get(path)).status == 200


async def test_an_illegal_task_move_is_409_with_the_allowed_moves(sign_in: Any) -> None:
    rina, bpbd = await sign_in("rina"), await sign_in("bpbd1")
    created = await create_flood(rina)
    response = await bpbd.post(f"/api/v1/incidents/{created['id']}/tasks/bpbd/resolved")
    assert response.status == 409
    body = await response.json()
    assert body["error"] == "illegal_move"
    assert "dispatched to resolved" in body["message_en"] and "acknowledged" in body["message_en"]
    unknown = await bpbd.post(f"/api/v1/incidents/{created['id']}/tasks/bpbd/teleported")
    assert unknown.status == 400 and (await unknown.json())["error"] == "bad_state"


async def test_a_cancel_needs_a_reason(sign_in: Any) -> None:
    rina, bpbd = await sign_in("rina"), await sign_in("bpbd1")
    created = await create_flood(rina)
    path = f"/api/v1/incidents/{created['id']}/tasks/bpbd/cancelled"
    for body in (None, {}, {"reason": "   "}):
        response = await (bpbd.post(path) if body is None else bpbd.post(path, json=body))
        assert response.status == 409, body
        assert "reason" in (await response.json())["message_en"]
    done = await bpbd.post(path, json={"reason": "bukan wilayah BPBD"})
    assert done.status == 200
    assert {t["agency"]: t["state"] for t in (await done.json())["tasks"]}["bpbd"] == "cancelled"


async def test_the_call_taker_cannot_move_tasks_and_anonymous_gets_401(client: Client, sign_in: Any) -> None:
    rina = await sign_in("rina")
    created = await create_flood(rina)
    path = f"/api/v1/incidents/{created['id']}"
    response = await rina.post(path + "/tasks/bpbd/acknowledged")
    assert response.status == 403
    for method, url in (
        ("GET", path),
        ("POST", path + "/tasks/bpbd/acknowledged"),
        ("POST", "/api/v1/incidents"),
        ("GET", "/api/v1/agency/queue"),
    ):
        anonymous = await client.request(method, url, json={})
        assert anonymous.status == 401, (method, url)


# --- the agency queue --------------------------------------------------------------------------------------


async def test_the_bpbd_queue_lists_the_incident_and_a_supervisor_must_name_a_known_agency(sign_in: Any) -> None:
    rina, bpbd, joni = await sign_in("rina"), await sign_in("bpbd1"), await sign_in("joni")
    flood = await create_flood(rina)
    await create_flood(rina, type_code="fire")  # damkar only
    queue = await bpbd.get("/api/v1/agency/queue")
    assert queue.status == 200
    body = await queue.json()
    assert body["agency"] == "bpbd"
    assert [i["number"] for i in body["incidents"]] == [flood["number"]]
    assert body["incidents"][0]["type_name"]
    bad = await joni.get("/api/v1/agency/queue?agency=nope")
    assert bad.status == 400 and (await bad.json())["error"] == "bad_agency"
    assert (await joni.get("/api/v1/agency/queue")).status == 400
    pupr_queue = await (await joni.get("/api/v1/agency/queue?agency=pupr")).json()
    assert [i["number"] for i in pupr_queue["incidents"]] == [flood["number"]]


async def test_a_surge_of_incidents_is_paged_with_the_total_most_urgent_first(sign_in: Any) -> None:
    rina, bpbd, joni = await sign_in("rina"), await sign_in("bpbd1"), await sign_in("joni")
    made = [await create_flood(rina, priority=3) for _ in range(23)]
    urgent = await create_flood(rina, priority=1)  # made last, listed first
    first = await (await bpbd.get("/api/v1/agency/queue")).json()
    assert (first["total"], first["limit"], first["offset"], len(first["incidents"])) == (24, 10, 0, 10)
    assert first["incidents"][0]["number"] == urgent["number"]
    last = await (await bpbd.get("/api/v1/agency/queue?limit=10&offset=20")).json()
    assert [i["number"] for i in last["incidents"]] == [m["number"] for m in made[19:]]
    pages = [await (await joni.get(f"/api/v1/incidents?limit=7&offset={o}")).json() for o in range(0, 28, 7)]
    numbers = [i["number"] for page in pages for i in page["incidents"]]
    assert numbers == [urgent["number"]] + [m["number"] for m in made] and {p["total"] for p in pages} == {24}
    for bad in ("limit=0", "limit=201", "offset=-1", "limit=x"):
        refused = await joni.get(f"/api/v1/incidents?{bad}")
        assert refused.status == 400 and (await refused.json())["error"] == "bad_page", bad
