"""``/api/v1``: the room's state and the seat and call verbs the console pages use.

Every request body is JSON; every refusal is ``{"error": code, "message": Indonesian, "message_en": ...}``
with a 4xx status. Everything goes through the desk (:mod:`padang112.desk`): state changes are the room's
commands, stored and pushed live like any other event, and whether one is allowed is the room's decision; this
module only maps the refusal's code to its HTTP status.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from padang112.accounts.users import UserRecord
from padang112.controller import STOPPING, SUSPENDED
from padang112.desk import Desk, Refused
from padang112.domain import commands as c
from padang112.domain.events import CallAnnotated
from padang112.domain.prank import DISPOSITIONS, PRANK_DISPOSITIONS
from padang112.views import WAITING_ROWS
from padang112.web import auth
from padang112.web.hardening import parse_json
from padang112.web.keys import DESK, REPOSITORY
from padang112.web.surge import SURGE

PAUSE_REASONS = ("break", "training", "technical")

ERRORS = {
    "bad_json": ("Isi permintaan bukan JSON yang sah.", "The request body is not valid JSON."),
    "no_seat": ("Kursi tidak dikenal.", "Unknown seat."),
    "seat_taken": ("Kursi ini sedang dipakai petugas lain.", "Another call taker is signed in to this seat."),
    "not_signed_in": ("Anda belum masuk ke kursi mana pun.", "You are not signed in to a seat."),
    "bad_reason": ("Alasan jeda tidak dikenal.", "Unknown pause reason."),
    "busy": ("Kursi sedang menerima panggilan; coba lagi setelah selesai.", "The seat is on a call; try after it."),
    "no_call": ("Panggilan tidak dikenal.", "Unknown call."),
    "bad_disposition": ("Jenis panggilan tidak dikenal.", "Unknown disposition."),
    "not_your_call": ("Panggilan ini bukan milik kursi Anda.", "This call was not handled at your seat."),
    STOPPING: ("Pusat kendali sedang berhenti; coba lagi sebentar.", "The controller is stopping; try again shortly."),
    SUSPENDED: (
        "Basis data tidak terjangkau; panggilan dijawab antrean cadangan. Coba lagi sebentar.",
        "The database is unreachable; the fallback queue answers calls. Try again shortly.",
    ),
}
STATUS = {"no_seat": 404, "seat_taken": 409, "busy": 409, STOPPING: 503, SUSPENDED: 503}  # seat commands' refusals


HTTP_ERRORS: dict[int, type[web.HTTPException]] = {
    400: web.HTTPBadRequest,
    403: web.HTTPForbidden,
    404: web.HTTPNotFound,
    409: web.HTTPConflict,
    429: web.HTTPTooManyRequests,
    503: web.HTTPServiceUnavailable,
}


def refuse(status: int, code: str) -> web.HTTPException:
    return json_error(status, code, *ERRORS[code])


def json_error(status: int, code: str, text_id: str, text_en: str) -> web.HTTPException:
    """The API's one error shape: ``{"error": code, "message": Indonesian, "message_en": English}``."""
    body = json.dumps({"error": code, "message": text_id, "message_en": text_en})
    return HTTP_ERRORS[status](text=body, content_type="application/json")


async def body_of(request: web.Request) -> dict[str, Any]:
    try:
        data = parse_json(await request.text())
    except (ValueError, UnicodeDecodeError):
        raise refuse(400, "bad_json") from None
    if not isinstance(data, dict):
        raise refuse(400, "bad_json")
    return data


def _user(request: web.Request) -> UserRecord:
    user = auth.current_user(request)
    assert user is not None
    return user


def _desk(request: web.Request) -> Desk:
    return request.app[DESK]


def _own_seat(request: web.Request) -> str:
    seat = _desk(request).seat_of(_user(request).username)
    if seat is None:
        raise refuse(409, "not_signed_in")
    return seat


async def _seat_command(request: web.Request, command: c.Command, seat_id: str) -> web.Response:
    outcome = await _desk(request).do(command)
    if isinstance(outcome, Refused):
        raise refuse(STATUS[outcome.code], outcome.code)
    return web.json_response(_desk(request).seat(seat_id))


@auth.require("supervisor", "admin")
async def room(request: web.Request) -> web.Response:
    """The live room: the first callers in line (``?waiting=N`` rows, default 10, at most 200) with how many wait
    and the oldest wait, calls ringing or connected, every seat, and the surge figures and trend (``surge``)."""
    raw = request.query.get("waiting", "")
    rows = int(raw) if raw.isdigit() and len(raw) < 4 else WAITING_ROWS
    now = datetime.now(UTC)
    view = _desk(request).room(now, min(rows, 200))
    meter = request.app.get(SURGE)
    return web.json_response({**view, "surge": meter.view(now) if meter else None})


@auth.require()
async def me(request: web.Request) -> web.Response:
    """The signed-in user, their seat and its current call (a reloaded page restores the call from this)."""
    user = _user(request)
    desk = _desk(request)
    seat_id = desk.seat_of(user.username)
    now = datetime.now(UTC)
    return web.json_response(
        {
            "user": {
                "username": user.username,
                "display_name": user.display_name,
                "role": user.role,
                "agency": user.agency,
            },
            "seat": desk.seat(seat_id, now) if seat_id else None,
            "call": desk.call_at(seat_id, now) if seat_id else None,
            "seats": desk.seat_ids() if user.role == "call_taker" else [],
        }
    )


@auth.require("call_taker")
async def seat_sign_in(request: web.Request) -> web.Response:
    """Take a seat (leaving any other); it becomes ready once its softphone is registered."""
    data = await body_of(request)
    seat = str(data.get("seat", ""))
    return await _seat_command(request, c.SeatSignIn(seat, _user(request).username), seat)


async def _seat_verb(request: web.Request, seat_id: str, verb: str, reason: str | None) -> web.Response:
    if verb == "pause":
        if reason not in PAUSE_REASONS:  # the request's own validity; an unknown seat is still a 404 first
            raise refuse(404, "no_seat") if _desk(request).seat(seat_id) is None else refuse(400, "bad_reason")
        return await _seat_command(request, c.SeatPause(seat_id, reason), seat_id)
    if verb == "ready":
        return await _seat_command(request, c.SeatReady(seat_id), seat_id)
    return await _seat_command(request, c.SeatSignOut(seat_id), seat_id)


@auth.require("call_taker")
async def own_seat_verb(request: web.Request) -> web.Response:
    """Ready, pause (with a reason) or leave the caller's own seat."""
    data = await body_of(request) if request.can_read_body else {}
    return await _seat_verb(request, _own_seat(request), request.match_info["verb"], data.get("reason"))


@auth.require("supervisor", "admin")
async def any_seat_verb(request: web.Request) -> web.Response:
    """Pause or sign out any seat (supervisor)."""
    data = await body_of(request) if request.can_read_body else {}
    return await _seat_verb(request, request.match_info["seat"], request.match_info["verb"], data.get("reason"))


@auth.require("call_taker", "supervisor", "admin")
async def disposition(request: web.Request) -> web.Response:
    """Record what a call was (emergency, information, prank, silent, wrong number, test)."""
    data = await body_of(request)
    user = _user(request)
    value = data.get("disposition")
    if value not in DISPOSITIONS:
        raise refuse(400, "bad_disposition")
    call_id = request.match_info["call_id"]
    desk = _desk(request)
    stored = await request.app[REPOSITORY].get_call(call_id)
    live = desk.facts(call_id)
    seat = (live.seat if live else None) or (stored.seat if stored else None)
    if stored is None and live is None:
        raise refuse(404, "no_call")
    if user.role == "call_taker" and (seat is None or seat != desk.seat_of(user.username)):
        raise refuse(403, "not_your_call")  # a call taker with no seat, or another seat, has no say on it
    event = CallAnnotated(call_id, datetime.now(UTC), "disposition", user.username, {"disposition": value})
    number = (live.caller_number if live else None) or (stored.caller_number if stored else None)
    outcome = await desk.dispose(event, number, value in PRANK_DISPOSITIONS)
    if isinstance(outcome, Refused):
        raise refuse(STATUS[outcome.code], outcome.code)
    return web.json_response({"call_id": call_id, "disposition": value})


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/room", room)
    app.router.add_get("/api/v1/me", me)
    app.router.add_post("/api/v1/seat/sign-in", seat_sign_in)
    app.router.add_post(r"/api/v1/seat/{verb:ready|pause|sign-out}", own_seat_verb)
    # only the call taker at the seat says it is ready; a supervisor may pause it or sign it out
    app.router.add_post(r"/api/v1/seats/{seat}/{verb:pause|sign-out}", any_seat_verb)
    app.router.add_post("/api/v1/calls/{call_id}/disposition", disposition)
