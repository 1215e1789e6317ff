"""Audited playback of a call's recordings: every segment it was recorded in, each checked against its seal.

A call has one recording per bridged segment (``domain/naming.recording_name``: put through twice, e.g. across a
controller restart, it has two), plus the fallback queue's if it went there. ``GET .../recordings`` lists them
(oldest first), ``.../recordings/{name}`` plays one, ``.../recording`` the latest (what the call row names). A
file is served only under a name the ``recordings`` table holds for that call, resolved inside
``recordings_dir``; every request for one writes a ``recording_played`` audit row and says in
``X-Recording-Integrity`` whether it is the file sealed when the recording was closed. Supervisors and admins only.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web

from padang112.integrity.seals import PlaybackCheck
from padang112.stats import queries
from padang112.storage.records import CallRecord
from padang112.web import auth
from padang112.web.keys import REPOSITORY, SETTINGS
from padang112.wib import iso as wib_iso

ROLES = ("supervisor", "admin")
PLAYBACK_CHECK: web.AppKey[list[PlaybackCheck]] = web.AppKey("playback_check")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,199}")
INTEGRITY_WORDS = {
    "id": {"verified": "terverifikasi", "changed": "berubah", "unsealed": "belum disegel"},
    "en": {"verified": "verified", "changed": "changed", "unsealed": "not sealed yet"},
}


def setup(app: web.Application) -> None:
    app[PLAYBACK_CHECK] = []
    app.router.add_get("/api/v1/calls/{call_id}/recording", latest)
    app.router.add_get("/api/v1/calls/{call_id}/recording/integrity", latest_integrity)
    app.router.add_get("/api/v1/calls/{call_id}/recordings", segments)
    app.router.add_get("/api/v1/calls/{call_id}/recordings/{name}", segment)
    app.router.add_get("/api/v1/calls/{call_id}/recordings/{name}/integrity", segment_integrity)


def playable(name: str | None) -> bool:
    return name is not None and bool(_NAME.fullmatch(name)) and ".." not in name


def recording_url(call: CallRecord) -> str | None:
    """Where to play the call's latest recording; None without one (or with a name playback would refuse)."""
    return f"/api/v1/calls/{quote(call.id, safe='')}/recording" if playable(call.recording) else None


def segment_url(call_id: str, name: str) -> str | None:
    if not playable(name):
        return None
    return f"/api/v1/calls/{quote(call_id, safe='')}/recordings/{quote(name, safe='')}"


def segment_urls(call_id: str, names: list[str]) -> list[str]:
    """Where to play each of the call's recordings (names oldest first), skipping names playback would refuse."""
    return [url for name in names if (url := segment_url(call_id, name))]


async def _file(request: web.Request, name: str | None) -> Path:
    """The file of recording ``name`` of the call in the URL: 404 unless the database holds it for that call."""
    call_id = request.match_info["call_id"]
    known = await request.app[REPOSITORY].recording_names([call_id])
    if not playable(name) or name not in known.get(call_id, []):
        raise web.HTTPNotFound()
    path = _inside(Path(request.app[SETTINGS].recordings_dir), f"{name}.wav")
    if path is None:
        raise web.HTTPNotFound()
    return path


def _inside(directory: Path, file_name: str) -> Path | None:
    """``directory/file_name`` if it is a file right inside ``directory`` once links are resolved."""
    base = directory.resolve()
    path = (base / file_name).resolve()
    return path if path.parent == base and path.is_file() else None


async def _latest_name(request: web.Request) -> str | None:
    call = await queries.call_by_id(request.app[REPOSITORY], request.match_info["call_id"])
    return None if call is None else call.recording


def _playback_check(request: web.Request) -> PlaybackCheck:
    holder = request.app[PLAYBACK_CHECK]
    if not holder:  # made on first use: the repository exists once the application started
        holder.append(PlaybackCheck(request.app[REPOSITORY].read_sessions))
    return holder[0]


async def _integrity(request: web.Request, name: str | None) -> web.Response:
    status = await _playback_check(request).status(await _file(request, name))
    return web.json_response({"status": status, "label": INTEGRITY_WORDS[auth.language(request)][status]})


async def _play(request: web.Request, name: str | None) -> web.StreamResponse:
    path = await _file(request, name)
    user = auth.current_user(request)
    await request.app[auth.AUTH].users.audit(
        "recording_played",
        user.username if user else None,
        call_id=request.match_info["call_id"],
        recording=name,
        client=auth.client_address(request),
        range=request.headers.get("Range"),
    )
    headers = {
        "Content-Type": "audio/wav",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "X-Recording-Integrity": await _playback_check(request).status(path),
    }
    return web.FileResponse(path, headers=headers)


@auth.require(*ROLES)
async def latest(request: web.Request) -> web.StreamResponse:
    """The call's latest recording (the one the call row names); 404 for anything else."""
    return await _play(request, await _latest_name(request))


@auth.require(*ROLES)
async def latest_integrity(request: web.Request) -> web.Response:
    """Whether the call's latest recording is the one sealed when it was closed: verified, changed or unsealed."""
    return await _integrity(request, await _latest_name(request))


@auth.require(*ROLES)
async def segments(request: web.Request) -> web.Response:
    """Every recording of the call, oldest first, with where to play it and to check its seal."""
    call_id = request.match_info["call_id"]
    rows = await request.app[REPOSITORY].recordings(call_id)
    if not rows and await queries.call_by_id(request.app[REPOSITORY], call_id) is None:
        raise web.HTTPNotFound()
    items: list[dict[str, Any]] = [
        {
            "name": row.name,
            "started_at": wib_iso(row.started_at),
            "finished_at": wib_iso(row.finished_at) if row.finished_at else None,
            "duration_s": row.duration_s,
            "url": url,
            "integrity_url": url + "/integrity",
        }
        for row in rows
        if (url := segment_url(call_id, row.name))
    ]
    return web.json_response({"call_id": call_id, "recordings": items})


@auth.require(*ROLES)
async def segment(request: web.Request) -> web.StreamResponse:
    """One recording of the call, by its name; 404 unless the database holds that name for that call."""
    return await _play(request, request.match_info["name"])


@auth.require(*ROLES)
async def segment_integrity(request: web.Request) -> web.Response:
    return await _integrity(request, request.match_info["name"])
