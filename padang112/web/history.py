"""Call history (``/riwayat``), call search and service level (JSON).

Supervisors and admins only. A search by number is posted (see :mod:`.call_search`: never a number in a URL).
``setup(app)`` registers the routes; :func:`service_level_context` gives the
supervisor page ``sl_today``, ``sl_hour``, ``sl_chart`` (plus ``sl_t`` words and ``sl_lang``) for
``{% include "_service_level.html" %}``. Each row plays every recording of its call (``web/recordings.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from markupsafe import Markup

from padang112.domain import prank
from padang112.stats import queries
from padang112.stats.service_level import ServiceLevel, chart_svg, compute
from padang112.storage.records import CallRecord
from padang112.storage.repository import Repository
from padang112.web import auth
from padang112.web.api import body_of
from padang112.web.call_search import BadParameter, Search, from_json, from_url
from padang112.web.i18n import words
from padang112.web.keys import REPOSITORY
from padang112.web.recordings import recording_url, segment_urls
from padang112.wib import WIB
from padang112.wib import iso as wib_iso

Clock = Callable[[], datetime]
CLOCK: web.AppKey[Clock] = web.AppKey("history_clock")
ROLES = ("supervisor", "admin")
PAGE_SIZE = 50

DISPOSITIONS = (*prank.DISPOSITIONS, "handled", "abandoned")
WORDS: dict[str, dict[str, Any]] = {
    "id": {
        "title": "Riwayat panggilan",
        "number": "Nomor",
        "date": "Tanggal",
        "disposition": "Disposisi",
        "seat": "Kursi",
        "search": "Cari",
        "time": "Waktu (WIB)",
        "carrier": "Operator seluler",
        "state": "Status",
        "duration": "Lama",
        "recording": "Rekaman",
        "any": "Semua",
        "none": "Tidak ada panggilan.",
        "waited": "menunggu",
        "prev": "« Sebelumnya",
        "next": "Berikutnya »",
        "other_lang": "English",
        "other_code": "en",
        "sign_out": "Keluar",
        "service_level": "Tingkat layanan",
        "today": "Hari ini",
        "hour": "60 menit terakhir",
        "offered": "Masuk",
        "answered": "Dijawab",
        "abandoned": "Ditinggalkan",
        "within": "≤{s} dtk",
        "avg": "Rata-rata waktu jawab",
        "p90": "p90 waktu jawab",
        "prank_ghost": "Iseng + kosong",
        "target": "target",
        "chart": "Panggilan per jam hari ini (WIB)",
        "calls": "panggilan",
        "states": {
            "received": "Diterima",
            "queued": "Menunggu",
            "offered": "Berdering",
            "connected": "Terhubung",
            "ended": "Selesai",
            "abandoned": "Ditinggalkan",
            "handed_over": "Dialihkan ke antrean cadangan",
        },
        "dispositions": {
            "emergency": "Darurat",
            "information": "Permintaan informasi",
            "prank": "Panggilan iseng",
            "silent": "Panggilan kosong",
            "wrong_number": "Salah sambung",
            "test": "Uji coba",
            "handled": "Ditangani",
            "abandoned": "Ditinggalkan",
        },
    },
    "en": {
        "title": "Call history",
        "number": "Number",
        "date": "Date",
        "disposition": "Disposition",
        "seat": "Seat",
        "search": "Search",
        "time": "Time (WIB)",
        "carrier": "Carrier",
        "state": "State",
        "duration": "Duration",
        "recording": "Recording",
        "any": "All",
        "none": "No calls.",
        "waited": "waited",
        "prev": "« Previous",
        "next": "Next »",
        "other_lang": "Bahasa Indonesia",
        "other_code": "id",
        "sign_out": "Sign out",
        "service_level": "Service level",
        "today": "Today",
        "hour": "Last 60 minutes",
        "offered": "Offered",
        "answered": "Answered",
        "abandoned": "Abandoned",
        "within": "≤{s} s",
        "avg": "Average time to answer",
        "p90": "p90 time to answer",
        "prank_ghost": "Prank + ghost",
        "target": "target",
        "chart": "Calls per hour today (WIB)",
        "calls": "calls",
        "states": {
            "received": "Received",
            "queued": "Waiting",
            "offered": "Ringing",
            "connected": "Connected",
            "ended": "Ended",
            "abandoned": "Abandoned",
            "handed_over": "Handed to the fallback queue",
        },
        "dispositions": {
            "emergency": "Emergency",
            "information": "Information request",
            "prank": "Prank",
            "silent": "Ghost (silent)",
            "wrong_number": "Wrong number",
            "test": "Test",
            "handled": "Handled",
            "abandoned": "Abandoned",
        },
    },
}


def utc_now() -> datetime:
    return datetime.now(UTC)


def setup(app: web.Application, *, clock: Clock = utc_now) -> None:
    app[CLOCK] = clock
    app.router.add_get("/api/v1/stats/service-level", service_level_api)
    app.router.add_get("/api/v1/calls", calls_api)
    app.router.add_post("/api/v1/calls/search", calls_search_api)
    app.router.add_get("/riwayat", history_page)
    app.router.add_post("/riwayat", history_page)


def _repo(request: web.Request) -> Repository:
    return request.app[REPOSITORY]


async def _search(request: web.Request, search: Search) -> list[CallRecord]:
    return await queries.search_calls(_repo(request), **_filters(search), limit=search.limit, offset=search.offset)


async def _total(request: web.Request, search: Search) -> int:
    return await queries.count_calls(_repo(request), **_filters(search))


def _filters(search: Search) -> dict[str, Any]:
    return {"number": search.number, "day": search.day, "disposition": search.disposition, "seat": search.seat}


def _seconds(a: datetime | None, b: datetime | None) -> float | None:
    return None if a is None or b is None else max(0.0, (b - a).total_seconds())


def call_json(call: CallRecord, segments: list[str]) -> dict[str, Any]:
    """The call as the history API shows it; ``segments`` are its recordings' names, oldest first."""
    times = ("received_at", "queued_at", "offered_at", "connected_at", "ended_at")
    return {
        "id": call.id,
        "state": call.state,
        "disposition": call.disposition,
        "via": call.via,
        "caller_number": call.caller_number,
        "caller_name": call.caller_name,
        "carrier": call.carrier,
        "dialed": call.dialed,
        "seat": call.seat,
        "ended_by": call.ended_by,
        **{name: (wib_iso(v) if (v := getattr(call, name)) else None) for name in times},
        "wait_s": _seconds(call.received_at, call.connected_at or call.ended_at),
        "talk_s": _seconds(call.connected_at, call.ended_at),
        "recording_url": recording_url(call),
        "recording_urls": segment_urls(call.id, segments),
    }


def _bad_request(error: BadParameter) -> web.Response:
    return web.json_response({"error": "bad_request", "parameter": error.what, "message": str(error)}, status=400)


@auth.require(*ROLES)
async def calls_api(request: web.Request) -> web.Response:
    """Calls, newest first, by date, disposition or seat (``?number=`` is refused: use ``POST .../search``)."""
    try:
        search = from_url(request.query, default_limit=100)
    except BadParameter as exc:
        return _bad_request(exc)
    return await _calls_json(request, search)


@auth.require(*ROLES)
async def calls_search_api(request: web.Request) -> web.Response:
    """Calls, newest first, searched with a JSON body: ``number``, ``date``, ``disposition``, ``seat``, ...."""
    try:
        search = from_json(await body_of(request), default_limit=100)
    except BadParameter as exc:
        return _bad_request(exc)
    return await _calls_json(request, search)


async def _calls_json(request: web.Request, search: Search) -> web.Response:
    calls = await _search(request, search)
    segments = await _repo(request).recording_names([c.id for c in calls])
    return web.json_response(
        {
            "calls": [call_json(c, segments.get(c.id, [])) for c in calls],
            "total": await _total(request, search),
            "limit": search.limit,
            "offset": search.offset,
        }
    )


def windows(now: datetime) -> dict[str, tuple[datetime, datetime]]:
    """``today``: the WIB calendar day of ``now``; ``hour``: the 60 minutes up to ``now``."""
    midnight = now.astimezone(WIB).replace(hour=0, minute=0, second=0, microsecond=0)
    return {"today": (midnight, midnight + timedelta(days=1)), "hour": (now - timedelta(hours=1), now)}


async def service_levels(request: web.Request) -> dict[str, ServiceLevel]:
    spans = windows(request.app.get(CLOCK, utc_now)())
    start = min(s for s, _ in spans.values())
    end = max(e for _, e in spans.values())
    calls = await queries.calls_between(_repo(request), start, end)
    return {name: compute(calls, s, e) for name, (s, e) in spans.items()}


@auth.require(*ROLES)
async def service_level_api(request: web.Request) -> web.Response:
    window = request.query.get("window", "today")
    if window not in ("today", "hour"):
        return _bad_request(BadParameter("window"))
    return web.json_response((await service_levels(request))[window].to_json())


async def service_level_context(request: web.Request) -> dict[str, Any]:
    """``sl_today``, ``sl_hour``, ``sl_chart`` (and ``sl_t``, ``sl_lang``) for ``_service_level.html``."""
    lang = auth.language(request)
    t = WORDS[lang]
    levels = await service_levels(request)
    # Markup only for SVG that chart_svg built itself, escaping every text it holds.
    chart = Markup(chart_svg(levels["today"].per_hour, title=t["chart"], unit=t["calls"]))
    return {"sl_today": levels["today"], "sl_hour": levels["hour"], "sl_chart": chart, "sl_t": t, "sl_lang": lang}


def duration_text(call: CallRecord, t: dict[str, Any]) -> str:
    """Talk time ``m:ss`` of an answered call; for others the wait, ``menunggu m:ss``; "–" while open."""
    talk = _seconds(call.connected_at, call.ended_at)
    if talk is not None:
        return _mmss(talk)
    if call.connected_at is None and call.ended_at is not None:
        return f"{t['waited']} {_mmss(_seconds(call.received_at, call.ended_at) or 0.0)}"
    return "–"


def _mmss(seconds: float) -> str:
    whole = round(seconds)
    if whole >= 3600:
        return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"
    return f"{whole // 60}:{whole % 60:02d}"


@auth.require(*ROLES)
async def history_page(request: web.Request) -> web.Response:
    lang = auth.language(request)
    t = WORDS[lang]
    error: str | None = None
    try:
        if request.method == "POST":  # the form (the CSRF token was checked by the sign-in layer)
            form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
            search = from_json(form, default_limit=PAGE_SIZE)
        else:
            search = from_url(request.query, default_limit=PAGE_SIZE)
    except BadParameter as exc:
        error, search = str(exc), Search(limit=PAGE_SIZE)
    calls = [] if error else await _search(request, search)
    total = 0 if error else await _total(request, search)
    segments = await _repo(request).recording_names([c.id for c in calls])
    rows = [
        {
            "call": c,
            "time": c.received_at.astimezone(WIB).strftime("%d-%m-%Y %H:%M:%S"),
            "state": t["states"].get(c.state, c.state),
            "disposition": t["dispositions"].get(c.disposition, c.disposition) if c.disposition else "",
            "duration": duration_text(c, t),
            "recording_urls": segment_urls(c.id, segments.get(c.id, [])),
        }
        for c in calls
    ]
    context: dict[str, Any] = {
        **await auth.context_processor(request),
        **await service_level_context(request),
        "t": {**words(lang), **t},
        "error": error,
        "search": search,
        "rows": rows,
        "dispositions": DISPOSITIONS,
        "prev_fields": search.fields(offset=max(0, search.offset - search.limit)) if search.offset else None,
        "next_fields": search.fields(offset=search.offset + search.limit)
        if search.offset + search.limit < total
        else None,
        "total": total,
        "first": search.offset + 1 if calls else 0,
        "last": search.offset + len(calls),
    }
    response = aiohttp_jinja2.render_template("history.html", request, context, status=400 if error else 200)
    response.headers["Cache-Control"] = "no-store"
    return response
