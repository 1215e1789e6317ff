"""Incidents in the database: creation with its human number, edits with a version check, agency tasks, audit.

Every write is one ``BEGIN IMMEDIATE`` transaction (:func:`padang112.storage.db.for_writing`): what it reads
(the day's last number, the version, a task's state) cannot change before it writes, also across processes.
Every change appends an ``incident_events`` row saying who (``by``) did what, when.

Event kinds: ``created``, ``dispatched`` (a task sent with the incident), ``task_added`` (sent later),
``task_state`` (a task moved), ``task_cancelled`` (with its reason), ``escalated`` (missed its acknowledge
deadline), ``edited`` (``data["changes"]`` maps each field to ``{"old": …, "new": …}``) and ``closed``.

All SQL goes through SQLAlchemy with bound parameters; strings are stored verbatim (escaping is the page's job).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from padang112.incidents.model import (
    AGENCIES,
    TASK_ALLOWED,
    TASK_DONE,
    AgencyTask,
    Incident,
    IncidentDraft,
    IncidentState,
    TaskState,
)
from padang112.storage.clocked import ClockedStore
from padang112.storage.models import AgencyTaskRow, IncidentEventRow, IncidentRow
from padang112.storage.paging import Page, Window, count_and_slice
from padang112.storage.types import require_aware
from padang112.wib import WIB

NUMBER_PREFIX = "112-"
SYSTEM = "system"

EDITABLE = frozenset(
    {
        "description",
        "notes",
        "location_text",
        "kecamatan",
        "kelurahan",
        "latitude",
        "longitude",
        "victims",
        "priority",
        "caller_name",
        "callback_number",
    }
)
_TEXT = frozenset({"description", "notes", "location_text", "kecamatan", "caller_name", "callback_number"})
_OPEN_TASK_STATES = tuple(s.value for s in TaskState if s not in TASK_DONE)

DeadlineFn = Callable[[int], int]


class IncidentError(Exception):
    """A change the incident's rules refuse (illegal task move, cancel without reason, unknown field...)."""


class IncidentNotFound(IncidentError):
    """No incident with that id (or no task of that agency on it)."""


class ConflictError(IncidentError):
    """The incident changed since the editor read it: nothing was written; ``current`` is what is stored now."""

    def __init__(self, current: Incident, expected_version: int) -> None:
        super().__init__(
            f"incident {current.number} is at version {current.version}, not {expected_version}: "
            "someone else changed it meanwhile"
        )
        self.current = current
        self.expected_version = expected_version


@dataclass(frozen=True)
class IncidentEvent:
    """One row of an incident's audit trail."""

    id: int
    incident_id: int
    at: datetime
    by: str
    kind: str
    agency: str | None
    from_state: str | None
    to_state: str | None
    data: dict[str, Any]


def wib_day(at: datetime) -> str:
    """``YYYYMMDD`` of ``at`` in Padang's local time (WIB)."""
    require_aware(at)
    return at.astimezone(WIB).strftime("%Y%m%d")


class IncidentStore(ClockedStore):
    """Reads and writes of incidents, their agency tasks and their audit trail."""

    # --- writes -------------------------------------------------------------------------------------------

    async def create(self, draft: IncidentDraft, by: str, deadline_s: DeadlineFn) -> Incident:
        """Store a validated draft; one task per ``draft.agencies`` (dispatched now), else the incident stays new."""
        agencies = _unique_agencies(draft.agencies)
        now = self._now()
        deadline = now + timedelta(seconds=deadline_s(draft.priority)) if agencies else now
        async with self._write.begin() as session:
            number = await self._next_number(session, now)
            row = IncidentRow(
                number=number,
                state=(IncidentState.DISPATCHED if agencies else IncidentState.NEW).value,
                type_code=draft.type_code,
                priority=draft.priority,
                kecamatan=draft.kecamatan,
                kelurahan=draft.kelurahan,
                location_text=draft.location_text,
                latitude=draft.latitude,
                longitude=draft.longitude,
                description=draft.description,
                victims=draft.victims,
                caller_name=draft.caller_name,
                callback_number=draft.callback_number,
                notes=draft.notes,
                call_id=draft.call_id,
                source=draft.source,
                created_by=by,
                created_at=now,
                updated_at=now,
                version=1,
            )
            session.add(row)
            await session.flush()
            _event(
                session,
                row.id,
                now,
                by,
                "created",
                to_state=row.state,
                data={
                    "number": number,
                    "type_code": draft.type_code,
                    "priority": draft.priority,
                    "agencies": list(agencies),
                    "call_id": draft.call_id,
                    "source": draft.source,
                },
            )
            for agency in agencies:
                session.add(_new_task(row.id, agency, now, deadline))
                _event(
                    session,
                    row.id,
                    now,
                    by,
                    "dispatched",
                    agency=agency,
                    to_state=TaskState.DISPATCHED.value,
                    data={"ack_deadline": deadline.isoformat()},
                )
            await session.flush()
            return await _load(session, row)

    async def update(self, incident_id: int, changes: Mapping[str, Any], expected_version: int, by: str) -> Incident:
        """Apply ``changes`` (editable fields only) if the incident is still at ``expected_version``.

        Raises :class:`ConflictError` (nothing written) when someone changed it meanwhile, :class:`IncidentError`
        for a field that cannot be edited or a value of the wrong kind. Changes equal to the stored values are
        dropped; when nothing is left, the incident is returned unchanged (no new version, no event).
        """
        _check_changes(changes)
        now = self._now()
        async with self._write.begin() as session:
            row = await _row(session, incident_id)
            if row.version != expected_version:
                raise ConflictError(await _load(session, row), expected_version)
            diff = {
                name: {"old": getattr(row, name), "new": value}
                for name, value in changes.items()
                if getattr(row, name) != value
            }
            if not diff:
                return await _load(session, row)
            for name, change in diff.items():
                setattr(row, name, change["new"])
            _touch(row, now)
            _event(session, row.id, now, by, "edited", data={"changes": diff, "version": row.version})
            await session.flush()
            return await _load(session, row)

    async def add_agency(self, incident_id: int, agency: str, by: str, deadline_s: DeadlineFn) -> Incident:
        """Send the incident to one more agency (or again to one whose task is done); reopens a closed incident."""
        if agency not in AGENCIES:
            raise IncidentError(f"unknown agency {agency!r}")
        now = self._now()
        async with self._write.begin() as session:
            row = await _row(session, incident_id)
            deadline = now + timedelta(seconds=deadline_s(row.priority))
            task = await _task_row(session, incident_id, agency)
            data: dict[str, Any] = {"ack_deadline": deadline.isoformat()}
            previous: str | None = None
            if task is None:
                session.add(_new_task(row.id, agency, now, deadline))
            elif TaskState(task.state) not in TASK_DONE:
                raise IncidentError(f"incident {row.number} already has an open task for {agency}")
            else:  # sent again: the earlier task's story stays in the audit trail
                previous = task.state
                task.state, task.dispatched_at, task.ack_deadline = TaskState.DISPATCHED.value, now, deadline
                task.acknowledged_at = task.resolved_at = task.escalated_at = None
            if row.state != IncidentState.DISPATCHED.value:
                data["incident"] = {"from": row.state, "to": IncidentState.DISPATCHED.value}
                row.state = IncidentState.DISPATCHED.value
            _touch(row, now)
            _event(
                session,
                row.id,
                now,
                by,
                "task_added",
                agency=agency,
                from_state=previous,
                to_state=TaskState.DISPATCHED.value,
                data=data,
            )
            await session.flush()
            return await _load(session, row)

    async def set_task_state(
        self, incident_id: int, agency: str, to: TaskState | str, by: str, note: str = "", reason: str | None = None
    ) -> Incident:
        """Move ``agency``'s task to ``to`` following ``TASK_ALLOWED``; closes the incident when every task is done.

        A cancel needs a non-empty ``reason``. ``note`` (if given) replaces the task's note.
        """
        try:
            target = TaskState(to)
        except ValueError:
            raise IncidentError(f"unknown task state {to!r}") from None
        if target is TaskState.CANCELLED and not (isinstance(reason, str) and reason.strip()):
            raise IncidentError("cancelling a task needs a reason")
        now = self._now()
        async with self._write.begin() as session:
            row = await _row(session, incident_id)
            task = await _task_row(session, incident_id, agency)
            if task is None:
                raise IncidentNotFound(f"incident {row.number} has no task for {agency!r}")
            current = TaskState(task.state)
            if target not in TASK_ALLOWED[current]:
                allowed = ", ".join(sorted(s.value for s in TASK_ALLOWED[current])) or "nothing (the task is done)"
                raise IncidentError(
                    f"task {agency} of incident {row.number} cannot go from {current.value} to "
                    f"{target.value}; allowed: {allowed}"
                )
            task.state = target.value
            if target is TaskState.ACKNOWLEDGED:
                task.acknowledged_at = now
            elif target is TaskState.RESOLVED:
                task.resolved_at = now
            if note:
                task.note = note
            data: dict[str, Any] = {}
            if note:
                data["note"] = note
            if target is TaskState.CANCELLED:
                data["reason"] = reason
            kind = "task_cancelled" if target is TaskState.CANCELLED else "task_state"
            _event(
                session,
                row.id,
                now,
                by,
                kind,
                agency=agency,
                from_state=current.value,
                to_state=target.value,
                data=data,
            )
            _touch(row, now)
            await session.flush()
            states = (
                await session.scalars(select(AgencyTaskRow.state).where(AgencyTaskRow.incident_id == incident_id))
            ).all()
            if row.state != IncidentState.CLOSED.value and all(TaskState(s) in TASK_DONE for s in states):
                _event(
                    session,
                    row.id,
                    now,
                    by,
                    "closed",
                    from_state=row.state,
                    to_state=IncidentState.CLOSED.value,
                    data={},
                )
                row.state = IncidentState.CLOSED.value
            await session.flush()
            return await _load(session, row)

    async def mark_escalated(self, incident_id: int, agency: str, by: str = SYSTEM) -> Incident | None:
        """Record that ``agency`` missed its acknowledge deadline; None if the task is no longer waiting for it
        (acknowledged or cancelled meanwhile, or already escalated). Does not bump the version: an escalation
        changes nothing an editor sees, and must not make their save fail.
        """
        now = self._now()
        async with self._write.begin() as session:
            row = await _row(session, incident_id)
            task = await _task_row(session, incident_id, agency)
            if task is None or task.state != TaskState.DISPATCHED.value or task.escalated_at is not None:
                return None
            task.escalated_at = now
            _event(
                session,
                row.id,
                now,
                by,
                "escalated",
                agency=agency,
                from_state=task.state,
                to_state=task.state,
                data={"ack_deadline": task.ack_deadline.isoformat()},
            )
            await session.flush()
            return await _load(session, row)

    # --- reads --------------------------------------------------------------------------------------------

    async def get(self, incident_id: int) -> Incident | None:
        async with self._read() as session:
            row = await session.get(IncidentRow, incident_id)
            return None if row is None else await _load(session, row)

    async def events(self, incident_id: int) -> list[IncidentEvent]:
        """The incident's audit trail, oldest first."""
        async with self._read() as session:
            rows = await session.scalars(
                select(IncidentEventRow)
                .where(IncidentEventRow.incident_id == incident_id)
                .order_by(IncidentEventRow.id)
            )
            return [
                IncidentEvent(
                    id=r.id,
                    incident_id=r.incident_id,
                    at=r.at,
                    by=r.by,
                    kind=r.kind,
                    agency=r.agency,
                    from_state=r.from_state,
                    to_state=r.to_state,
                    data=r.data,
                )
                for r in rows
            ]

    async def open_for_agency(self, agency: str) -> list[Incident]:
        """Incidents with an open task of ``agency``, most urgent (priority 1) first, then the task's
        acknowledge deadline (the one the agency must act on first), then oldest first."""
        return await self._incidents(_open_for_agency(agency))

    async def open_for_agency_page(self, agency: str, window: Window) -> Page[Incident]:
        return await self._page(_open_for_agency(agency), window)

    async def open_incidents(self) -> list[Incident]:
        """Incidents not closed (new or dispatched), most urgent first, then oldest first."""
        return await self._incidents(_open_incidents())

    async def open_incidents_page(self, window: Window) -> Page[Incident]:
        return await self._page(_open_incidents(), window)

    async def for_call(self, call_id: str) -> list[Incident]:
        """Incidents created for that call, oldest first."""
        query = select(IncidentRow).where(IncidentRow.call_id == call_id).order_by(IncidentRow.id)
        return await self._incidents(query)

    async def touching(self, start: datetime, end: datetime) -> list[Incident]:
        """Incidents created in ``[start, end)`` or with an agency task dispatched in it, oldest first
        (the dashboard and the shift reports)."""
        require_aware(start, "start")
        require_aware(end, "end")
        dispatched = select(AgencyTaskRow.incident_id).where(
            AgencyTaskRow.dispatched_at >= start, AgencyTaskRow.dispatched_at < end
        )
        query = (
            select(IncidentRow)
            .where(
                ((IncidentRow.created_at >= start) & (IncidentRow.created_at < end)) | IncidentRow.id.in_(dispatched)
            )
            .order_by(IncidentRow.created_at, IncidentRow.id)
        )
        return await self._incidents(query)

    async def overdue(self, now: datetime) -> list[tuple[Incident, AgencyTask]]:
        """Tasks still ``dispatched`` past their acknowledge deadline and not escalated yet, oldest deadline first."""
        require_aware(now)
        async with self._read() as session:
            task_rows = (
                await session.scalars(
                    select(AgencyTaskRow)
                    .where(
                        AgencyTaskRow.state == TaskState.DISPATCHED.value,
                        AgencyTaskRow.escalated_at.is_(None),
                        AgencyTaskRow.ack_deadline < now,
                    )
                    .order_by(AgencyTaskRow.ack_deadline, AgencyTaskRow.id)
                )
            ).all()
            if not task_rows:
                return []
            ids = sorted({t.incident_id for t in task_rows})
            rows = (await session.scalars(select(IncidentRow).where(IncidentRow.id.in_(ids)))).all()
            incidents = {i.id: i for i in await _load_many(session, rows)}
            result = []
            for t in task_rows:
                incident = incidents[t.incident_id]
                result.append((incident, next(task for task in incident.tasks if task.agency == t.agency)))
            return result

    async def escalated_waiting(self) -> list[tuple[int, str]]:
        """(incident id, agency) of every task that missed its deadline and is still not acknowledged."""
        async with self._read() as session:
            rows = (
                await session.execute(
                    select(AgencyTaskRow.incident_id, AgencyTaskRow.agency).where(
                        AgencyTaskRow.state == TaskState.DISPATCHED.value, AgencyTaskRow.escalated_at.is_not(None)
                    )
                )
            ).all()
            return [(incident_id, agency) for incident_id, agency in rows]

    async def note(self, incident_id: int, agency: str | None, kind: str, by: str, data: dict[str, Any]) -> None:
        """An audit-trail entry that changes nothing an editor sees (no version bump), e.g. a duty-phone call."""
        async with self._write.begin() as session:
            await _row(session, incident_id)
            _event(session, incident_id, self._now(), by, kind, agency=agency, data=data)

    async def _incidents(self, query: Any) -> list[Incident]:
        async with self._read() as session:
            rows = (await session.scalars(query)).unique().all()
            return await _load_many(session, rows)

    async def _page(self, query: Any, window: Window) -> Page[Incident]:
        async with self._read() as session:
            total, rows = await count_and_slice(session, query, window)
            return Page(await _load_many(session, rows), total, window)

    @staticmethod
    async def _next_number(session: AsyncSession, now: datetime) -> str:
        """``112-YYYYMMDD-NNNN``: the WIB day and one more than that day's highest sequence (inside the write lock)."""
        prefix = f"{NUMBER_PREFIX}{wib_day(now)}-"
        sequence = func.substr(IncidentRow.number, len(prefix) + 1)
        highest = await session.scalar(
            select(func.max(cast(sequence, Integer))).where(IncidentRow.number.startswith(prefix, autoescape=True))
        )
        return f"{prefix}{(highest or 0) + 1:04d}"


# --- helpers ----------------------------------------------------------------------------------------------


def _open_for_agency(agency: str) -> Any:
    return (
        select(IncidentRow)
        .join(AgencyTaskRow, AgencyTaskRow.incident_id == IncidentRow.id)
        .where(AgencyTaskRow.agency == agency, AgencyTaskRow.state.in_(_OPEN_TASK_STATES))
        .order_by(IncidentRow.priority, AgencyTaskRow.ack_deadline, IncidentRow.created_at, IncidentRow.id)
    )


def _open_incidents() -> Any:
    return (
        select(IncidentRow)
        .where(IncidentRow.state != IncidentState.CLOSED.value)
        .order_by(IncidentRow.priority, IncidentRow.created_at, IncidentRow.id)
    )


def _unique_agencies(agencies: Iterable[str]) -> tuple[str, ...]:
    seen: list[str] = []
    for agency in agencies:
        if agency not in AGENCIES:
            raise IncidentError(f"unknown agency {agency!r}")
        if agency not in seen:
            seen.append(agency)
    return tuple(seen)


def _check_changes(changes: Mapping[str, Any]) -> None:
    unknown = sorted(set(changes) - EDITABLE)
    if unknown:
        raise IncidentError(f"these fields cannot be edited: {', '.join(map(str, unknown))}")
    for name, value in changes.items():
        if name in _TEXT:
            ok = isinstance(value, str)
        elif name == "kelurahan":
            ok = value is None or isinstance(value, str)
        elif name in ("latitude", "longitude"):
            ok = value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))
        elif name == "victims":
            ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        else:  # priority
            ok = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 4
        if not ok:
            raise IncidentError(f"invalid value for {name}: {value!r}")
    if changes.get("kecamatan", "x") == "" or changes.get("description", "x") == "":
        raise IncidentError("kecamatan and description cannot be empty")


def _new_task(incident_id: int, agency: str, now: datetime, deadline: datetime) -> AgencyTaskRow:
    return AgencyTaskRow(
        incident_id=incident_id,
        agency=agency,
        state=TaskState.DISPATCHED.value,
        dispatched_at=now,
        ack_deadline=deadline,
        note="",
    )


def _event(
    session: AsyncSession,
    incident_id: int,
    at: datetime,
    by: str,
    kind: str,
    *,
    agency: str | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    session.add(
        IncidentEventRow(
            incident_id=incident_id,
            at=at,
            by=by,
            kind=kind,
            agency=agency,
            from_state=from_state,
            to_state=to_state,
            data=data or {},
        )
    )


def _touch(row: IncidentRow, now: datetime) -> None:
    row.version += 1
    row.updated_at = now


async def _row(session: AsyncSession, incident_id: int) -> IncidentRow:
    row = await session.get(IncidentRow, incident_id)
    if row is None:
        raise IncidentNotFound(f"no incident {incident_id}")
    return row


async def _task_row(session: AsyncSession, incident_id: int, agency: str) -> AgencyTaskRow | None:
    return await session.scalar(
        select(AgencyTaskRow).where(AgencyTaskRow.incident_id == incident_id, AgencyTaskRow.agency == agency)
    )


async def _load(session: AsyncSession, row: IncidentRow) -> Incident:
    [incident] = await _load_many(session, [row])
    return incident


async def _load_many(session: AsyncSession, rows: Sequence[IncidentRow]) -> list[Incident]:
    if not rows:
        return []
    tasks: dict[int, list[AgencyTask]] = {row.id: [] for row in rows}
    task_rows = await session.scalars(
        select(AgencyTaskRow).where(AgencyTaskRow.incident_id.in_(list(tasks))).order_by(AgencyTaskRow.id)
    )
    for t in task_rows:
        tasks[t.incident_id].append(
            AgencyTask(
                incident_id=t.incident_id,
                agency=t.agency,
                state=TaskState(t.state),
                dispatched_at=t.dispatched_at,
                ack_deadline=t.ack_deadline,
                acknowledged_at=t.acknowledged_at,
                resolved_at=t.resolved_at,
                escalated_at=t.escalated_at,
                note=t.note,
            )
        )
    return [_incident(row, tuple(tasks[row.id])) for row in rows]


def _incident(row: IncidentRow, tasks: tuple[AgencyTask, ...]) -> Incident:
    return Incident(
        id=row.id,
        number=row.number,
        state=IncidentState(row.state),
        type_code=row.type_code,
        priority=row.priority,
        kecamatan=row.kecamatan,
        kelurahan=row.kelurahan,
        location_text=row.location_text,
        latitude=row.latitude,
        longitude=row.longitude,
        description=row.description,
        victims=row.victims,
        caller_name=row.caller_name,
        callback_number=row.callback_number,
        notes=row.notes,
        call_id=row.call_id,
        source=row.source,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
        tasks=tasks,
    )
