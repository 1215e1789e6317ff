"""Warm hand-off from the call panel: bring an agency's duty phone into the call, then leave it to them.

``POST /api/v1/calls/{id}/handoff`` dials the agency's duty phone (only agency duty phones can be dialled: the
controller's dial policy); once it answers, caller, call taker and agency talk together, and the agency's
operators get a ``handoff`` message with the call's incident(s) so their screen shows the record.
``POST /api/v1/calls/{id}/leave`` lets the call taker leave the call with the agency.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from padang112.controller import STOPPING, SUSPENDED
from padang112.desk import Outcome, Refused
from padang112.domain import commands as c
from padang112.domain.events import CallAnnotated, DomainEvent
from padang112.incidents.model import AGENCIES, AGENCY_NAMES
from padang112.web import auth
from padang112.web.api import ERRORS as API_ERRORS
from padang112.web.api import body_of, json_error
from padang112.web.keys import DESK, INCIDENTS
from padang112.web.live import HUB

ERRORS = {
    "bad_agency": (400, "OPD tidak dikenal.", "Unknown agency."),
    "no_call": (404, "Panggilan tidak dikenal atau sudah selesai.", "Unknown or finished call."),
    "not_your_call": (403, "Panggilan ini bukan milik kursi Anda.", "This call is not at your seat."),
    "not_connected": (409, "Panggilan belum terhubung.", "The call is not connected."),
    "agency_busy": (409, "Sudah ada OPD yang sedang disambungkan.", "An agency is already being connected."),
    STOPPING: (503, *API_ERRORS[STOPPING]),
    SUSPENDED: (503, *API_ERRORS[SUSPENDED]),
    "agency_not_joined": (
        409,
        "OPD belum bergabung; Anda belum dapat meninggalkan panggilan.",
        "The agency has not joined yet; you cannot leave the call.",
    ),
}


def _error(code: str) -> web.HTTPException:
    return json_error(ERRORS[code][0], code, *ERRORS[code][1:])


def _username(request: web.Request) -> str:
    user = auth.current_user(request)
    assert user is not None
    return user.username


def _refused(outcome: Outcome) -> None:
    if isinstance(outcome, Refused):
        raise _error(outcome.code)


@auth.require("call_taker")
async def handoff(request: web.Request) -> web.Response:
    """Conference an agency's duty phone into the caller's call (step 1 of a warm hand-off)."""
    data = await body_of(request)
    agency = data.get("agency")
    if agency not in AGENCIES:
        raise _error("bad_agency")
    call_id = request.match_info["call_id"]
    _refused(await request.app[DESK].do(c.ConferenceAgency(call_id, str(agency), _username(request))))
    return web.json_response({"call_id": call_id, "agency": agency, "stage": "dialing"}, status=202)


@auth.require("call_taker")
async def leave(request: web.Request) -> web.Response:
    """Leave the call to the agency that joined it (step 2 of a warm hand-off); the seat goes to wrap-up."""
    call_id = request.match_info["call_id"]
    desk = request.app[DESK]
    _refused(await desk.do(c.SeatLeaves(call_id, _username(request))))
    call = desk.call(call_id)
    return web.json_response({"call_id": call_id, "state": call["state"] if call else "ended"})


def _notify_agency(app: web.Application, event: DomainEvent) -> None:
    """When an agency joins a call, its operators get the call and its incident record(s)."""
    if not (isinstance(event, CallAnnotated) and event.kind == "handoff" and event.data.get("stage") == "joined"):
        return

    async def send() -> None:
        agency = event.data.get("agency")
        call = app[DESK].facts(event.call_id)
        incidents = await app[INCIDENTS].for_call_view(event.call_id)
        message = {
            "type": "handoff",
            "call_id": event.call_id,
            "agency": agency,
            "agency_name": AGENCY_NAMES.get(str(agency), agency),
            "caller_number": call.caller_number if call else "",
            "incidents": incidents,
        }
        app[HUB].notice(message)

    app[HUB].spawn(send())


async def _subscribe(app: web.Application) -> AsyncIterator[None]:
    unsubscribe = app[DESK].subscribe(lambda event: _notify_agency(app, event))
    try:
        yield
    finally:
        unsubscribe()


def setup(app: web.Application) -> None:
    app.cleanup_ctx.append(_subscribe)
    app.router.add_post("/api/v1/calls/{call_id}/handoff", handoff)
    app.router.add_post("/api/v1/calls/{call_id}/leave", leave)
