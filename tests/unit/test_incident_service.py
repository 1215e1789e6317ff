"""Incident service: each change is stored, then published as a JSON-safe view; overdue tasks escalate once."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112.incidents.model import IncidentDraft, IncidentState, TaskState
from padang112.incidents.service import IncidentService, incident_view
from padang112.incidents.store import ConflictError, IncidentError, IncidentStore
from tests.unit.conftest import FakeClock


def deadline_s(priority: int) -> int:
    return {1: 60, 2: 120, 3: 300, 4: 900}[priority]


def flood(**overrides: Any) -> IncidentDraft:
    fields: dict[str, Any] = dict(
        type_code="flood",
        priority=2,
        kecamatan="Kuranji",
        description="air setinggi lutut",
        victims=2,
        agencies=("bpbd", "pupr"),
        call_id="1691400000.17",
        latitude=-0.91,
        longitude=100.4,
    )
    fields.update(overrides)
    return IncidentDraft(**fields)


@pytest.fixture
def published() -> list[dict[str, Any]]:
    return []


@pytest.fixture
def service(engine: AsyncEngine, clock: FakeClock, published: list[dict[str, Any]]) -> IncidentService:
    return IncidentService(IncidentStore(engine, clock), published.append, deadline_s)


async def test_create_publishes_the_view_in_wib(service: IncidentService, published: list[dict[str, Any]]) -> None:
    view = await service.create(flood(description="<script>alert(1)</script>"), "ct_flood")

    assert published == [{"type": "incident", "incident": view, "change": "created"}]
    assert json.loads(json.dumps(view)) == view  # JSON-safe as it is
    assert view["number"] == "112-20230807-0001" and view["state"] == "dispatched"
    assert view["description"] == "<script>alert(1)</script>"  # verbatim: escaping is the page's job
    assert view["created_at"] == "2023-08-07T08:00:00+07:00" and view["created_by"] == "ct_flood"
    assert [(t["agency"], t["agency_name"], t["state"], t["ack_deadline"]) for t in view["tasks"]] == [
        ("bpbd", "BPBD", "dispatched", "2023-08-07T08:02:00+07:00"),
        ("pupr", "Dinas PUPR", "dispatched", "2023-08-07T08:02:00+07:00"),
    ]
    assert await service.view(view["id"]) == view
    assert await service.view(view["id"] + 1) is None


async def test_task_moves_publish_each_change_and_the_close(
    service: IncidentService, published: list[dict[str, Any]]
) -> None:
    view = await service.create(flood(), "ct")
    incident_id = view["id"]
    await service.set_task_state(incident_id, "bpbd", TaskState.ACKNOWLEDGED, "op_bpbd")
    await service.set_task_state(incident_id, "bpbd", "resolved", "op_bpbd")
    await service.set_task_state(incident_id, "pupr", TaskState.CANCELLED, "sup", reason="tidak perlu")
    with pytest.raises(IncidentError):
        await service.set_task_state(incident_id, "pupr", TaskState.ACKNOWLEDGED, "op_pupr")

    assert [m["change"] for m in published] == ["created", "task_state", "task_state", "closed"]
    last = published[-1]["incident"]
    assert last["state"] == "closed"
    assert {t["agency"]: t["state"] for t in last["tasks"]} == {"bpbd": "resolved", "pupr": "cancelled"}
    assert last["tasks"][0]["acknowledged_at"] == "2023-08-07T08:00:00+07:00"

    events = await service.events_view(incident_id)
    who = {(e["agency"], e["to_state"]): e["by"] for e in events}
    assert who[("bpbd", "acknowledged")] == "op_bpbd" and who[("pupr", "cancelled")] == "sup"
    assert [e["kind"] for e in events][-2:] == ["task_cancelled", "closed"]
    assert json.loads(json.dumps(events)) == events


async def test_a_conflicting_edit_publishes_nothing(service: IncidentService, published: list[dict[str, Any]]) -> None:
    view = await service.create(flood(), "ct")
    edited = await service.update(view["id"], {"victims": 4}, view["version"], "ct_a")
    with pytest.raises(ConflictError) as conflict:
        await service.update(view["id"], {"victims": 5}, view["version"], "ct_b")

    assert service.to_view(conflict.value.current) == edited and edited["victims"] == 4
    assert [m["change"] for m in published] == ["created", "edited"]
    assert await service.update(view["id"], {"victims": 4}, edited["version"], "ct_b") == edited  # a no-op
    assert len(published) == 2


async def test_queue_and_agency_added_later(service: IncidentService, published: list[dict[str, Any]]) -> None:
    view = await service.create(flood(agencies=()), "ct")
    assert view["state"] == "new" and view["tasks"] == []
    assert await service.queue_view("damkar") == []

    added = await service.add_agency(view["id"], "damkar", "sup")
    assert published[-1] == {"type": "incident", "incident": added, "change": "task_added"}
    assert [i["id"] for i in await service.queue_view("damkar")] == [view["id"]]
    assert [i["id"] for i in await service.open_view()] == [view["id"]]
    assert [i["id"] for i in await service.for_call_view("1691400000.17")] == [view["id"]]


async def test_overdue_tasks_escalate_once_and_acknowledged_ones_never(
    service: IncidentService, published: list[dict[str, Any]], clock: FakeClock
) -> None:
    view = await service.create(flood(priority=1), "ct")
    await service.set_task_state(view["id"], "pupr", TaskState.ACKNOWLEDGED, "op_pupr")
    published.clear()

    assert await service.escalate_overdue(clock.now + timedelta(seconds=30)) == []
    clock.advance(seconds=90)
    [(incident, task)] = await service.escalate_overdue(clock.now)
    assert (incident.id, task.agency, task.escalated_at) == (view["id"], "bpbd", clock.now)
    assert incident.state is IncidentState.DISPATCHED

    [message] = published
    assert message["type"] == "escalation"
    assert (message["agency"], message["agency_name"], message["number"]) == ("bpbd", "BPBD", view["number"])
    assert message["incident"] == incident_view(incident)
    assert message["incident"]["tasks"][0]["escalated_at"] == "2023-08-07T08:01:30+07:00"
    assert json.loads(json.dumps(message)) == message

    clock.advance(minutes=10)
    assert await service.escalate_overdue(clock.now) == []
    assert len(published) == 1


async def test_a_failing_publish_does_not_undo_the_change(engine: AsyncEngine, clock: FakeClock) -> None:
    def broken(message: dict[str, Any]) -> None:
        raise RuntimeError("hub gone")

    service = IncidentService(IncidentStore(engine, clock), broken, deadline_s)
    view = await service.create(flood(), "ct")
    assert await service.view(view["id"]) == view
