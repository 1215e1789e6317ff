"""Incident use cases: call the store, then push the change to the consoles.

Each change publishes ``{"type": "incident", "incident": incident_view(...), "change": kind}``; an agency that
missed its acknowledge deadline publishes ``{"type": "escalation", "incident": ..., "agency": ..., ...}``.
The methods return the same JSON-safe views (what the web layer sends back). Publishing happens after the
commit and never undoes it: a failing ``publish`` is logged, the change stands.

The draft handed to :meth:`IncidentService.create` is already validated (``validation.validate``); the
acknowledge deadline per priority is injected (``routing.ack_deadline_s``), so this module imports neither.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from padang112.incidents.model import AGENCY_NAMES, AgencyTask, Incident, IncidentDraft, IncidentState, TaskState
from padang112.incidents.store import SYSTEM, IncidentEvent, IncidentStore
from padang112.storage.paging import Page, Window
from padang112.wib import iso_exact as iso_wib

log = logging.getLogger(__name__)

Publish = Callable[[dict[str, Any]], None]


def task_view(task: AgencyTask) -> dict[str, Any]:
    return {
        "agency": task.agency,
        "agency_name": AGENCY_NAMES.get(task.agency, task.agency),
        "state": task.state.value,
        "dispatched_at": iso_wib(task.dispatched_at),
        "ack_deadline": iso_wib(task.ack_deadline),
        "acknowledged_at": iso_wib(task.acknowledged_at),
        "resolved_at": iso_wib(task.resolved_at),
        "escalated_at": iso_wib(task.escalated_at),
        "note": task.note,
    }


def incident_view(incident: Incident) -> dict[str, Any]:
    """The incident as a JSON-safe dict: enum values as strings, times in WIB, ``tasks`` a list."""
    return {
        "id": incident.id,
        "number": incident.number,
        "state": incident.state.value,
        "type_code": incident.type_code,
        "priority": incident.priority,
        "kecamatan": incident.kecamatan,
        "kelurahan": incident.kelurahan,
        "location_text": incident.location_text,
        "latitude": incident.latitude,
        "longitude": incident.longitude,
        "description": incident.description,
        "victims": incident.victims,
        "caller_name": incident.caller_name,
        "callback_number": incident.callback_number,
        "notes": incident.notes,
        "call_id": incident.call_id,
        "source": incident.source,
        "created_by": incident.created_by,
        "created_at": iso_wib(incident.created_at),
        "updated_at": iso_wib(incident.updated_at),
        "version": incident.version,
        "tasks": [task_view(task) for task in incident.tasks],
    }


def event_view(event: IncidentEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": iso_wib(event.at),
        "by": event.by,
        "kind": event.kind,
        "agency": event.agency,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "data": event.data,
    }


class IncidentService:
    """The use cases the web layer calls; ``deadline_s(priority)`` gives an agency's seconds to acknowledge."""

    def __init__(self, store: IncidentStore, publish: Publish, deadline_s: Callable[[int], int]) -> None:
        self.store = store
        self._publish = publish
        self._deadline_s = deadline_s

    # --- changes (each one published) ---------------------------------------------------------------------

    async def create(self, draft: IncidentDraft, by: str) -> dict[str, Any]:
        incident = await self.store.create(draft, by, self._deadline_s)
        return self._changed(incident, "created")

    async def update(
        self, incident_id: int, changes: Mapping[str, Any], expected_version: int, by: str
    ) -> dict[str, Any]:
        """Raises ``ConflictError`` (with ``current``) when the incident changed since ``expected_version``."""
        incident = await self.store.update(incident_id, changes, expected_version, by)
        if incident.version == expected_version:  # nothing actually changed: nothing to tell anyone
            return incident_view(incident)
        return self._changed(incident, "edited")

    async def add_agency(self, incident_id: int, agency: str, by: str) -> dict[str, Any]:
        incident = await self.store.add_agency(incident_id, agency, by, self._deadline_s)
        return self._changed(incident, "task_added")

    async def set_task_state(
        self, incident_id: int, agency: str, to: TaskState | str, by: str, note: str = "", reason: str | None = None
    ) -> dict[str, Any]:
        """Change ``task_state``, ``task_cancelled``, or ``closed`` when this move closed the incident (a closed
        incident has no task left to move, so a move that succeeds and leaves it closed is the one that closed it).
        """
        incident = await self.store.set_task_state(incident_id, agency, to, by, note=note, reason=reason)
        if incident.state is IncidentState.CLOSED:
            return self._changed(incident, "closed")
        kind = "task_cancelled" if TaskState(to) is TaskState.CANCELLED else "task_state"
        return self._changed(incident, kind)

    async def escalate_overdue(self, now: datetime) -> list[tuple[Incident, AgencyTask]]:
        """Mark every task overdue at ``now`` as escalated and publish an ``escalation`` for each (once per task)."""
        escalated: list[tuple[Incident, AgencyTask]] = []
        for incident, overdue_task in await self.store.overdue(now):
            marked = await self.store.mark_escalated(incident.id, overdue_task.agency)
            if marked is None:  # acknowledged (or escalated by someone else) meanwhile
                continue
            task = next(t for t in marked.tasks if t.agency == overdue_task.agency)
            escalated.append((marked, task))
            self._send(
                {
                    "type": "escalation",
                    "incident": incident_view(marked),
                    "incident_id": marked.id,
                    "number": marked.number,
                    "agency": task.agency,
                    "agency_name": AGENCY_NAMES.get(task.agency, task.agency),
                    "priority": marked.priority,
                    "ack_deadline": iso_wib(task.ack_deadline),
                }
            )
        return escalated

    async def record_duty_call(self, incident_id: int, agency: str, attempt: int, outcome: str) -> None:
        """An escalation call to the agency's duty phone that did not get the key 1 (stored, then published)."""
        data = {"attempt": attempt, "outcome": outcome}
        await self.store.note(incident_id, agency, "duty_call", SYSTEM, data)
        log.info("duty call to %s, attempt %d: %s", agency, attempt, outcome, extra={"incident_id": incident_id})
        self._send(
            {
                "type": "duty_call",
                "incident_id": incident_id,
                "agency": agency,
                "agency_name": AGENCY_NAMES.get(agency, agency),
                **data,
            }
        )

    async def escalated_waiting(self) -> set[tuple[int, str]]:
        return set(await self.store.escalated_waiting())

    # --- reads --------------------------------------------------------------------------------------------

    async def get(self, incident_id: int) -> Incident | None:
        return await self.store.get(incident_id)

    async def view(self, incident_id: int) -> dict[str, Any] | None:
        incident = await self.store.get(incident_id)
        return None if incident is None else incident_view(incident)

    async def events_view(self, incident_id: int) -> list[dict[str, Any]]:
        return [event_view(event) for event in await self.store.events(incident_id)]

    async def queue_view(self, agency: str) -> list[dict[str, Any]]:
        """The agency's open incidents, most urgent first."""
        return [incident_view(i) for i in await self.store.open_for_agency(agency)]

    async def queue_page(self, agency: str, window: Window) -> Page[dict[str, Any]]:
        """One page of the agency's open incidents, most urgent first, with the total."""
        return (await self.store.open_for_agency_page(agency, window)).map(incident_view)

    async def open_view(self) -> list[dict[str, Any]]:
        return [incident_view(i) for i in await self.store.open_incidents()]

    async def open_page(self, window: Window) -> Page[dict[str, Any]]:
        return (await self.store.open_incidents_page(window)).map(incident_view)

    async def for_call_view(self, call_id: str) -> list[dict[str, Any]]:
        return [incident_view(i) for i in await self.store.for_call(call_id)]

    @staticmethod
    def to_view(incident: Incident) -> dict[str, Any]:
        return incident_view(incident)

    # --- publishing ---------------------------------------------------------------------------------------

    def _changed(self, incident: Incident, change: str) -> dict[str, Any]:
        tasks = ", ".join(f"{task.agency} {task.state.value}" for task in incident.tasks)
        log.info(
            "incident %s: %s (%s)",
            incident.number,
            change,
            tasks or "no agency",
            extra={"incident_id": incident.id, "call_id": incident.call_id},
        )
        view = incident_view(incident)
        self._send({"type": "incident", "incident": view, "change": change})
        return view

    def _send(self, message: dict[str, Any]) -> None:
        try:
            self._publish(message)
        except Exception:  # the change is committed; a console missing it reloads on its next message
            log.exception("publishing %s failed", message.get("type"))
