"""``/api/v1``: the room's state and the seat and call verbs the console pages use.

Every request body is JSON; every refusal is ``{"error": code, "message": Indonesian, "message_en": ...}``
with a 4xx status. State changes go through the controller's room, so they are stored and pushed live
like any other event.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from padang112.accounts.users import UserRecord
from padang112.domain import commands as c
from padang112.domain.events import CallAnnotated
from padang112.domain.prank import PRANK_DISPOSITIONS
from padang112.domain.seats import SeatState
from padang112.web import auth
from padang112.web.hardening import parse_json
from padang112.web.live import HUB
from padang112.web.surge import SURGE
from padang112.web.views import WAITING_ROWS, call_view, room_view, seat_view

PAUSE_REASONS = ("break", "training", "technical")
DISPOSITIONS = ("emergency", "information", "prank", "silent", "wrong_number", "test")

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
}


HTTP_ERRORS: dict[int, type[web.HTTPException]] = {
    400: web.HTTPBadRequest,
    403: web.HTTPForbidden,
    404: web.HTTPNotFound,
    409: web.HTTPConflict,
    429: web.HTTPTooManyRequests,
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


def _controller(request: web.Request):
    return request.app[HUB].controller


def _own_seat(request: web.Request) -> str:
    seat = request.app[HUB].seat_of(_user(request))
    if seat is None:
        raise refuse(409, "not_signed_in")
    return seat


@auth.require("supervisor", "admin")
async def room(request: web.Request) -> web.Response:
    """The live room: the first callers in line (``?waiting=N`` rows, default 10, at most 200) with how many wait
    and the oldest wait, calls ringing or connected, every seat, and the surge figures and trend (``surge``)."""
    raw = request.query.get("waiting", "")
    rows = int(raw) if raw.isdigit() and len(raw) < 4 else WAITING_ROWS
    now = datetime.now(UTC)
    view = room_view(_controller(request).room, now, min(rows, 200))
    meter = request.app.get(SURGE)
    return web.json_response({**view, "surge": meter.view(now) if meter else None})


@auth.require()
async def me(request: web.Request) -> web.Response:
    """The signed-in user, their seat and its current call (a reloaded page restores the call from this)."""
    user = _user(request)
    controller = _controller(request)
    seat_id = request.app[HUB].seat_of(user)
    now = datetime.now(UTC)
    seat = controller.room.seats.get(seat_id or "")
    call = controller.room.calls.get(seat.call_id or "") if seat else None
    return web.json_response(
        {
            "user": {
                "username": user.username,
                "display_name": user.display_name,
                "role": user.role,
                "agency": user.agency,
            },
            "seat": seat_view(seat, now) if seat else None,
            "call": call_view(call, now) if call else None,
            "seats": sorted(controller.room.seats) if user.role == "call_taker" else [],
        }
    )


@auth.require("call_taker")
async def seat_sign_in(request: web.Request) -> web.Response:
    """Take a seat (leaving any other); it becomes ready once its softphone is registered."""
    data = await body_of(request)
    user = _user(request)
    room_ = _controller(request).room
    seat = room_.seats.get(str(data.get("seat", "")))
    if seat is None:
        raise refuse(404, "no_seat")
    if seat.user not in (None, user.username):
        raise refuse(409, "seat_taken")
    current = request.app[HUB].seat_of(user)
    if current and current != seat.id:
        _controller(request).command(c.SeatSignOut(current))
    _controller(request).command(c.SeatSignIn(seat.id, user.username))
    return web.json_response(seat_view(seat, datetime.now(UTC)))


def _seat_verb(request: web.Request, seat_id: str, verb: str, reason: str | None) -> web.Response:
    room_ = _controller(request).room
    seat = room_.seats.get(seat_id)
    if seat is None:
        raise refuse(404, "no_seat")
    if verb == "pause":
        if reason not in PAUSE_REASONS:
            raise refuse(400, "bad_reason")
        if seat.state == SeatState.BUSY:
            raise refuse(409, "busy")
        _controller(request).command(c.SeatPause(seat_id, reason))
    elif verb == "ready":
        _controller(request).command(c.SeatReady(seat_id))
    else:
        _controller(request).command(c.SeatSignOut(seat_id))
    return web.json_response(seat_view(seat, datetime.now(UTC)))


@auth.require("call_taker")
async def own_seat_verb(request: web.Request) -> web.Response:
    """Ready, pause (with a reason) or leave the caller's own seat."""
    data = await body_of(request) if request.can_read_body else {}
    return _seat_verb(request, _own_seat(request), request.match_info["verb"], data.get("reason"))


@auth.require("supervisor", "admin")
async def any_seat_verb(request: web.Request) -> web.Response:
    """Pause or sign out any seat (supervisor)."""
    data = await body_of(request) if request.can_read_body else {}
    return _seat_verb(request, request.match_info["seat"], request.match_info["verb"], data.get("reason"))


@auth.require("call_taker", "supervisor", "admin")
async def disposition(request: web.Request) -> web.Response:
    """Record what a call was (emergency, information, prank, silent, wrong number, test)."""
    data = await body_of(request)
    user = _user(request)
    value = data.get("disposition")
    if value not in DISPOSITIONS:
        raise refuse(400, "bad_disposition")
    call_id = request.match_info["call_id"]
    stored = await request.app[HUB].repo.get_call(call_id)
    live = _controller(request).room.calls.get(call_id)
    seat = (live.seat if live else None) or (stored.seat if stored else None)
    if stored is None and live is None:
        raise refuse(404, "no_call")
    if user.role == "call_taker" and (seat is None or seat != request.app[HUB].seat_of(user)):
        raise refuse(403, "not_your_call")  # a call taker with no seat, or another seat, has no say on it
    event = CallAnnotated(call_id, datetime.now(UTC), "disposition", user.username, {"disposition": value})
    _controller(request).record([event])
    number = (live.caller_number if live else None) or (stored.caller_number if stored else None)
    if number and value in PRANK_DISPOSITIONS:
        _controller(request).pranks.mark(number, event.at, call_id)
    elif number:
        _controller(request).pranks.unmark(number, call_id)
    return web.json_response({"call_id": call_id, "disposition": value})


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/room", room)
    app.router.add_get("/api/v1/me", me)
    app.router.add_post("/api/v1/seat/sign-in", seat_sign_in)
    app.router.add_post(r"/api/v1/seat/{verb:ready|pause|sign-out}", own_seat_verb)
    # only the call taker at the seat says it is ready; a supervisor may pause it or sign it out
    app.router.add_post(r"/api/v1/seats/{seat}/{verb:pause|sign-out}", any_seat_verb)
    app.router.add_post("/api/v1/calls/{call_id}/disposition", disposition)
