"""``/api/v1/callbacks``: the callback list (callers who hung up unanswered) and "call back" for a call taker.

Items are made by the controller's events (``telephony/callback_dialer.py``); call takers and supervisors see
the list live (``callback`` messages on ``/ws``), a call taker at a ready seat takes one and Asterisk rings their
phone, then the caller over the carrier the caller used.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from aiohttp import web

from padang112.callbacks.store import CallbackError
from padang112.telephony.callback_dialer import callback_view
from padang112.web import auth
from padang112.web.api import json_error
from padang112.web.keys import CALLBACK_STORE, DESK
from padang112.web.paging import window_of
from padang112.wib import iso_exact as iso_wib

log = logging.getLogger(__name__)

PAGE_SIZE = 10  # rows on screen: the call taker's next action stays in view whatever the surge

ERRORS = {
    "no_callback": (404, "Panggilan balik tidak dikenal.", "Unknown callback."),
    "not_open": (409, "Panggilan balik ini sedang atau sudah ditangani.", "This callback is taken or done."),
    "seat_not_ready": (409, "Kursi Anda harus Siap untuk menelepon balik.", "Your seat must be Ready to call back."),
    "not_signed_in": (409, "Anda belum masuk ke kursi mana pun.", "You are not signed in to a seat."),
    "never_called": (
        403,
        "Nomor ini tidak pernah menelepon 112 lewat operator itu.",
        "This number never called 112 over that carrier.",
    ),
    "bad_number": (403, "Nomor ini tidak dapat ditelepon balik.", "This number cannot be called back."),
    "international_number": (
        403,
        "Nomor luar negeri tidak ditelepon balik (risiko penipuan pulsa). Laporkan ke supervisor bila perlu.",
        "Numbers abroad are not called back (toll-fraud risk). Tell the supervisor if needed.",
    ),
    "premium_number": (
        403,
        "Nomor layanan premium/bebas pulsa (080x) tidak ditelepon balik.",
        "Premium-rate and freephone numbers (080x) are not called back.",
    ),
    "short_code": (
        403,
        "Nomor pendek/layanan tidak ditelepon balik: bukan nomor pelanggan.",
        "Short codes are not called back: not a subscriber number.",
    ),
    "daily_cap": (
        429,
        "Batas panggilan balik ke nomor ini dalam 24 jam sudah tercapai.",
        "The limit of call-backs to this number within 24 hours has been reached.",
    ),
    "unknown_carrier": (403, "Operator seluler tidak dikenal.", "Unknown carrier."),
}


def _error(code: str) -> web.HTTPException:
    return json_error(ERRORS[code][0], code, *ERRORS[code][1:])


@auth.require("call_taker", "supervisor", "admin")
async def list_callbacks(request: web.Request) -> web.Response:
    """Callers to call back, most urgent deadline first (open, being dialled or connected), one item per number
    with its count of abandoned calls; one page (``?limit=``, default 10, ``&offset=``) with the total and the
    count per state (``counts``: open, dialing, connected, overdue)."""
    store = request.app[CALLBACK_STORE]
    page = await store.active_page(window_of(request.query, PAGE_SIZE))
    return web.json_response(
        {
            "now": iso_wib(datetime.now(UTC)),
            "callbacks": [callback_view(item) for item in page.items],
            **page.envelope(),
            "counts": await store.active_counts(),
        }
    )


@auth.require("call_taker", "supervisor", "admin")
async def get_callback(request: web.Request) -> web.Response:
    """One item with its trail: abandoned calls, attempts and their outcomes, a match with a new call."""
    item = await request.app[CALLBACK_STORE].get(_id(request))
    if item is None:
        raise _error("no_callback")
    events = [{**e, "at": iso_wib(e["at"])} for e in await request.app[CALLBACK_STORE].events(item.id)]
    return web.json_response({**callback_view(item), "events": events})


@auth.require("call_taker")
async def call_back(request: web.Request) -> web.Response:
    """Take an item and call the number back from the call taker's own (ready) seat."""
    user = auth.current_user(request)
    assert user is not None
    try:
        item = await request.app[DESK].call_back(_id(request), user.username)
    except CallbackError as exc:
        raise _error(exc.code if exc.code in ERRORS else "not_open") from None
    return web.json_response(callback_view(item))


def _id(request: web.Request) -> int:
    try:
        return int(request.match_info["callback_id"])
    except ValueError:
        raise _error("no_callback") from None


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/callbacks", list_callbacks)
    app.router.add_get("/api/v1/callbacks/{callback_id}", get_callback)
    app.router.add_post("/api/v1/callbacks/{callback_id}/call", call_back)
