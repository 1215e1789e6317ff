"""Shift and daily reports (pure): shift windows, the room's and an agency's figures, CSV, bar charts."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from padang112.incidents.model import AGENCIES
from padang112.stats.charts import bars_svg
from padang112.stats.shift_report import CSV_HEADER, build, rows, shift_of, to_csv, window
from padang112.storage.records import CallRecord
from padang112.wib import WIB
from tests.unit.test_agency_times import task
from tests.unit.test_dashboard_figures import incident

DAY = date(2023, 8, 7)


def wib(hour: float, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=WIB) + timedelta(hours=hour)


def call(
    cid: str,
    hour: float,
    *,
    answer_s: float | None = None,
    abandon_s: float | None = None,
    disposition: str | None = None,
) -> CallRecord:
    at = wib(hour)
    if answer_s is not None:
        return CallRecord(
            id=cid,
            state="ended",
            via="controller",
            received_at=at,
            updated_at=at,
            connected_at=at + timedelta(seconds=answer_s),
            ended_at=at + timedelta(minutes=2),
            disposition=disposition,
        )
    if abandon_s is not None:
        return CallRecord(
            id=cid,
            state="abandoned",
            via="controller",
            received_at=at,
            updated_at=at,
            ended_at=at + timedelta(seconds=abandon_s),
            disposition="abandoned",
        )
    return CallRecord(id=cid, state="queued", via="controller", received_at=at, updated_at=at)


def parsed(text: str) -> dict[tuple[str, str, str], str]:
    table = list(csv.reader(io.StringIO(text)))
    assert tuple(table[0]) == CSV_HEADER
    return {(s, m, a): v for s, m, a, v in table[1:]}


@pytest.mark.parametrize(
    "shift, start, end",
    [
        (None, wib(0), wib(24)),
        ("pagi", wib(7), wib(15)),
        ("siang", wib(15), wib(23)),
        ("malam", wib(23), wib(31)),
    ],
)
def test_shift_windows_in_wib(shift: str | None, start: datetime, end: datetime) -> None:
    assert window(DAY, shift) == (start, end)


def test_unknown_shift() -> None:
    with pytest.raises(KeyError):
        window(DAY, "subuh")


@pytest.mark.parametrize(
    "at, expected",
    [
        (wib(7), (DAY, "pagi")),
        (wib(14.99), (DAY, "pagi")),
        (wib(15), (DAY, "siang")),
        (wib(23), (DAY, "malam")),
        (wib(30.5), (DAY, "malam")),  # 06:30 on the 8th: the night shift that started on the 7th
        (wib(6.5), (DAY - timedelta(days=1), "malam")),
    ],
)
def test_the_running_shift(at: datetime, expected: tuple[date, str]) -> None:
    assert shift_of(at.astimezone(UTC)) == expected


def test_a_room_report_of_the_morning_shift() -> None:
    calls = [
        call("c1", 8, answer_s=5, disposition="emergency"),
        call("c2", 9, answer_s=18, disposition="prank"),
        call("c3", 10, abandon_s=40),
        call("c4", 11, answer_s=3, disposition="silent"),
        call("c5", 12),
        call("c6", 6.9, answer_s=1),
        call("c7", 15, answer_s=1),
    ]  # c6, c7: other shifts
    incidents = [
        incident(
            1, tasks=(task("bpbd", base=wib(8), ack=25, resolved=1800), task("pupr", base=wib(8), ack=90)), at=wib(8)
        ),
        incident(2, "fire", tasks=(task("damkar", base=wib(16), ack=10),), at=wib(16)),
    ]  # next shift
    report = build(calls, incidents, DAY, "pagi", None, now=wib(15))

    assert report.calls is not None
    assert (report.calls.offered, report.calls.answered, report.calls.abandoned) == (5, 3, 1)
    assert report.calls.pct_within_15 == 50.0  # 2 of 3 answered + 1 abandoned after 40 s
    assert report.calls.prank_ghost == 2
    assert dict(report.dispositions) == {"emergency": 1, "prank": 1, "silent": 1, "abandoned": 1, "unmarked": 1}
    assert report.incidents == 1 and report.incidents_by_type == (("flood", 1),)
    times = {a.agency: a for a in report.agencies}
    assert list(times) == list(AGENCIES)
    assert (times["bpbd"].ack_p50_s, times["bpbd"].resolve_p90_s, times["bpbd"].within) == (25.0, 1800.0, 1)
    assert times["pupr"].missed == 1 and times["damkar"].tasks == 0
    assert report.hours == list(range(7, 15))

    figures = parsed(to_csv(report))
    assert figures["report", "shift", ""] == "pagi" and figures["report", "scope", ""] == "room"
    assert figures["report", "start", ""] == "2023-08-07T07:00:00+07:00"
    assert (figures["calls", "offered", ""], figures["calls", "pct_within_15", ""]) == ("5", "50")
    assert figures["calls", "prank_ghost_pct", ""] == "40"
    assert figures["disposition", "unmarked", ""] == "1"
    assert figures["calls_per_hour", "08", ""] == "1" and ("calls_per_hour", "15", "") not in figures
    assert figures["agency", "ack_p50_s", "bpbd"] == "25" and figures["agency", "tasks", "dlh"] == "0"
    assert figures["agency", "ack_p50_s", "dlh"] == ""  # no value, not 0
    assert figures["incident_type", "flood", ""] == "1"


def test_an_agency_report_has_only_that_agency_and_no_call_figures() -> None:
    mine = incident(1, tasks=(task("bpbd", base=wib(9), ack=25), task("pupr", base=wib(9), ack=5)), at=wib(9))
    other = incident(2, tasks=(task("dlh", base=wib(9), ack=5),), at=wib(9))
    report = build([call("c1", 9, answer_s=2)], [mine, other], DAY, None, "bpbd", wib(23))

    assert report.calls is None and report.dispositions == ()
    assert report.incidents == 1 and [a.agency for a in report.agencies] == ["bpbd"]
    figures = parsed(to_csv(report))
    assert not any(section == "calls" for section, _, _ in figures)
    assert figures["incidents", "created", "bpbd"] == "1" and figures["agency", "ack_p90_s", "bpbd"] == "25"
    with pytest.raises(ValueError):
        build([], [], DAY, None, "polisi", wib(23))


def test_an_empty_day_has_every_row_with_zero_or_empty_values() -> None:
    report = build([], [], DAY, None, None, now=wib(30))
    figures = parsed(to_csv(report))
    assert figures["calls", "offered", ""] == "0" and figures["calls", "pct_within_15", ""] == ""
    assert sum(1 for s, _, _ in figures if s == "calls_per_hour") == 24
    assert not any(s == "disposition" for s, _, _ in figures)
    assert figures["incidents", "created", ""] == "0"
    assert {a for s, m, a in figures if s == "agency"} == set(AGENCIES)


def test_csv_cells_cannot_start_a_spreadsheet_formula() -> None:
    report = build([call("c1", 9, answer_s=2, disposition='=HYPERLINK("x")')], [], DAY, None, None, wib(23))
    [row] = [r for r in rows(report) if r[0] == "disposition"]
    assert row[1] == '\'=HYPERLINK("x")'


def test_bar_chart_escapes_its_text_and_draws_empty_values() -> None:
    svg = bars_svg([("<b>BPBD</b>", 30.0), ("DLH", None)], title="p90 <i>", limit=20, limit_label="60 s & more")
    assert "<b>" not in svg and "&lt;b&gt;BPBD&lt;/b&gt;" in svg and "p90 &lt;i&gt;" in svg
    assert "–" in svg and "#b00020" in svg and "60 s &amp; more" in svg
    assert bars_svg([], title="kosong").startswith("<svg")
