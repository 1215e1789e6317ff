"""The figures of a simulated day per hour and per shift, computed by the same functions as the real reports
(:func:`padang112.stats.service_level.compute` for calls, :func:`padang112.stats.agency_times.agency_times` for
agency tasks) plus seat occupancy, call-backs created and the seats staffed and advised (Erlang A).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from padang112.incidents.model import AGENCIES
from padang112.planning.day import DayResult
from padang112.planning.staffing import Advice
from padang112.stats.agency_times import AgencyTimes, agency_times
from padang112.stats.service_level import WIB, ServiceLevel, compute, percentile_nearest_rank
from padang112.stats.shift_report import SHIFTS, csv_cell


@dataclass(frozen=True)
class Period:
    label: str  # "07" (an hour, WIB) or a shift name
    start: datetime
    end: datetime
    staffed: float  # seats on duty (average over the period)
    advised: int | None
    calls: ServiceLevel
    occupancy_pct: float | None
    callbacks: int
    agencies: tuple[AgencyTimes, ...]
    ack_p50_s: float | None  # all agencies' tasks dispatched in the period, pooled
    ack_p90_s: float | None


def _period(result: DayResult, label: str, start: datetime, end: datetime, advised: int | None) -> Period:
    hours = [result.staffed[h] for h in range(len(result.staffed)) if start <= result.start + timedelta(hours=h) < end]
    occupied, signed_in = result.seats.occupancy(start, end)
    tasks = [t for i in result.incidents for t in i.tasks]
    acks = [
        (t.acknowledged_at - t.dispatched_at).total_seconds()
        for t in tasks
        if start <= t.dispatched_at < end and t.acknowledged_at is not None
    ]
    return Period(
        label=label,
        start=start,
        end=end,
        staffed=sum(hours) / len(hours) if hours else 0.0,
        advised=advised,
        calls=compute(result.calls, start, end),
        occupancy_pct=100.0 * occupied / signed_in if signed_in else None,
        callbacks=sum(1 for at in result.callbacks_created if start <= at < end),
        agencies=tuple(agency_times(tasks, start, end, result.end, agencies=AGENCIES)),
        ack_p50_s=percentile_nearest_rank(acks, 50),
        ack_p90_s=percentile_nearest_rank(acks, 90),
    )


def hours(result: DayResult, advice: list[Advice] | None = None) -> list[Period]:
    by_hour = {a.hour: a.seats for a in advice or ()}
    out = []
    for h in range(len(result.staffed)):
        start = result.start + timedelta(hours=h)
        hour = start.astimezone(WIB).hour
        out.append(_period(result, f"{hour:02d}", start, start + timedelta(hours=1), by_hour.get(hour)))
    return out


def shifts(result: DayResult, advice: list[Advice] | None = None) -> list[Period]:
    by_hour = {a.hour: a.seats for a in advice or ()}
    out = []
    day = result.start.astimezone(WIB)
    for name, (first, last) in SHIFTS.items():
        start = day.replace(hour=first)
        if start < result.start:
            start += timedelta(days=1)
        end = start + timedelta(hours=(last - first) % 24)
        if start >= result.end:
            continue
        wanted = [by_hour[(first + n) % 24] for n in range((last - first) % 24) if (first + n) % 24 in by_hour]
        out.append(_period(result, name, start, min(end, result.end), max(wanted) if wanted else None))
    return out


def whole_day(result: DayResult) -> Period:
    return _period(result, "day", result.start, result.end, None)


def periods(result: DayResult, advice: list[Advice]) -> dict[str, list[Period]]:
    """The figures of every hour, every shift and the whole day."""
    return {"hour": hours(result, advice), "shift": shifts(result, advice), "day": [whole_day(result)]}


CSV_HEADER = (
    "scope",
    "period",
    "start",
    "seats_staffed",
    "seats_advised",
    "offered",
    "answered",
    "abandoned",
    "pct_within_15",
    "pct_within_20",
    "avg_answer_s",
    "p90_answer_s",
    "occupancy_pct",
    "callbacks_created",
    "ack_p50_s",
    "ack_p90_s",
    "agency",
    "agency_tasks",
    "agency_ack_p50_s",
    "agency_ack_p90_s",
    "agency_ack_within_deadline_pct",
)


def to_csv(result: DayResult, advice: list[Advice]) -> str:
    """One row per period (``scope`` hour, shift or day); per shift and day also one row per agency with tasks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for scope, items in periods(result, advice).items():
        for p in items:
            sl = p.calls
            base = [
                scope,
                p.label,
                p.start.astimezone(WIB).isoformat(timespec="minutes"),
                round(p.staffed, 2),
                p.advised,
                sl.offered,
                sl.answered,
                sl.abandoned,
                sl.pct_within_15,
                sl.pct_within_20,
                sl.avg_answer_s,
                sl.p90_answer_s,
                p.occupancy_pct,
                p.callbacks,
                p.ack_p50_s,
                p.ack_p90_s,
            ]
            writer.writerow([csv_cell(v) for v in [*base, "", "", "", "", ""]])
            if scope == "hour":
                continue
            for a in p.agencies:
                if a.tasks:
                    row = [*base, a.agency, a.tasks, a.ack_p50_s, a.ack_p90_s, a.within_pct]
                    writer.writerow([csv_cell(v) for v in row])
    return buffer.getvalue()
