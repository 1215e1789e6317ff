"""Incident store on a real migrated database (SQLite and PostgreSQL): numbers, tasks and their moves, closing,
edit conflicts, audit."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112.incidents.model import IncidentDraft, IncidentState, TaskState
from padang112.incidents.store import ConflictError, IncidentError, IncidentNotFound, IncidentStore
from padang112.storage.nul import storable
from tests.unit.conftest import FakeClock, sql

pytestmark = pytest.mark.engines("sqlite", "postgresql")  # the storage contract, on both engines

DEADLINES = {1: 60, 2: 120, 3: 300, 4: 900}


def deadline_s(priority: int) -> int:
    return DEADLINES[priority]


def flood(**overrides: object) -> IncidentDraft:
    fields: dict[str, object] = dict(
        type_code="flood",
        priority=2,
        kecamatan="Kuranji",
        kelurahan="Pasar Ambacang",
        location_text="Jl. Raya Kuranji",
        latitude=-0.91,
        longitude=100.4,
        description="air setinggi lutut masuk rumah, 2 lansia",
        victims=2,
        caller_name="Budi",
        callback_number="081266001122",
        agencies=("bpbd", "pupr"),
        call_id="1691400000.17",
    )
    fields.update(overrides)
    return IncidentDraft(**fields)  # type: ignore[arg-type]


@pytest.fixture
def store(engine: AsyncEngine, clock: FakeClock) -> IncidentStore:
    return IncidentStore(engine, clock)


async def test_create_dispatches_to_each_agency_with_a_deadline(store: IncidentStore, clock: FakeClock) -> None:
    created = await store.create(flood(), "ct_flood", deadline_s)

    assert created.state is IncidentState.DISPATCHED
    assert created.number == "112-20230807-0001"  # 01:00 UTC is 08:00 WIB
    assert (created.version, created.created_by, created.created_at) == (1, "ct_flood", clock.now)
    assert [(t.agency, t.state) for t in created.tasks] == [
        ("bpbd", TaskState.DISPATCHED),
        ("pupr", TaskState.DISPATCHED),
    ]
    assert all(
        t.dispatched_at == clock.now and t.ack_deadline == clock.now + timedelta(seconds=120) for t in created.tasks
    )
    assert await store.get(created.id) == created  # what create returns is what is stored
    assert await store.get(created.id + 100) is None
    events = await store.events(created.id)
    assert [(e.kind, e.agency, e.to_state, e.by) for e in events] == [
        ("created", None, "dispatched", "ct_flood"),
        ("dispatched", "bpbd", "dispatched", "ct_flood"),
        ("dispatched", "pupr", "dispatched", "ct_flood"),
    ]
    assert all(e.at == clock.now and e.at.tzinfo is not None for e in events)


async def test_without_agencies_the_incident_stays_new(store: IncidentStore) -> None:
    created = await store.create(flood(agencies=()), "ct", deadline_s)
    assert (created.state, created.tasks) == (IncidentState.NEW, ())
    assert [e.kind for e in await store.events(created.id)] == ["created"]

    added = await store.add_agency(created.id, "damkar", "sup", deadline_s)
    assert added.state is IncidentState.DISPATCHED and added.version == 2
    assert [(t.agency, t.state) for t in added.tasks] == [("damkar", TaskState.DISPATCHED)]
    with pytest.raises(IncidentError, match="already has an open task"):
        await store.add_agency(created.id, "damkar", "sup", deadline_s)
    with pytest.raises(IncidentError, match="unknown agency"):
        await store.add_agency(created.id, "police", "sup", deadline_s)
    assert (await store.events(created.id))[-1].kind == "task_added"


async def test_numbers_follow_a_per_day_sequence_that_restarts_at_wib_midnight(
    store: IncidentStore, clock: FakeClock
) -> None:
    clock.now = datetime(2023, 8, 7, 16, 58, tzinfo=UTC)  # 23:58 WIB
    first = await store.create(flood(), "ct", deadline_s)
    second = await store.create(flood(), "ct", deadline_s)
    clock.advance(minutes=2)  # 00:00 WIB on the 8th, still the 7th in UTC
    third = await store.create(flood(), "ct", deadline_s)
    fourth = await store.create(flood(agencies=()), "ct", deadline_s)

    assert [i.number for i in (first, second, third, fourth)] == [
        "112-20230807-0001",
        "112-20230807-0002",
        "112-20230808-0001",
        "112-20230808-0002",
    ]


async def test_concurrent_creates_get_distinct_numbers(store: IncidentStore) -> None:
    created = await asyncio.gather(*(store.create(flood(), "ct", deadline_s) for _ in range(8)))
    assert sorted(i.number for i in created) == [f"112-20230807-{n:04d}" for n in range(1, 9)]


async def test_tasks_move_to_resolved_then_the_incident_closes(store: IncidentStore, clock: FakeClock) -> None:
    incident = await store.create(flood(), "ct_flood", deadline_s)
    clock.advance(seconds=30)
    for to in ("acknowledged", "en_route", "on_scene"):
        await store.set_task_state(incident.id, "bpbd", TaskState(to), "op_bpbd")
        clock.advance(seconds=10)
    after_bpbd = await store.set_task_state(incident.id, "bpbd", TaskState.RESOLVED, "op_bpbd", note="air surut")
    assert after_bpbd.state is IncidentState.DISPATCHED  # pupr is still open
    bpbd = after_bpbd.tasks[0]
    assert bpbd.acknowledged_at == incident.created_at + timedelta(seconds=30)
    assert bpbd.resolved_at == clock.now and bpbd.note == "air surut"

    await store.set_task_state(incident.id, "pupr", TaskState.ACKNOWLEDGED, "op_pupr")
    closed = await store.set_task_state(incident.id, "pupr", "resolved", "op_pupr")
    assert closed.state is IncidentState.CLOSED
    assert closed.version == incident.version + 6
    assert {t.agency: t.state for t in closed.tasks} == {"bpbd": TaskState.RESOLVED, "pupr": TaskState.RESOLVED}

    trail = [(e.kind, e.agency, e.from_state, e.to_state, e.by) for e in await store.events(incident.id)]
    assert trail[3:] == [
        ("task_state", "bpbd", "dispatched", "acknowledged", "op_bpbd"),
        ("task_state", "bpbd", "acknowledged", "en_route", "op_bpbd"),
        ("task_state", "bpbd", "en_route", "on_scene", "op_bpbd"),
        ("task_state", "bpbd", "on_scene", "resolved", "op_bpbd"),
        ("task_state", "pupr", "dispatched", "acknowledged", "op_pupr"),
        ("task_state", "pupr", "acknowledged", "resolved", "op_pupr"),
        ("closed", None, "dispatched", "closed", "op_pupr"),
    ]
    assert await store.open_for_agency("bpbd") == [] and await store.open_incidents() == []


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        ((), TaskState.EN_ROUTE),  # not acknowledged yet
        ((), TaskState.RESOLVED),
        ((), TaskState.DISPATCHED),
        ((TaskState.ACKNOWLEDGED,), TaskState.ACKNOWLEDGED),
        ((TaskState.ACKNOWLEDGED, TaskState.ON_SCENE), TaskState.EN_ROUTE),  # no going back
        ((TaskState.ACKNOWLEDGED, TaskState.RESOLVED), TaskState.ON_SCENE),  # done is done
    ],
)
async def test_illegal_task_moves_are_refused_and_change_nothing(
    store: IncidentStore, path: tuple[TaskState, ...], illegal: TaskState
) -> None:
    incident = await store.create(flood(agencies=("bpbd", "pupr")), "ct", deadline_s)
    for to in path:
        await store.set_task_state(incident.id, "bpbd", to, "op")
    before = await store.get(incident.id)
    trail = await store.events(incident.id)

    with pytest.raises(IncidentError, match=f"cannot go from .* to {illegal.value}"):
        await store.set_task_state(incident.id, "bpbd", illegal, "op")

    assert await store.get(incident.id) == before
    assert await store.events(incident.id) == trail


async def test_moves_on_unknown_incidents_tasks_or_states_are_refused(store: IncidentStore) -> None:
    incident = await store.create(flood(agencies=("bpbd",)), "ct", deadline_s)
    with pytest.raises(IncidentNotFound):
        await store.set_task_state(incident.id + 1, "bpbd", TaskState.ACKNOWLEDGED, "op")
    with pytest.raises(IncidentNotFound, match="no task for 'damkar'"):
        await store.set_task_state(incident.id, "damkar", TaskState.ACKNOWLEDGED, "op")
    with pytest.raises(IncidentError, match="unknown task state"):
        await store.set_task_state(incident.id, "bpbd", "teleported", "op")


async def test_cancel_needs_a_reason(store: IncidentStore) -> None:
    incident = await store.create(flood(), "ct", deadline_s)
    for reason in (None, "", "   ", 42):  # 42: whatever a JSON body holds
        with pytest.raises(IncidentError, match="needs a reason"):
            await store.set_task_state(incident.id, "pupr", TaskState.CANCELLED, "sup", reason=reason)  # type: ignore[arg-type]
    assert (await store.get(incident.id)) == incident

    cancelled = await store.set_task_state(incident.id, "pupr", TaskState.CANCELLED, "sup", reason="tidak perlu")
    assert [t.state for t in cancelled.tasks] == [TaskState.DISPATCHED, TaskState.CANCELLED]
    assert cancelled.state is IncidentState.DISPATCHED
    last = (await store.events(incident.id))[-1]
    assert (last.kind, last.agency, last.by, last.data) == ("task_cancelled", "pupr", "sup", {"reason": "tidak perlu"})

    await store.set_task_state(incident.id, "bpbd", TaskState.ACKNOWLEDGED, "op")
    closed = await store.set_task_state(incident.id, "bpbd", TaskState.RESOLVED, "op")
    assert closed.state is IncidentState.CLOSED  # resolved + cancelled: every task done

    reopened = await store.add_agency(incident.id, "pupr", "sup", deadline_s)  # sent again after all
    assert reopened.state is IncidentState.DISPATCHED
    assert {t.agency: t.state for t in reopened.tasks}["pupr"] is TaskState.DISPATCHED


async def test_concurrent_edits_the_second_gets_a_conflict_with_the_first_change(store: IncidentStore) -> None:
    incident = await store.create(flood(), "ct", deadline_s)
    seen = incident.version

    first = await store.update(incident.id, {"victims": 3, "notes": "satu lansia dievakuasi"}, seen, "ct_a")
    assert (first.victims, first.notes, first.version) == (3, "satu lansia dievakuasi", seen + 1)
    with pytest.raises(ConflictError) as conflict:
        await store.update(incident.id, {"description": "air naik sepinggang"}, seen, "ct_b")

    assert conflict.value.current == first  # the second editor sees the first one's change
    stored = await store.get(incident.id)
    assert stored == first and stored.description == incident.description  # nothing overwritten

    second = await store.update(incident.id, {"description": "air naik sepinggang"}, first.version, "ct_b")
    assert (second.victims, second.notes, second.description) == (3, "satu lansia dievakuasi", "air naik sepinggang")
    edits = [(e.by, e.data["changes"]) for e in await store.events(incident.id) if e.kind == "edited"]
    assert edits == [
        ("ct_a", {"victims": {"old": 2, "new": 3}, "notes": {"old": "", "new": "satu lansia dievakuasi"}}),
        ("ct_b", {"description": {"old": incident.description, "new": "air naik sepinggang"}}),
    ]


async def test_simultaneous_edits_of_one_version_let_exactly_one_through(store: IncidentStore) -> None:
    incident = await store.create(flood(), "ct", deadline_s)
    results = await asyncio.gather(
        *(store.update(incident.id, {"notes": f"catatan {n}"}, incident.version, f"ct_{n}") for n in range(4)),
        return_exceptions=True,
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    assert len(winners) == 1 and all(isinstance(r, ConflictError) for r in results if r not in winners)
    assert await store.get(incident.id) == winners[0]


async def test_a_task_move_bumps_the_version_so_a_stale_edit_conflicts(store: IncidentStore) -> None:
    incident = await store.create(flood(), "ct", deadline_s)
    await store.set_task_state(incident.id, "bpbd", TaskState.ACKNOWLEDGED, "op")
    with pytest.raises(ConflictError) as conflict:
        await store.update(incident.id, {"notes": "x"}, incident.version, "ct")
    assert conflict.value.current.tasks[0].state is TaskState.ACKNOWLEDGED


async def test_only_editable_fields_with_proper_values_can_be_changed(store: IncidentStore) -> None:
    incident = await store.create(flood(), "ct", deadline_s)
    for changes in (
        {"state": "closed"},
        {"number": "112-x"},
        {"created_by": "me"},
        {"victims": -1},
        {"priority": 9},
        {"priority": True},
        {"latitude": "north"},
        {"description": None},
        {"kecamatan": ""},
    ):
        with pytest.raises(IncidentError):
            await store.update(incident.id, changes, incident.version, "ct")
    assert await store.get(incident.id) == incident

    same = await store.update(incident.id, {"victims": incident.victims}, incident.version, "ct")
    assert same == incident  # no actual change: no new version, no event
    with pytest.raises(IncidentNotFound):
        await store.update(incident.id + 1, {"notes": "x"}, 1, "ct")


UNTRUSTED = [
    "<script>alert(1)</script>",
    "'); DROP TABLE incidents;--",
    "Budi \"the 'boss'\" O'Neil",
    "📞🚒 banjir — بودي",
    "line\nbreak\x00nul",
]


@pytest.mark.parametrize("raw", UNTRUSTED)
async def test_untrusted_text_is_stored_verbatim(
    store: IncidentStore, raw: str, engine: AsyncEngine, backend: str
) -> None:
    """Verbatim, except that PostgreSQL's text has no NUL: there it reads back as U+FFFD (storage/nul.py)."""
    incident = await store.create(flood(description=raw, caller_name=raw, location_text=raw), "ct", deadline_s)
    edited = await store.update(incident.id, {"notes": raw}, incident.version, "ct")
    stored = await store.get(incident.id)
    kept = storable(raw, backend)
    assert stored == edited
    assert (stored.description, stored.caller_name, stored.location_text, stored.notes) == (kept, kept, kept, kept)
    assert await sql(engine, "SELECT description FROM incidents WHERE id = :id", id=incident.id) == [(kept,)]
    assert await sql(engine, "SELECT count(*) FROM incidents") == [(1,)]


async def test_overdue_tasks_are_returned_until_escalated_and_acknowledged_ones_never(
    store: IncidentStore, clock: FakeClock
) -> None:
    incident = await store.create(flood(priority=1), "ct", deadline_s)  # 60 s to acknowledge
    await store.set_task_state(incident.id, "pupr", TaskState.ACKNOWLEDGED, "op_pupr")
    assert await store.overdue(clock.now + timedelta(seconds=60)) == []  # at the deadline: not past it yet

    clock.advance(seconds=61)
    [(late, task)] = await store.overdue(clock.now)
    assert (late.id, task.agency, task.state, task.escalated_at) == (incident.id, "bpbd", TaskState.DISPATCHED, None)
    assert await store.overdue(clock.now) == [(late, task)]  # still overdue until marked

    marked = await store.mark_escalated(incident.id, "bpbd")
    assert marked is not None and marked.tasks[0].escalated_at == clock.now
    assert marked.version == late.version  # an escalation does not make an editor's save conflict
    assert await store.overdue(clock.now + timedelta(hours=1)) == []
    assert await store.mark_escalated(incident.id, "bpbd") is None  # once
    assert await store.mark_escalated(incident.id, "pupr") is None  # acknowledged: never overdue
    escalated = [e for e in await store.events(incident.id) if e.kind == "escalated"]
    assert [(e.agency, e.by) for e in escalated] == [("bpbd", "system")]


async def test_queues_list_open_incidents_by_priority_then_age(store: IncidentStore, clock: FakeClock) -> None:
    old_p3 = await store.create(flood(priority=3, agencies=("bpbd",)), "ct", deadline_s)
    clock.advance(minutes=1)
    new_p1 = await store.create(flood(priority=1, agencies=("bpbd", "damkar")), "ct", deadline_s)
    clock.advance(minutes=1)
    new_p3 = await store.create(flood(priority=3, agencies=("bpbd",), call_id="other"), "ct", deadline_s)
    clock.advance(minutes=1)
    unassigned = await store.create(flood(priority=2, agencies=(), call_id=None), "ct", deadline_s)
    await store.set_task_state(new_p3.id, "bpbd", TaskState.CANCELLED, "sup", reason="dobel")

    assert [i.id for i in await store.open_for_agency("bpbd")] == [new_p1.id, old_p3.id]
    assert [i.id for i in await store.open_for_agency("damkar")] == [new_p1.id]
    assert await store.open_for_agency("dishub") == []
    assert [i.id for i in await store.open_incidents()] == [new_p1.id, unassigned.id, old_p3.id]
    assert [i.id for i in await store.for_call("1691400000.17")] == [old_p3.id, new_p1.id]
    assert await store.for_call("nope") == []


async def test_naive_times_are_refused(store: IncidentStore, clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.overdue(datetime(2023, 8, 7))
    clock.now = datetime(2023, 8, 7)
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.create(flood(), "ct", deadline_s)
