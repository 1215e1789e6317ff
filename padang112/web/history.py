"""Call history (``/riwayat``), call search and service level (JSON).

Supervisors and admins only. ``setup(app)`` registers the routes; :func:`service_level_context` gives the
supervisor page ``sl_today``, ``sl_hour``, ``sl_chart`` (plus ``sl_t`` words and ``sl_lang``) for
``{% include "_service_level.html" %}``. Each row plays every recording of its call (``web/recordings.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
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
from padang112.web.i18n import words
from padang112.web.keys import REPOSITORY
from padang112.web.recordings import recording_url, segment_urls
from padang112.wib import WIB
from padang112.wib import iso as wib_iso

Clock = Callable[[], datetime]
CLOCK: web.AppKey[Clock] = web.AppKey("history_clock")
ROLES = ("supervisor", "admin")
PAGE_SIZE = 50
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DISPOSITION = re.compile(r"[a-z_]{1,32}")
_SEAT = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_INT = re.compile(r"\d{1,7}")
MAX_NUMBER = 64

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
ERRORS = {
    "date": "Tanggal tidak valid, gunakan YYYY-MM-DD / Invalid date, use YYYY-MM-DD",
    "number": f"Nomor terlalu panjang (maks. {MAX_NUMBER}) / Number too long (max {MAX_NUMBER})",
    "disposition": "Disposisi tidak valid / Invalid disposition",
    "seat": "Kursi tidak valid / Invalid seat",
    "limit": f"limit harus 1..{queries.MAX_LIMIT} / limit must be 1..{queries.MAX_LIMIT}",
    "offset": "offset harus bilangan bulat ≥ 0 / offset must be an integer ≥ 0",
    "window": "window harus today atau hour / window must be today or hour",
}


class BadParameter(ValueError):
    def __init__(self, what: str) -> None:
        super().__init__(ERRORS[what])
        self.what = what


@dataclass(frozen=True)
class Search:
    number: str | None = None
    day: date | None = None
    disposition: str | None = None
    seat: str | None = None
    limit: int = 100
    offset: int = 0

    def query(self, **changes: Any) -> dict[str, str]:
        """The search as query parameters (empty ones left out), for links."""
        values = {
            "number": self.number,
            "date": self.day and self.day.isoformat(),
            "disposition": self.disposition,
            "seat": self.seat,
            "limit": self.limit,
            "offset": self.offset,
            **changes,
        }
        return {k: str(v) for k, v in values.items() if v not in (None, "", 0)}


def utc_now() -> datetime:
    return datetime.now(UTC)


def setup(app: web.Application, *, clock: Clock = utc_now) -> None:
    app[CLOCK] = clock
    app.router.add_get("/api/v1/stats/service-level", service_level_api)
    app.router.add_get("/api/v1/calls", calls_api)
    app.router.add_get("/riwayat", history_page)


def _repo(request: web.Request) -> Repository:
    return request.app[REPOSITORY]


def parse_search(params: Any, default_limit: int) -> Search:
    """Validate the search parameters (``number``, ``date``, ``disposition``, ``seat``, ``limit``, ``offset``)."""
    number = (params.get("number") or "").strip()
    if len(number) > MAX_NUMBER:
        raise BadParameter("number")
    day: date | None = None
    if raw := params.get("date", ""):
        if not _DATE.fullmatch(raw):
            raise BadParameter("date")
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise BadParameter("date") from None
    disposition = params.get("disposition") or None
    if disposition is not None and not _DISPOSITION.fullmatch(disposition):
        raise BadParameter("disposition")
    seat = params.get("seat") or None
    if seat is not None and not _SEAT.fullmatch(seat):
        raise BadParameter("seat")
    limit = _int(params.get("limit"), default_limit, "limit")
    if not 1 <= limit <= queries.MAX_LIMIT:
        raise BadParameter("limit")
    return Search(number or None, day, disposition, seat, limit, _int(params.get("offset"), 0, "offset"))


def _int(raw: str | None, default: int, what: str) -> int:
    if raw in (None, ""):
        return default
    if not _INT.fullmatch(raw):
        raise BadParameter(what)
    return int(raw)


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
    try:
        search = parse_search(request.query, default_limit=100)
    except BadParameter as exc:
        return _bad_request(exc)
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
        search = parse_search(request.query, default_limit=PAGE_SIZE)
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
        "prev_query": search.query(offset=max(0, search.offset - search.limit)) if search.offset else None,
        "next_query": search.query(offset=search.offset + search.limit)
        if search.offset + search.limit < total
        else None,
        "total": total,
        "first": search.offset + 1 if calls else 0,
        "last": search.offset + len(calls),
    }
    response = aiohttp_jinja2.render_template("history.html", request, context, status=400 if error else 200)
    response.headers["Cache-Control"] = "no-store"
    return response
