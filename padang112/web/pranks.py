"""``/api/v1/prank-scores``: a number's prank/silent score, and clearing it ("Hapus tanda iseng").

Both take the number in a JSON body, never in the URL (URLs end up in access logs and browser history).
Clearing answers alike whether or not the number ever called, so the API tells no one which numbers called 112.

A call taker (from the screen-pop's badge) or a supervisor clears a number: the clearance is stored first
(``prank_clearances``: number, who, when, the call on screen, the score it had), then applied to the controller's
scores. Marks of calls before it no longer count, also after a restart (the controller loads clearances with the
marks); prank or silent marks given after it count again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from padang112.domain import prank
from padang112.web import auth
from padang112.web.api import body_of
from padang112.web.incidents import _error, _user
from padang112.web.keys import DESK, REPOSITORY
from padang112.wib import iso_or_none as wib

MAX_NUMBER = 64
MAX_CALL_ID = 128


def _number(value: object) -> str:
    """The caller number exactly as stored (caller ids are matched verbatim), or 400."""
    if not isinstance(value, str) or not value.strip():
        raise _error(web.HTTPBadRequest, "bad_number", "Nomor wajib diisi.", "A number is required.")
    if len(value) > MAX_NUMBER:
        raise _error(
            web.HTTPBadRequest,
            "bad_number",
            f"Nomor maksimal {MAX_NUMBER} karakter.",
            f"A number has at most {MAX_NUMBER} characters.",
        )
    return value


def _score(request: web.Request, number: str, now: datetime) -> dict[str, Any]:
    scores = request.app[DESK].pranks
    return {
        "number": number,
        "score": round(scores.score(number, now), 3),
        "flagged": scores.flagged(number, now),
        "threshold": prank.THRESHOLD,
        "cleared_at": wib(scores.cleared_at(number)),
    }


@auth.require("call_taker", "supervisor", "admin")
async def prank_score(request: web.Request) -> web.Response:
    """A number's prank/silent score now (``{"number": ...}``), whether it is flagged, and its latest clearance."""
    return web.json_response(_score(request, _number((await body_of(request)).get("number")), datetime.now(UTC)))


@auth.require("call_taker", "supervisor", "admin")
async def clear_prank(request: web.Request) -> web.Response:
    """Clear a number's prank/silent score ("Hapus tanda iseng"); stored with who and when, kept after a restart."""
    data = await body_of(request)
    number = _number(data.get("number"))
    call_id = data.get("call_id")
    if call_id is not None and (not isinstance(call_id, str) or len(call_id) > MAX_CALL_ID):
        raise _error(web.HTTPBadRequest, "bad_call_id", "Id panggilan tidak sah.", "Invalid call id.")
    desk, repo = request.app[DESK], request.app[REPOSITORY]
    now = datetime.now(UTC)
    before = desk.pranks.score(number, now)
    user = _user(request)
    await repo.add_prank_clearance(number, now, user.username, call_id, before)  # stored before applied
    await desk.clear_prank(number, now)
    return web.json_response(
        {**_score(request, number, now), "cleared_by": user.username, "score_before": round(before, 3)}, status=201
    )


def setup(app: web.Application) -> None:
    app.router.add_post("/api/v1/prank-scores", prank_score)
    app.router.add_post("/api/v1/prank-clearances", clear_prank)
