"""Requests for more information over HTTP: an agency asks the 112 room, a call taker or supervisor answers.

Built on the incident API's test app (``tests/unit/test_incident_api.py``): the same users and sign-in, plus the
info-request routes and their desk, publishing into the same list.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112.incidents.messages import MAX_TEXT, InfoDesk, MessageStore
from padang112.web import info_requests
from padang112.web.incidents import INCIDENTS
from tests.unit.conftest import FakeClock
from tests.unit.test_incident_api import (  # noqa: F401 (fixtures)
    SCRIPT,
    app,
    client,
    create_flood,
    published,
    sign_in,
    users,
)


@pytest.fixture(autouse=True)
def info_routes(app: web.Application, engine: AsyncEngine, clock: FakeClock, published: list[dict[str, Any]]) -> None:
    """Before the test server starts (autouse fixtures come first): the desk and the routes of info_requests.setup."""
    app[info_requests.INFO] = InfoDesk(MessageStore(engine, clock), app[INCIDENTS].store, published.append)
    app.router.add_get("/api/v1/info-requests", info_requests.info_requests)
    app.router.add_post("/api/v1/incidents/{incident_id}/info-requests", info_requests.ask_info)
    app.router.add_post("/api/v1/incidents/{incident_id}/info-requests/{request_id}/answers", info_requests.answer_info)


async def ask(user: Any, incident_id: Any, text: Any) -> Any:
    return await user.post(f"/api/v1/incidents/{incident_id}/info-requests", json={"text": text})


async def answer(user: Any, incident_id: Any, request_id: Any, text: Any) -> Any:
    return await user.post(f"/api/v1/incidents/{incident_id}/info-requests/{request_id}/answers", json={"text": text})


async def listed(user: Any, state: str = "open") -> list[dict[str, Any]]:
    response = await user.get(f"/api/v1/info-requests?state={state}")
    assert response.status == 200, await response.text()
    return (await response.json())["requests"]


async def refused(response: Any, status: int, code: str) -> None:
    assert response.status == status, await response.text()
    body = await response.json()
    assert body["error"] == code and body["message"]  # (the sign-in layer's refusals have no message_en)


async def test_an_agency_question_reaches_the_creator_and_the_supervisor_and_the_answer_comes_back(
    sign_in: Any, published: list[dict[str, Any]], clock: FakeClock
) -> None:
    rina, joni, bpbd = await sign_in("rina"), await sign_in("joni"), await sign_in("bpbd1")
    incident = await create_flood(rina)
    published.clear()

    response = await ask(bpbd, incident["id"], "  Berapa lansia yang perlu dievakuasi?  ")
    assert response.status == 201, await response.text()
    question = await response.json()
    assert question["text"] == "Berapa lansia yang perlu dievakuasi?" and question["by"] == "bpbd1"
    assert question["agency"] == "bpbd" and question["answered_at"] is None and question["answers"] == []
    assert question["at"].endswith("+07:00") and question["incident_number"] == incident["number"]
    assert [m["request"]["id"] for m in published if m["type"] == "info_request"] == [question["id"]]
    assert published[-1]["change"] == "asked" and published[-1]["incident"]["created_by"] == "rina"

    for user in (rina, joni):  # the call taker who created it, and the supervisor: unanswered
        assert [q["id"] for q in await listed(user)] == [question["id"]]

    clock.advance(seconds=40)
    response = await answer(rina, incident["id"], question["id"], "Dua lansia, satu memakai kursi roda.")
    assert response.status == 201, await response.text()
    thread = await response.json()
    assert thread["answered_at"] is not None and [a["by"] for a in thread["answers"]] == ["rina"]
    assert published[-1]["change"] == "answered" and published[-1]["request"]["answers"][0]["by_role"] == "call_taker"

    assert await listed(joni) == []  # answered: no longer open
    [seen] = await listed(bpbd, "all")
    assert seen["answers"][0]["text"] == "Dua lansia, satu memakai kursi roda."

    view = await (await bpbd.get(f"/api/v1/incidents/{incident['id']}")).json()
    assert [t["id"] for t in view["info_requests"]] == [question["id"]]
    trail = [(e["kind"], e["by"], e["agency"]) for e in view["events"] if e["kind"].startswith("info_")]
    assert trail == [("info_requested", "bpbd1", "bpbd"), ("info_answered", "rina", "bpbd")]
    assert view["version"] == incident["version"], "a message must not make a concurrent edit fail"


async def test_empty_oversized_and_non_text_messages_are_refused_and_html_is_kept_verbatim(sign_in: Any) -> None:
    rina, bpbd = await sign_in("rina"), await sign_in("bpbd1")
    incident = await create_flood(rina)
    await refused(await ask(bpbd, incident["id"], "   "), 400, "empty_text")
    await refused(await ask(bpbd, incident["id"], "x" * (MAX_TEXT + 1)), 400, "text_too_long")
    await refused(await ask(bpbd, incident["id"], {"html": 1}), 400, "bad_text")
    await refused(
        await bpbd.post(
            f"/api/v1/incidents/{incident['id']}/info-requests",
            data="text=x",
            headers={"Content-Type": "application/json"},
        ),
        400,
        "bad_json",
    )
    assert await listed(rina) == []  # nothing stored by a refusal

    response = await ask(bpbd, incident["id"], SCRIPT)
    assert response.status == 201
    assert (await response.json())["text"] == SCRIPT
    [stored] = await listed(rina)
    assert stored["text"] == SCRIPT
    await refused(await answer(rina, incident["id"], stored["id"], ""), 400, "empty_text")


async def test_unknown_incidents_another_agencys_incident_and_wrong_request_ids_are_refused(
    sign_in: Any, users: Any
) -> None:
    rina, bpbd, pupr = await sign_in("rina"), await sign_in("bpbd1"), await sign_in("pupr1")
    bpbd_only = await create_flood(rina, agencies=["bpbd"])
    await refused(await ask(bpbd, 999999, "halo"), 404, "no_incident")
    await refused(await ask(bpbd, "abc", "halo"), 404, "no_incident")
    await refused(await ask(pupr, bpbd_only["id"], "halo"), 404, "no_incident")  # not PUPR's incident

    question = await (await ask(bpbd, bpbd_only["id"], "Akses jalan?")).json()
    other = await create_flood(rina)
    await refused(await answer(rina, other["id"], question["id"], "ya"), 404, "no_request")  # another incident's
    await refused(await answer(rina, bpbd_only["id"], 424242, "ya"), 404, "no_request")
    await refused(await answer(rina, bpbd_only["id"], "x", "ya"), 404, "no_request")
    reply = await (await answer(rina, bpbd_only["id"], question["id"], "Bisa lewat Jalan By Pass.")).json()
    await refused(await answer(rina, bpbd_only["id"], reply["answers"][0]["id"], "ya"), 404, "no_request")

    await users.create("sari", role="call_taker", password="kuranji-banjir-2023")
    sari = await sign_in("sari")  # another call taker: not her incident
    await refused(await answer(sari, bpbd_only["id"], question["id"], "ya"), 404, "no_incident")
    assert await listed(sari, "all") == []


async def test_another_agency_never_sees_the_thread(sign_in: Any, published: list[dict[str, Any]]) -> None:
    rina, bpbd, pupr = await sign_in("rina"), await sign_in("bpbd1"), await sign_in("pupr1")
    incident = await create_flood(rina)  # BPBD and PUPR both have a task
    await ask(bpbd, incident["id"], "Pertanyaan BPBD")
    assert await listed(pupr, "all") == []
    view = await (await pupr.get(f"/api/v1/incidents/{incident['id']}")).json()
    assert view["info_requests"] == []
    assert not [e for e in view["events"] if e["kind"].startswith("info_")]


async def test_roles_closed_incidents_and_the_state_filter(sign_in: Any) -> None:
    rina, joni, bpbd = await sign_in("rina"), await sign_in("joni"), await sign_in("bpbd1")
    incident = await create_flood(rina, agencies=["bpbd"])
    await refused(await ask(rina, incident["id"], "halo"), 403, "forbidden")  # call takers answer, not ask
    question = await (await ask(bpbd, incident["id"], "halo")).json()
    await refused(await answer(bpbd, incident["id"], question["id"], "halo"), 403, "forbidden")
    assert (await answer(joni, incident["id"], question["id"], "Sudah dicek.")).status == 201
    await refused(await joni.get("/api/v1/info-requests?state=maybe"), 400, "bad_state")

    await bpbd.post(f"/api/v1/incidents/{incident['id']}/tasks/bpbd/cancelled", json={"reason": "duplikat"})
    await refused(await ask(bpbd, incident["id"], "masih ada?"), 409, "incident_closed")
    assert await listed(joni, "all") == []  # threads of closed incidents are no longer listed
