"""Shift and daily reports: ``/laporan`` (a printable page with SVG charts) and ``/laporan.csv``.

Query parameters, all optional: ``date`` (``YYYY-MM-DD``, a WIB date; default today), ``shift`` (``pagi``,
``siang``, ``malam``, see :data:`padang112.stats.shift_report.SHIFTS`; empty: the whole day) and ``agency``
(an agency code; empty: the whole room). A bad value gets 400 with a message in Indonesian and English.
Supervisors and admins may open any report; an agency operator only their own agency's (``agency`` empty or
their own; another agency gets 403). The figures are computed by :mod:`padang112.stats.shift_report`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from markupsafe import Markup

from padang112.accounts.users import UserRecord
from padang112.incidents.model import AGENCIES, AGENCY_NAMES
from padang112.planning.staffing import staffed_vs_advised
from padang112.stats import queries, shift_report
from padang112.stats.charts import bars_svg
from padang112.stats.service_level import chart_svg, fmt_number
from padang112.web import auth, history
from padang112.web.dashboard import now, store_of, type_namer
from padang112.web.i18n import words
from padang112.web.keys import REPOSITORY, SETTINGS
from padang112.wib import WIB

ROLES = ("supervisor", "admin", "agency")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ERRORS: dict[str, tuple[str, str]] = {
    "date": ("Tanggal tidak valid, gunakan YYYY-MM-DD.", "Invalid date, use YYYY-MM-DD."),
    "shift": (
        "Sif tidak dikenal: pagi, siang atau malam (kosong: sehari penuh).",
        "Unknown shift: pagi, siang or malam (empty: the whole day).",
    ),
    "agency": ("OPD tidak dikenal.", "Unknown agency."),
    "other_agency": (
        "Petugas OPD hanya dapat membuka laporan OPD-nya sendiri.",
        "An agency operator can open only their own agency's report.",
    ),
}


class BadReportQuery(ValueError):
    def __init__(self, what: str, status: int = 400) -> None:
        super().__init__(" / ".join(ERRORS[what]))
        self.what = what
        self.status = status

    def message(self, lang: str) -> str:
        return ERRORS[self.what][1 if lang == "en" else 0]


@dataclass(frozen=True)
class ReportQuery:
    day: date
    shift: str | None
    agency: str | None

    def params(self, **extra: str) -> dict[str, str]:
        """As query parameters (empty ones left out), for links."""
        values = {"date": self.day.isoformat(), "shift": self.shift or "", "agency": self.agency or "", **extra}
        return {k: v for k, v in values.items() if v}


def parse_query(params: Mapping[str, str], user: UserRecord, today: date) -> ReportQuery:
    """Validate ``date``, ``shift`` and ``agency`` for ``user``; :class:`BadReportQuery` names what is wrong."""
    raw = (params.get("date") or "").strip()
    day = today
    if raw:
        try:
            if not _DATE.fullmatch(raw):
                raise ValueError(raw)
            day = date.fromisoformat(raw)
        except ValueError:
            raise BadReportQuery("date") from None
    shift = params.get("shift") or None
    if shift is not None and shift not in shift_report.SHIFTS:
        raise BadReportQuery("shift")
    agency = params.get("agency") or None
    if agency is not None and agency not in AGENCIES:
        raise BadReportQuery("agency")
    if user.role == "agency":
        if user.agency not in AGENCIES or agency not in (None, user.agency):
            raise BadReportQuery("other_agency", status=403)
        agency = user.agency
    return ReportQuery(day, shift, agency)


def _today(request: web.Request) -> date:
    return now(request).astimezone(WIB).date()


def _user(request: web.Request) -> UserRecord:
    user = auth.current_user(request)
    assert user is not None  # require() let the request through
    return user


async def load_report(request: web.Request, query: ReportQuery) -> shift_report.Report:
    start, end = shift_report.window(query.day, query.shift)
    repo = request.app[REPOSITORY]
    calls = [] if query.agency else await queries.calls_between(repo, start, end)
    incidents = await store_of(request).touching(start, end)
    rows: list[tuple[datetime, float, int]] = []
    if not query.agency:
        until = min(end, now(request))  # hours still to come have nobody signed in yet
        seats = await queries.seat_events_between(repo, start, until)
        wrap_s = request.app[SETTINGS].calls.wrap_up_s
        rows = [(h.start, h.staffed, h.advised) for h in staffed_vs_advised(calls, seats, start, until, wrap_s)]
    return shift_report.build(calls, incidents, query.day, query.shift, query.agency, now(request), rows)


def filename(query: ReportQuery) -> str:
    return f"laporan-112-{query.agency or 'ruang'}-{query.day.isoformat()}-{query.shift or 'harian'}.csv"


@auth.require(*ROLES)
async def report_csv(request: web.Request) -> web.Response:
    try:
        query = parse_query(request.query, _user(request), _today(request))
    except BadReportQuery as exc:
        return web.Response(text=str(exc) + "\n", status=exc.status, content_type="text/plain")
    report = await load_report(request, query)
    return web.Response(
        text=shift_report.to_csv(report),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename(query)}"', "Cache-Control": "no-store"},
    )


def _charts(report: shift_report.Report, t: Mapping[str, Any], lang: str) -> list[tuple[str, Markup]]:
    """The report's charts as (caption, SVG markup); every text in the SVG is escaped by the chart functions,
    and the bar charts carry their title inside, so only the calls-per-hour chart has a caption."""
    seconds = t["seconds"]
    charts = []
    if report.calls is not None:
        charts.append(
            (t["report_chart_hours"], chart_svg(report.calls.per_hour, title=t["report_chart_hours"], unit=t["calls"]))
        )
        charts.append(
            (
                "",
                bars_svg(
                    [(_disposition(code, t), n) for code, n in report.dispositions], title=t["dispositions_title"]
                ),
            )
        )
    charts.append(("", bars_svg([(a.name, a.tasks) for a in report.agencies], title=t["chart_tasks"])))
    charts.append(
        (
            "",
            bars_svg(
                [(a.name, a.ack_p90_s) for a in report.agencies],
                title=t["chart_ack_p90"],
                fmt=lambda v: fmt_number(v, lang, f" {seconds}"),
            ),
        )
    )
    return [(caption, Markup(svg)) for caption, svg in charts]


def _local(at: datetime) -> str:
    return at.astimezone(WIB).strftime("%d-%m-%Y %H:%M")


def _disposition(code: str, t: Mapping[str, Any]) -> str:
    return t["unmarked"] if code == shift_report.UNMARKED else t["dispositions"].get(code, code)


def _agency_rows(report: shift_report.Report, t: Mapping[str, Any], lang: str) -> list[dict[str, Any]]:
    unit = f" {t['seconds']}"
    return [
        {
            "times": a,
            **{
                k: fmt_number(getattr(a, k), lang, unit)
                for k in ("ack_p50_s", "ack_p90_s", "resolve_p50_s", "resolve_p90_s")
            },
            "within_pct": fmt_number(a.within_pct, lang, " %"),
        }
        for a in report.agencies
    ]


@auth.require(*ROLES)
async def report_page(request: web.Request) -> web.Response:
    lang = auth.language(request)
    t = {**words(lang), **history.WORDS[lang]}
    user = _user(request)
    context: dict[str, Any] = {
        "t": t,
        "other_lang": "en" if lang == "id" else "id",
        "shifts": list(shift_report.SHIFTS),
        "agencies": [(a, AGENCY_NAMES[a]) for a in AGENCIES],
        "agency_user": user.role == "agency",
        "error": None,
        "report": None,
    }
    try:
        query = parse_query(request.query, user, _today(request))
    except BadReportQuery as exc:
        context.update(error=exc.message(lang), query=ReportQuery(_today(request), None, user.agency))
        return aiohttp_jinja2.render_template("report.html", request, context, status=exc.status)
    report = await load_report(request, query)
    name = type_namer(lang)
    context.update(
        query=query,
        report=report,
        charts=_charts(report, t, lang),
        agency_rows=_agency_rows(report, t, lang),
        by_type=[(name(code), n) for code, n in report.incidents_by_type],
        dispositions=[(_disposition(code, t), n) for code, n in report.dispositions],
        period=f"{_local(report.start)} – {_local(report.end)} WIB",
        generated=f"{_local(report.generated_at)} WIB",
        scope=AGENCY_NAMES[query.agency] if query.agency else t["report_room"],
        csv_params=query.params(),
        staffing_rows=[
            (f"{at.astimezone(WIB):%H}:00", fmt_number(staffed, lang), advised, staffed < advised)
            for at, staffed, advised in report.staffing
        ],
    )
    response = aiohttp_jinja2.render_template("report.html", request, context)
    response.headers["Cache-Control"] = "no-store"
    return response


def setup(app: web.Application) -> None:
    app.router.add_get("/laporan", report_page)
    app.router.add_get("/laporan.csv", report_csv)
