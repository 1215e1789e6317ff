"""``/api/v1/incidents``: the call taker's incident form and the agencies' queues (the escalation watch: runtime.py).

Incidents are created from the call panel (pre-filled with the call's number, carrier and id) or by hand;
each agency's operators work their own queue. Every change is stored with who/when by the incident store
and pushed live: supervisors and admins see all incidents, an agency operator those with a task for their
agency, a call taker the incidents they created.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from aiohttp import web

from padang112.accounts.users import UserRecord
from padang112.incidents import geography
from padang112.incidents.catalog import load_catalog
from padang112.incidents.model import AGENCIES, AGENCY_NAMES, IncidentDraft, TaskState
from padang112.incidents.store import ConflictError, IncidentError
from padang112.incidents.validation import ValidationError, validate
from padang112.storage.paging import Window
from padang112.web import auth
from padang112.web.api import body_of
from padang112.web.audience import sees_incident
from padang112.web.keys import INCIDENTS, INFO
from padang112.web.paging import window_of

log = logging.getLogger(__name__)

PAGE_SIZE = 10  # incidents on one screen; the total is always shown


def _user(request: web.Request) -> UserRecord:
    user = auth.current_user(request)
    assert user is not None
    return user


def _invalid(errors: dict[str, tuple[str, str]]) -> web.HTTPBadRequest:
    body = {
        "error": "invalid",
        "message": "Periksa isian yang ditandai.",
        "message_en": "Check the marked fields.",
        "fields": {name: {"message": text_id, "message_en": text_en} for name, (text_id, text_en) in errors.items()},
    }
    return web.HTTPBadRequest(text=web.json_response(body).text, content_type="application/json")


def _error(status: type[web.HTTPException], code: str, text_id: str, text_en: str, **extra: Any) -> web.HTTPException:
    body = {"error": code, "message": text_id, "message_en": text_en, **extra}
    return status(text=web.json_response(body).text, content_type="application/json")


@auth.require()
async def catalog(request: web.Request) -> web.Response:
    """The incident types with their default agencies, Padang's kecamatan and kelurahan, the agencies."""
    cat = load_catalog()
    return web.json_response(
        {
            "types": [
                {
                    "code": t.code,
                    "name_id": t.name_id,
                    "name_en": t.name_en,
                    "default_priority": t.default_priority,
                    "default_agencies": list(t.default_agencies),
                    "agencies_if_victims": list(t.agencies_if_victims),
                    "handoff": t.handoff,
                }
                for t in cat.all()
            ],
            "kecamatan": [
                {"name": k, "kelurahan": list(geography.kelurahan_of(k))} for k in geography.kecamatan_names()
            ],
            "agencies": [{"code": a, "name": AGENCY_NAMES[a]} for a in AGENCIES],
        }
    )


def _draft(data: dict[str, Any]) -> IncidentDraft:
    def num(name: str) -> float | None:
        value = data.get(name)
        if value in (None, ""):
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise _invalid({name: ("Harus berupa angka.", "Must be a number.")}) from None

    def integer(name: str, default: int) -> int:
        value = data.get(name, default)
        try:
            return int(value)
        except (TypeError, ValueError):
            raise _invalid({name: ("Harus berupa bilangan bulat.", "Must be a whole number.")}) from None

    def text(name: str) -> str:  # a JSON null is an empty field, not the text "None"
        value = data.get(name)
        return "" if value is None else str(value)

    agencies = data.get("agencies") or []
    if not isinstance(agencies, list):
        raise _invalid({"agencies": ("Daftar OPD tidak sah.", "Invalid agency list.")})
    return IncidentDraft(
        type_code=text("type_code"),
        priority=integer("priority", 0),
        kecamatan=text("kecamatan"),
        description=text("description"),
        kelurahan=(str(data["kelurahan"]) if data.get("kelurahan") else None),
        location_text=text("location_text"),
        latitude=num("latitude"),
        longitude=num("longitude"),
        victims=integer("victims", 0),
        caller_name=text("caller_name"),
        callback_number=text("callback_number"),
        notes=text("notes"),
        agencies=tuple(str(a) for a in agencies),
        call_id=(str(data["call_id"]) if data.get("call_id") else None),
        source=str(data.get("source", "call")),
    )


@auth.require("call_taker", "supervisor", "admin")
async def create(request: web.Request) -> web.Response:
    """Create an incident and dispatch it to its agencies ("Kirim ke OPD")."""
    try:
        draft = validate(_draft(await body_of(request)), load_catalog())
    except ValidationError as exc:
        raise _invalid(exc.errors) from None
    incident = await request.app[INCIDENTS].create(draft, _user(request).username)
    return web.json_response(incident, status=201)


async def _visible_incident(request: web.Request) -> dict[str, Any]:
    try:
        incident_id = int(request.match_info["incident_id"])
    except ValueError:
        raise _error(web.HTTPNotFound, "no_incident", "Kejadian tidak dikenal.", "Unknown incident.") from None
    view = await request.app[INCIDENTS].view(incident_id)
    if view is None or not sees_incident(_user(request), view):
        raise _error(web.HTTPNotFound, "no_incident", "Kejadian tidak dikenal.", "Unknown incident.")
    return view


@auth.require()
async def get_incident(request: web.Request) -> web.Response:
    """One incident with its agency tasks, its audit trail and its requests for more information."""
    view = await _visible_incident(request)
    user = _user(request)
    view["events"] = [
        e
        for e in await request.app[INCIDENTS].events_view(view["id"])  # another agency's
        if user.role != "agency" or not e["kind"].startswith("info_") or e["agency"] == user.agency
    ]
    view["info_requests"] = await _info_threads(request, view)
    return web.json_response(view)


async def _info_threads(request: web.Request, incident: dict[str, Any]) -> list[dict[str, Any]]:
    """The incident's requests for more information the user may read (an agency operator: their agency's)."""
    user = _user(request)
    desk = request.app.get(INFO)
    if desk is None:  # an application without the desk (some unit tests mount only the incident routes)
        return []
    return await desk.incident_threads_view(incident["id"], user.agency if user.role == "agency" else None)


@auth.require("call_taker", "supervisor", "admin")
async def update(request: web.Request) -> web.Response:
    """Edit an incident; ``version`` must be the one the editor saw, else 409 with the current incident."""
    view = await _visible_incident(request)
    data = await body_of(request)
    changes = data.get("changes")
    if not isinstance(changes, dict) or not isinstance(data.get("version"), int):
        raise _error(
            web.HTTPBadRequest, "bad_request", "Perlu 'changes' dan 'version'.", "'changes' and 'version' are required."
        )
    # the edited incident must pass the same checks as the form (Padang's kecamatan, coordinates, lengths)
    merged = {**view, **changes}
    fields: dict[str, Any] = {
        f.name: merged.get(f.name) for f in dataclasses.fields(IncidentDraft) if f.name != "agencies"
    }
    try:
        cleaned = validate(IncidentDraft(**fields), load_catalog())
    except ValidationError as exc:
        raise _invalid(exc.errors) from None
    changes = {name: getattr(cleaned, name, value) for name, value in changes.items()}  # canonical spelling
    try:
        incident = await request.app[INCIDENTS].update(view["id"], changes, data["version"], _user(request).username)
    except ConflictError as exc:
        raise _error(
            web.HTTPConflict,
            "conflict",
            "Kejadian ini baru saja diubah orang lain; periksa perubahannya.",
            "Someone else just changed this incident; check their change.",
            current=request.app[INCIDENTS].to_view(exc.current),
        ) from None
    except (IncidentError, ValidationError) as exc:
        raise _error(web.HTTPBadRequest, "invalid", str(exc), str(exc)) from None
    return web.json_response(incident)


@auth.require("agency", "supervisor", "admin")
async def task_state(request: web.Request) -> web.Response:
    """Move an agency task: acknowledged, en_route, on_scene, resolved or cancelled (with a reason)."""
    user = _user(request)
    view = await _visible_incident(request)
    agency = request.match_info["agency"]
    if user.role == "agency" and user.agency != agency:
        raise _error(
            web.HTTPForbidden, "not_your_agency", "Tugas ini milik OPD lain.", "This task belongs to another agency."
        )
    try:
        target = TaskState(request.match_info["state"])
    except ValueError:
        raise _error(web.HTTPBadRequest, "bad_state", "Status tidak dikenal.", "Unknown state.") from None
    data = await body_of(request) if request.can_read_body else {}
    try:
        incident = await request.app[INCIDENTS].set_task_state(
            view["id"], agency, target, user.username, note=str(data.get("note", ""))[:2000], reason=data.get("reason")
        )
    except IncidentError as exc:
        raise _error(web.HTTPConflict, "illegal_move", str(exc), str(exc)) from None
    return web.json_response(incident)


@auth.require("agency", "supervisor", "admin")
async def agency_queue(request: web.Request) -> web.Response:
    """The open incidents of the operator's agency (``?agency=`` for supervisors), highest priority first."""
    user = _user(request)
    agency = user.agency if user.role == "agency" else request.query.get("agency", "")
    if agency not in AGENCIES:
        raise _error(web.HTTPBadRequest, "bad_agency", "OPD tidak dikenal.", "Unknown agency.")
    page = await request.app[INCIDENTS].queue_page(agency, window_of(request.query, PAGE_SIZE))
    return web.json_response(
        {
            "agency": agency,
            "name": AGENCY_NAMES[agency],
            "incidents": _with_type_names(list(page.items)),
            **page.envelope(),
        }
    )


@auth.require("supervisor", "admin")
async def open_incidents(request: web.Request) -> web.Response:
    """Incidents not yet closed, with their agency tasks (the supervisor's overview): most urgent first, one
    page (``?limit=``, default 10, ``&offset=``) with the total."""
    page = await request.app[INCIDENTS].open_page(window_of(request.query, PAGE_SIZE))
    return web.json_response({"incidents": _with_type_names(list(page.items)), **page.envelope()})


@auth.require("supervisor", "admin", "wall")
async def open_count(request: web.Request) -> web.Response:
    """How many incidents are open: all the video wall shows, and all its kiosk account may read.

    A big screen in a room visitors pass through (or a kiosk cookie taken from it) must not give callers' names,
    numbers and addresses away.
    """
    page = await request.app[INCIDENTS].open_page(Window(limit=1))  # the total, one row read
    return web.json_response({"open": page.total})


def _with_type_names(incidents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    cat = load_catalog()
    for incident in incidents:
        kind = cat.get(incident["type_code"]) if incident["type_code"] in cat else None
        incident["type_name"] = kind.name_id if kind else incident["type_code"]
    return incidents


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/incident-catalog", catalog)
    app.router.add_post("/api/v1/incidents", create)
    app.router.add_get("/api/v1/incidents", open_incidents)
    app.router.add_get("/api/v1/incident-count", open_count)
    app.router.add_get("/api/v1/incidents/{incident_id}", get_incident)
    app.router.add_patch("/api/v1/incidents/{incident_id}", update)
    app.router.add_post(r"/api/v1/incidents/{incident_id}/tasks/{agency}/{state}", task_state)
    app.router.add_get("/api/v1/agency/queue", agency_queue)
