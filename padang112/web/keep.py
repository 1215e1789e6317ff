"""``/api/v1/keep-marks``: legal holds a supervisor or admin puts on a call or incident (retention leaves them).

``POST {"subject": "call"|"incident", "id": ..., "reason": ...}`` marks, ``DELETE /api/v1/keep-marks/{mark}``
releases (the mark stays, with who released it and when), ``GET`` lists the active marks.
"""

from __future__ import annotations

from aiohttp import web

from padang112.ops.keep import KeepError
from padang112.web import auth
from padang112.web.api import body_of, json_error
from padang112.web.keys import KEEP

ROLES = ("supervisor", "admin")
MESSAGES = {
    "bad_subject": (400, "Subjek harus 'call' atau 'incident'.", "Subject must be 'call' or 'incident'."),
    "no_reason": (400, "Alasan wajib diisi (maks. 500 karakter).", "A reason is required (at most 500 characters)."),
    "not_found": (404, "Panggilan atau kejadian tidak ditemukan.", "No such call or incident."),
    "not_active": (404, "Tanda simpan tidak ditemukan atau sudah dilepas.", "No such active keep mark."),
}


def _refused(exc: KeepError) -> web.HTTPException:
    status, text_id, text_en = MESSAGES[exc.code]
    return json_error(status, exc.code, text_id, text_en)


def _username(request: web.Request) -> str:
    user = auth.current_user(request)
    assert user is not None
    return user.username


@auth.require(*ROLES)
async def list_marks(request: web.Request) -> web.Response:
    """The active keep marks, oldest first."""
    return web.json_response([m.view() for m in await request.app[KEEP].active()])


@auth.require(*ROLES)
async def add_mark(request: web.Request) -> web.Response:
    """Keep a call or an incident (with its call) from retention, with a reason; stored with who and when."""
    data = await body_of(request)
    try:
        mark = await request.app[KEEP].mark(
            str(data.get("subject", "")), str(data.get("id", "")), str(data.get("reason", "")), _username(request)
        )
    except KeepError as exc:
        raise _refused(exc) from None
    return web.json_response(mark.view(), status=201)


@auth.require(*ROLES)
async def release_mark(request: web.Request) -> web.Response:
    """Release a keep mark: retention may delete the call again once it is past its time."""
    raw = request.match_info["mark_id"]
    if not raw.isdigit() or len(raw) > 12:
        raise _refused(KeepError("not_active", raw))
    try:
        mark = await request.app[KEEP].release(int(raw), _username(request))
    except KeepError as exc:
        raise _refused(exc) from None
    return web.json_response(mark.view())


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/keep-marks", list_marks)
    app.router.add_post("/api/v1/keep-marks", add_mark)
    app.router.add_delete("/api/v1/keep-marks/{mark_id}", release_mark)
