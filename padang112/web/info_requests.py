"""``/api/v1/.../info-requests``: an agency operator asks the 112 room for more information about an incident
("Minta info tambahan"); the call taker who created the incident, or a supervisor, answers.

Both are pushed live over ``/ws`` as ``info_request`` messages: to supervisors and admins, to the call taker who
created the incident, and to the asking agency only (another agency on the same incident does not see the thread).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from padang112.incidents.messages import MessageError, clean_text
from padang112.incidents.store import IncidentNotFound
from padang112.web import auth
from padang112.web.api import body_of
from padang112.web.audience import WATCH_ALL
from padang112.web.incidents import _error, _user, _visible_incident
from padang112.web.keys import INFO

STATUS = {"incident_closed": web.HTTPConflict}


def _text(data: dict[str, Any]) -> str:
    try:
        return clean_text(data.get("text"))
    except MessageError as exc:
        raise _error(web.HTTPBadRequest, exc.code, exc.text_id, exc.text_en) from None


def _no_request() -> web.HTTPException:
    return _error(web.HTTPNotFound, "no_request", "Permintaan info tidak dikenal.", "Unknown information request.")


@auth.require("agency")
async def ask_info(request: web.Request) -> web.Response:
    """Ask the 112 room for more information about an incident of the operator's agency ("Minta info tambahan")."""
    user = _user(request)
    view = await _visible_incident(request)  # 404 for an incident without a task of this agency
    text = _text(await body_of(request))
    try:
        thread = await request.app[INFO].ask(view["id"], user.agency or "", text, user.username, user.role)
    except IncidentNotFound:
        raise _error(web.HTTPNotFound, "no_incident", "Kejadian tidak dikenal.", "Unknown incident.") from None
    except MessageError as exc:
        raise _error(STATUS.get(exc.code, web.HTTPBadRequest), exc.code, exc.text_id, exc.text_en) from None
    return web.json_response(thread, status=201)


@auth.require("call_taker", "supervisor", "admin")
async def answer_info(request: web.Request) -> web.Response:
    """Answer an agency's request for more information (a call taker: on an incident they created)."""
    user = _user(request)
    view = await _visible_incident(request)
    try:
        question_id = int(request.match_info["request_id"])
    except ValueError:
        raise _no_request() from None
    text = _text(await body_of(request))
    try:
        thread = await request.app[INFO].answer(view["id"], question_id, text, user.username, user.role)
    except IncidentNotFound:
        raise _no_request() from None
    return web.json_response(thread, status=201)


@auth.require()
async def info_requests(request: web.Request) -> web.Response:
    """Requests for more information on open incidents, with their answers, oldest first.

    ``?state=open`` (default): the unanswered ones; ``?state=all``: answered ones too. Supervisors and admins see
    all, an agency operator their agency's, a call taker those on the incidents they created.
    """
    user = _user(request)
    state = request.query.get("state", "open")
    if state not in ("open", "all"):
        raise _error(web.HTTPBadRequest, "bad_state", "Status tidak dikenal (open, all).", "Unknown state (open, all).")
    scope: dict[str, Any] = {"unanswered_only": state == "open"}
    if user.role == "agency":
        scope["agency"] = user.agency or ""
    elif user.role not in WATCH_ALL:
        scope["created_by"] = user.username
    return web.json_response({"requests": await request.app[INFO].threads_view(**scope)})


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/info-requests", info_requests)
    app.router.add_post("/api/v1/incidents/{incident_id}/info-requests", ask_info)
    app.router.add_post("/api/v1/incidents/{incident_id}/info-requests/{request_id}/answers", answer_info)
