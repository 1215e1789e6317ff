"""The command-center dashboard's figures (``/dasbor``, ``GET /api/v1/dashboard``): pure, no I/O.

- **open incidents by type**: incidents not closed, counted by incident type, most first.
- **open tasks by agency**: the open agency tasks of those incidents per agency (all seven, also with 0),
  with how many still wait for "Terima" and how many of those are past their acknowledge deadline.
- **map**: today's incidents (created in the WIB day) at their latitude/longitude, or at their kecamatan's
  approximate centre when they have none (``approximate: true``); the kecamatan themselves as points.
- **times per agency**: :func:`padang112.stats.agency_times.agency_times` for the tasks dispatched today.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from padang112.incidents.model import AGENCIES, AGENCY_NAMES, Incident, IncidentState, TaskState
from padang112.stats.agency_times import agency_times
from padang112.wib import iso as wib_iso

Point = tuple[float, float]


def open_by_type(incidents: Iterable[Incident], type_name: Callable[[str], str]) -> list[dict[str, Any]]:
    """``[{code, name, count}]`` of the incidents not closed, most first (then by code)."""
    counts = Counter(i.type_code for i in incidents if i.state is not IncidentState.CLOSED)
    return [
        {"code": code, "name": type_name(code), "count": n}
        for code, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


def open_by_agency(incidents: Iterable[Incident], now: datetime) -> list[dict[str, Any]]:
    """Per agency (all seven): open tasks, of which still waiting to be acknowledged, of which overdue."""
    counts = {a: {"open": 0, "waiting_ack": 0, "overdue": 0} for a in AGENCIES}
    for incident in incidents:
        if incident.state is IncidentState.CLOSED:
            continue
        for task in incident.tasks:
            row = counts.get(task.agency)
            if row is None or task.state in (TaskState.RESOLVED, TaskState.CANCELLED):
                continue
            row["open"] += 1
            if task.state is TaskState.DISPATCHED:
                row["waiting_ack"] += 1
                row["overdue"] += int(now > task.ack_deadline)
    return [{"agency": a, "name": AGENCY_NAMES[a], **row} for a, row in counts.items()]


def map_points(
    incidents: Iterable[Incident], centres: Mapping[str, Point], type_name: Callable[[str], str]
) -> list[dict[str, Any]]:
    """Where to draw each incident: its own coordinates, else its kecamatan's centre; left out if neither."""
    points = []
    for i in incidents:
        if i.latitude is not None and i.longitude is not None:
            (lat, lon), approximate = (i.latitude, i.longitude), False
        elif i.kecamatan in centres:
            (lat, lon), approximate = centres[i.kecamatan], True
        else:
            continue
        points.append(
            {
                "id": i.id,
                "number": i.number,
                "type_code": i.type_code,
                "type_name": type_name(i.type_code),
                "priority": i.priority,
                "state": i.state.value,
                "kecamatan": i.kecamatan,
                "created_at": wib_iso(i.created_at),
                "lat": lat,
                "lon": lon,
                "approximate": approximate,
            }
        )
    return points


def dashboard(
    open_incidents: Sequence[Incident],
    todays: Sequence[Incident],
    day: tuple[datetime, datetime],
    now: datetime,
    centres: Mapping[str, Point],
    type_name: Callable[[str], str],
    ack_deadlines_s: Mapping[int, int],
) -> dict[str, Any]:
    """The whole dashboard as JSON-ready data. ``todays``: incidents touching the WIB day ``day`` = [start, end)."""
    start, end = day
    created_today = [i for i in todays if start <= i.created_at < end]
    tasks = [t for i in todays for t in i.tasks]
    return {
        "generated_at": wib_iso(now),
        "day": {"start": wib_iso(start), "end": wib_iso(end)},
        "open": {
            "total": sum(1 for i in open_incidents if i.state is not IncidentState.CLOSED),
            "by_type": open_by_type(open_incidents, type_name),
            "by_agency": open_by_agency(open_incidents, now),
        },
        "map": {
            "kecamatan": [
                {"name": name, "lat": lat, "lon": lon, "approximate": True} for name, (lat, lon) in centres.items()
            ],
            "incidents": map_points(created_today, centres, type_name),
        },
        "agency_times": [t.to_json() for t in agency_times(tasks, start, end, now)],
        "ack_deadlines_s": {str(p): s for p, s in sorted(ack_deadlines_s.items())},
    }
