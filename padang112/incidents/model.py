"""Incident and agency-task values and their state tables (plain Python, no I/O).

An incident is ``new`` until it is dispatched to at least one agency, ``dispatched`` while any agency task
is open, and ``closed`` once every task is resolved or cancelled (a cancel needs a reason). Each agency task
moves ``dispatched → acknowledged → en_route → on_scene → resolved``; ``cancelled`` from any open state.
Every change carries who made it; edits use a version number so that two people editing one incident
cannot silently overwrite each other (the second gets a conflict and sees the first one's change).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

AGENCIES = ("damkar", "bpbd", "satpolpp", "dishub", "dinkes", "dlh", "pupr")
AGENCY_NAMES = {
    "damkar": "Damkar",
    "bpbd": "BPBD",
    "satpolpp": "Satpol PP",
    "dishub": "Dishub",
    "dinkes": "Dinas Kesehatan",
    "dlh": "DLH",
    "pupr": "Dinas PUPR",
}


class IncidentState(str, enum.Enum):
    NEW = "new"
    DISPATCHED = "dispatched"
    CLOSED = "closed"


class TaskState(str, enum.Enum):
    DISPATCHED = "dispatched"
    ACKNOWLEDGED = "acknowledged"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"


TASK_ALLOWED: dict[TaskState, frozenset[TaskState]] = {
    TaskState.DISPATCHED: frozenset({TaskState.ACKNOWLEDGED, TaskState.CANCELLED}),
    TaskState.ACKNOWLEDGED: frozenset(
        {TaskState.EN_ROUTE, TaskState.ON_SCENE, TaskState.RESOLVED, TaskState.CANCELLED}
    ),
    TaskState.EN_ROUTE: frozenset({TaskState.ON_SCENE, TaskState.RESOLVED, TaskState.CANCELLED}),
    TaskState.ON_SCENE: frozenset({TaskState.RESOLVED, TaskState.CANCELLED}),
    TaskState.RESOLVED: frozenset(),
    TaskState.CANCELLED: frozenset(),
}
TASK_DONE = frozenset({TaskState.RESOLVED, TaskState.CANCELLED})


@dataclass(frozen=True)
class IncidentDraft:
    """What the call taker's form (or a hand entry) submits; validated by ``validation.validate``."""

    type_code: str
    priority: int
    kecamatan: str
    description: str
    kelurahan: str | None = None
    location_text: str = ""
    latitude: float | None = None
    longitude: float | None = None
    victims: int = 0
    caller_name: str = ""
    callback_number: str = ""
    notes: str = ""
    agencies: tuple[str, ...] = ()  # empty: the catalog's defaults for the type
    call_id: str | None = None
    source: str = "call"  # call | walk_in | radio | social_media | other


@dataclass(frozen=True)
class AgencyTask:
    incident_id: int
    agency: str
    state: TaskState
    dispatched_at: datetime
    ack_deadline: datetime
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    escalated_at: datetime | None = None
    note: str = ""


@dataclass(frozen=True)
class Incident:
    id: int
    number: str  # human reference, e.g. "112-20261127-0007" (WIB date)
    state: IncidentState
    type_code: str
    priority: int
    kecamatan: str
    kelurahan: str | None
    location_text: str
    latitude: float | None
    longitude: float | None
    description: str
    victims: int
    caller_name: str
    callback_number: str
    notes: str
    call_id: str | None
    source: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int
    tasks: tuple[AgencyTask, ...] = field(default_factory=tuple)
