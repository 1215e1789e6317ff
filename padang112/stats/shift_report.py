"""Shift and daily reports (``/laporan``, ``/laporan.csv``): the room's calls and every agency's tasks over one
WIB day or one shift. Pure, no I/O: the web layer reads the calls and incidents and hands them in.

Shifts (:data:`SHIFTS`, WIB): **pagi** 07:00–15:00, **siang** 15:00–23:00, **malam** 23:00–07:00 the next
morning; a night shift belongs to the date it starts on (``malam`` of 7 August runs from 7 August 23:00 to
8 August 07:00). Without a shift the report covers the WIB calendar day, 00:00–24:00.

What it holds, for the window ``[start, end)``:

- **calls** (room reports only: calls belong to the room, not to an agency): the service level of
  :func:`padang112.stats.service_level.compute` (offered, answered, abandoned, % within 15 s and 20 s,
  prank/ghost share, calls per hour), and the calls per disposition (``None``: not marked).
- **incidents**: those created in the window; an agency's report only those with a task of that agency.
- **agencies**: acknowledge and resolve times of the tasks dispatched in the window, per agency
  (:mod:`padang112.stats.agency_times`); all seven in a room report, the one in an agency's report.

:func:`to_csv` writes it as one figure per row, ``section,metric,agency,value``, so that a spreadsheet can
pivot it; numbers use a decimal point, times are ISO 8601 in WIB, empty means "no value".
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from padang112.incidents.model import AGENCIES, Incident
from padang112.stats.agency_times import AgencyTimes, agency_times
from padang112.stats.service_level import ServiceLevel, compute
from padang112.storage.records import CallRecord
from padang112.wib import WIB
from padang112.wib import iso as wib_iso

SHIFTS: dict[str, tuple[int, int]] = {"pagi": (7, 15), "siang": (15, 23), "malam": (23, 7)}  # WIB hours
CSV_HEADER = ("section", "metric", "agency", "value")
UNMARKED = "unmarked"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def window(day: date, shift: str | None = None) -> tuple[datetime, datetime]:
    """``[start, end)`` in WIB of the day, or of one of its shifts; ``KeyError`` for an unknown shift."""
    if shift is None:
        start = datetime.combine(day, time(0), tzinfo=WIB)
        return start, start + timedelta(days=1)
    first, last = SHIFTS[shift]
    start = datetime.combine(day, time(first), tzinfo=WIB)
    hours = (last - first) % 24
    return start, start + timedelta(hours=hours)


def shift_of(at: datetime) -> tuple[date, str]:
    """The shift running at ``at`` and the date it belongs to (a night shift: the date it started on)."""
    local = at.astimezone(WIB)
    for name, (first, last) in SHIFTS.items():
        if first < last and first <= local.hour < last:
            return local.date(), name
    return (local.date() if local.hour >= SHIFTS["malam"][0] else local.date() - timedelta(days=1)), "malam"


@dataclass(frozen=True)
class Report:
    day: date
    shift: str | None
    agency: str | None  # None: the whole room
    start: datetime
    end: datetime
    generated_at: datetime
    calls: ServiceLevel | None  # None in an agency's report
    dispositions: tuple[tuple[str, int], ...]
    incidents: int
    incidents_by_type: tuple[tuple[str, int], ...]
    agencies: tuple[AgencyTimes, ...]
    staffing: tuple[tuple[datetime, float, int], ...] = ()  # (hour start, seats signed in, seats advised)

    @property
    def hours(self) -> list[int]:
        """The WIB hours the window covers, in order (``[23, 0, 1, …, 6]`` for a night shift)."""
        count = round((self.end - self.start).total_seconds() / 3600)
        first = self.start.astimezone(WIB).hour
        return [(first + n) % 24 for n in range(count)]


def _counted(counter: Counter[str]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(counter.items(), key=lambda item: (-item[1], item[0])))


def disposition_counts(calls: Iterable[CallRecord], start: datetime, end: datetime) -> tuple[tuple[str, int], ...]:
    """Calls received in ``[start, end)`` per disposition (once per call id), most first; unmarked as ``unmarked``."""
    latest: dict[str, CallRecord] = {}
    for call in calls:
        if start <= call.received_at < end and (call.id not in latest or call.updated_at >= latest[call.id].updated_at):
            latest[call.id] = call
    return _counted(Counter(c.disposition or UNMARKED for c in latest.values()))


def build(
    calls: Sequence[CallRecord],
    incidents: Sequence[Incident],
    day: date,
    shift: str | None,
    agency: str | None,
    now: datetime,
    staffing: Sequence[tuple[datetime, float, int]] = (),
) -> Report:
    """The report of ``day`` (and ``shift``), for the room (``agency`` None) or one agency.

    ``incidents`` may hold more than the window (and other agencies'): what counts is chosen here.
    """
    if agency is not None and agency not in AGENCIES:
        raise ValueError(f"unknown agency {agency!r}")
    start, end = window(day, shift)
    mine = [i for i in incidents if agency is None or any(t.agency == agency for t in i.tasks)]
    created = [i for i in mine if start <= i.created_at < end]
    tasks = [t for i in mine for t in i.tasks]
    return Report(
        day=day,
        shift=shift,
        agency=agency,
        start=start,
        end=end,
        generated_at=now,
        calls=compute(calls, start, end) if agency is None else None,
        dispositions=disposition_counts(calls, start, end) if agency is None else (),
        incidents=len(created),
        incidents_by_type=_counted(Counter(i.type_code for i in created)),
        agencies=tuple(agency_times(tasks, start, end, now, agencies=AGENCIES if agency is None else (agency,))),
        staffing=tuple(staffing) if agency is None else (),
    )


# --- CSV ------------------------------------------------------------------------------------------------------


def csv_cell(value: Any) -> str:
    """A CSV cell: numbers with a decimal point, None empty, text that a spreadsheet could run as a formula
    (``=``, ``+``, ``-``, ``@`` first) prefixed with ``'``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def rows(report: Report) -> list[tuple[str, str, str, str]]:
    """Every figure of the report as ``(section, metric, agency, value)``."""
    out: list[tuple[str, str, str, Any]] = [
        ("report", "date", "", report.day.isoformat()),
        ("report", "shift", "", report.shift or "day"),
        ("report", "scope", "", report.agency or "room"),
        ("report", "start", "", wib_iso(report.start)),
        ("report", "end", "", wib_iso(report.end)),
        ("report", "generated_at", "", wib_iso(report.generated_at)),
    ]
    if report.calls is not None:
        figures = report.calls.to_json()
        for name in (
            "offered",
            "answered",
            "abandoned",
            "open",
            "answered_within_15",
            "answered_within_20",
            "pct_within_15",
            "pct_within_20",
            "avg_answer_s",
            "p90_answer_s",
            "prank_ghost",
            "prank_ghost_pct",
        ):
            out.append(("calls", name, "", figures[name]))
        out += [("calls_per_hour", f"{hour:02d}", "", report.calls.per_hour[hour]) for hour in report.hours]
        out += [("disposition", code, "", n) for code, n in report.dispositions]
        for at, staffed, advised in report.staffing:
            hour = f"{at.astimezone(WIB).hour:02d}"
            out += [("seats_staffed", hour, "", round(staffed, 2)), ("seats_advised", hour, "", advised)]
    out.append(("incidents", "created", report.agency or "", report.incidents))
    out += [("incident_type", code, report.agency or "", n) for code, n in report.incidents_by_type]
    for times in report.agencies:
        out += [
            ("agency", name, times.agency, value)
            for name, value in times.to_json().items()
            if name not in ("agency", "name")
        ]
    return [(csv_cell(s), csv_cell(m), csv_cell(a), csv_cell(v)) for s, m, a, v in out]


def to_csv(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(rows(report))
    return buffer.getvalue()
