"""The dashboard's figures (pure): open incidents by type and agency, map points, times of today's tasks."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from padang112.incidents.model import AGENCIES, AgencyTask, Incident, IncidentState, TaskState
from padang112.stats.dashboard import dashboard, map_points, open_by_agency, open_by_type
from padang112.stats.queries import wib_day_bounds
from tests.unit.test_agency_times import T0, task

CENTRES = {"Kuranji": (-0.92, 100.42), "Koto Tangah": (-0.83, 100.37)}
DAY = wib_day_bounds(T0.date())  # 2023-08-07 WIB


def incident(
    n: int,
    type_code: str = "flood",
    *,
    tasks: tuple[AgencyTask, ...] = (),
    kecamatan: str = "Kuranji",
    lat: float | None = None,
    lon: float | None = None,
    at: datetime = T0,
    state: IncidentState | None = None,
) -> Incident:
    if state is None:
        done = all(t.state in (TaskState.RESOLVED, TaskState.CANCELLED) for t in tasks)
        state = IncidentState.NEW if not tasks else IncidentState.CLOSED if done else IncidentState.DISPATCHED
    return Incident(
        id=n,
        number=f"112-20230807-{n:04d}",
        state=state,
        type_code=type_code,
        priority=2,
        kecamatan=kecamatan,
        kelurahan=None,
        location_text="",
        latitude=lat,
        longitude=lon,
        description="<b>banjir</b>",
        victims=0,
        caller_name="",
        callback_number="",
        notes="",
        call_id=None,
        source="call",
        created_by="rina",
        created_at=at,
        updated_at=at,
        version=1,
        tasks=tuple(replace(t, incident_id=n) for t in tasks),
    )


def name(code: str) -> str:
    return {"flood": "Banjir", "fire": "Kebakaran"}.get(code, code)


def test_open_incidents_by_type_most_first_closed_left_out() -> None:
    incidents = [incident(1), incident(2, "fire"), incident(3), incident(4, tasks=(task(ack=1, resolved=9),))]
    assert open_by_type(incidents, name) == [
        {"code": "flood", "name": "Banjir", "count": 2},
        {"code": "fire", "name": "Kebakaran", "count": 1},
    ]
    assert open_by_type([], name) == []


def test_open_tasks_by_agency_with_waiting_and_overdue() -> None:
    incidents = [
        incident(1, tasks=(task("bpbd"), task("pupr", ack=30))),
        incident(2, tasks=(task("bpbd", at=600), task("pupr", ack=5, resolved=50))),
    ]
    rows = {r["agency"]: r for r in open_by_agency(incidents, now=T0 + timedelta(seconds=120))}

    assert list(rows) == list(AGENCIES)  # all seven, also without tasks
    assert (rows["bpbd"]["open"], rows["bpbd"]["waiting_ack"], rows["bpbd"]["overdue"]) == (2, 2, 1)
    assert (rows["pupr"]["open"], rows["pupr"]["waiting_ack"], rows["pupr"]["overdue"]) == (1, 0, 0)
    assert rows["dlh"] == {"agency": "dlh", "name": "DLH", "open": 0, "waiting_ack": 0, "overdue": 0}


def test_map_points_use_coordinates_else_the_kecamatan_centre() -> None:
    points = map_points(
        [
            incident(1, lat=-0.9, lon=100.4),
            incident(2, kecamatan="Koto Tangah"),
            incident(3, kecamatan="Atlantis"),
            incident(4, lat=-0.9),
        ],
        CENTRES,
        name,
    )

    assert [(p["id"], p["lat"], p["lon"], p["approximate"]) for p in points] == [
        (1, -0.9, 100.4, False),
        (2, -0.83, 100.37, True),
        (4, -0.92, 100.42, True),
    ]  # 3: nowhere to draw
    assert points[0]["type_name"] == "Banjir" and points[0]["created_at"] == "2023-08-07T08:00:00+07:00"
    assert "description" not in points[0]  # only what the map shows


def test_the_whole_dashboard_counts_today_only_on_the_map_and_in_the_times() -> None:
    yesterday = T0 - timedelta(days=1)
    old = incident(1, tasks=(task("bpbd", at=-86_400),), at=yesterday)  # still open, from yesterday
    today = incident(2, tasks=(task("bpbd", ack=30), task("pupr", ack=200)), lat=-0.9, lon=100.4)
    data: dict[str, Any] = dashboard(
        [old, today], [today], DAY, T0 + timedelta(hours=1), CENTRES, name, {1: 60, 2: 120}
    )

    assert data["open"]["total"] == 2
    assert [p["number"] for p in data["map"]["incidents"]] == [today.number]
    assert {k["name"] for k in data["map"]["kecamatan"]} == set(CENTRES)
    times = {t["agency"]: t for t in data["agency_times"]}
    assert (times["bpbd"]["tasks"], times["bpbd"]["ack_p50_s"], times["bpbd"]["within_deadline"]) == (1, 30.0, 1)
    assert (times["pupr"]["missed_deadline"], times["pupr"]["below_target"]) == (1, True)
    assert data["ack_deadlines_s"] == {"1": 60, "2": 120}
    assert data["day"] == {"start": "2023-08-07T00:00:00+07:00", "end": "2023-08-08T00:00:00+07:00"}


def test_an_empty_day() -> None:
    data = dashboard([], [], DAY, T0, CENTRES, name, {1: 60})
    assert data["open"] == {"total": 0, "by_type": [], "by_agency": open_by_agency([], T0)}
    assert data["map"]["incidents"] == [] and len(data["agency_times"]) == len(AGENCIES)
