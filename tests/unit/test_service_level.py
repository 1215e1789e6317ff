"""Service level figures from hand-made call records (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import pytest

from padang112.stats.service_level import (
    TARGET_15_PCT,
    ServiceLevel,
    chart_svg,
    compute,
    percentile_nearest_rank,
)
from padang112.storage.records import CallRecord

UTC = UTC
# 2023-08-07 00:00 WIB is 2023-08-06 17:00 UTC
DAY_START = datetime(2023, 8, 6, 17, 0, tzinfo=UTC)
DAY_END = DAY_START + timedelta(days=1)
T0 = DAY_START + timedelta(hours=8)  # 08:00 WIB


def call(
    cid: str,
    at: datetime,
    *,
    answer_s: float | None = None,
    abandon_s: float | None = None,
    state: str | None = None,
    disposition: str | None = None,
) -> CallRecord:
    connected = at + timedelta(seconds=answer_s) if answer_s is not None else None
    ended = (
        connected + timedelta(seconds=60)
        if connected
        else at + timedelta(seconds=abandon_s)
        if abandon_s is not None
        else None
    )
    if state is None:
        state = "ended" if connected else "abandoned" if abandon_s is not None else "queued"
    return CallRecord(
        id=cid,
        state=state,
        via="controller",
        received_at=at,
        updated_at=ended or at,
        connected_at=connected,
        ended_at=ended,
        disposition=disposition,
    )


def test_an_empty_window_divides_by_nothing_and_shows_dashes() -> None:
    sl = compute([], DAY_START, DAY_END)

    assert (sl.offered, sl.answered, sl.abandoned, sl.open) == (0, 0, 0, 0)
    assert sl.pct_within_15 is None and sl.pct_within_20 is None
    assert sl.avg_answer_s is None and sl.p90_answer_s is None and sl.prank_ghost_pct is None
    assert sl.per_hour == (0,) * 24
    assert not sl.below_target_15 and not sl.below_target_20
    for name in ("pct_within_15", "pct_within_20", "avg_answer_s", "p90_answer_s", "prank_ghost_pct"):
        assert sl.text(name) == "–" and sl.text(name, "en") == "–"
    data = sl.to_json()
    assert data["pct_within_15"] is None and data["start"] == "2023-08-07T00:00:00+07:00"
    assert data["end"] == "2023-08-08T00:00:00+07:00"


def test_answers_at_exactly_15_and_20_seconds_count_as_within() -> None:
    calls = [
        call("a", T0, answer_s=15.0),
        call("b", T0, answer_s=15.000001),
        call("c", T0, answer_s=20.0),
        call("d", T0, answer_s=20.5),
    ]
    sl = compute(calls, DAY_START, DAY_END)

    assert (sl.answered_within_15, sl.answered_within_20) == (1, 3)
    assert (sl.base_15, sl.base_20) == (4, 4)
    assert sl.pct_within_15 == 25.0 and sl.pct_within_20 == 75.0
    assert sl.below_target_15 and sl.below_target_20
    assert sl.text("pct_within_20") == "75,0 %" and sl.text("pct_within_20", "en") == "75.0 %"


def test_short_abandons_are_left_out_and_long_ones_count_against_the_level() -> None:
    calls = [
        call("a", T0, answer_s=5),
        call("b", T0, answer_s=8),
        call("c", T0, abandon_s=10),  # short: out
        call("d", T0, abandon_s=15.0),  # not after 15 s: out of the 15 s base, also out of the 20 s one
        call("e", T0, abandon_s=18),  # counts for 15 s, not for 20 s
        call("f", T0, abandon_s=40),
        call("g", T0, state="queued"),
    ]  # open: out
    sl = compute(calls, DAY_START, DAY_END)

    assert (sl.offered, sl.answered, sl.abandoned, sl.open) == (7, 2, 4, 1)
    assert (sl.base_15, sl.base_20) == (2 + 2, 2 + 1)
    assert sl.pct_within_15 == 50.0
    assert sl.pct_within_20 == pytest.approx(200 / 3)
    assert sl.text("pct_within_20") == "66,7 %"


def test_all_answered_fast_meets_the_targets() -> None:
    sl = compute([call(str(i), T0, answer_s=3) for i in range(10)], DAY_START, DAY_END)
    assert sl.pct_within_15 == 100.0 >= TARGET_15_PCT and not sl.below_target_15 and not sl.below_target_20
    assert sl.to_json()["below_target_15"] is False


def test_average_and_p90_over_ten_answer_times() -> None:
    times = [4, 1, 10, 3, 9, 2, 8, 5, 7, 6]
    sl = compute(
        [call(f"c{i}", T0, answer_s=s) for i, s in enumerate(times)] + [call("x", T0, abandon_s=30)], DAY_START, DAY_END
    )

    assert sl.avg_answer_s == 5.5
    assert sl.p90_answer_s == 9  # nearest rank: the 9th of 10 sorted values
    assert sl.text("avg_answer_s") == "5,5 dtk" and sl.text("p90_answer_s", "en") == "9.0 s"
    assert percentile_nearest_rank([7.0], 90) == 7.0
    assert percentile_nearest_rank(list(range(1, 21)), 90) == 18
    assert percentile_nearest_rank([], 90) is None


def test_calls_are_bucketed_by_the_wib_hour_around_midnight() -> None:
    calls = [
        call("before", DAY_START - timedelta(seconds=1)),  # 23:59:59 WIB the day before: outside
        call("midnight", DAY_START),  # 00:00:00 WIB = 17:00 UTC
        call("early", DAY_START + timedelta(minutes=59, seconds=59)),  # 00:59:59 WIB
        call("one", DAY_START + timedelta(hours=1)),  # 01:00 WIB
        call("utc-midnight", datetime(2023, 8, 7, 0, 0, tzinfo=UTC)),  # 07:00 WIB
        call("late", DAY_END - timedelta(microseconds=1)),  # 23:59:59.999999 WIB
        call("next-day", DAY_END),  # end is exclusive
    ]
    sl = compute(calls, DAY_START, DAY_END)

    assert sl.offered == 5
    expected = [0] * 24
    expected[0], expected[1], expected[7], expected[23] = 2, 1, 1, 1
    assert sl.per_hour == tuple(expected)


def test_a_call_listed_twice_is_offered_once_and_the_latest_record_counts() -> None:
    handed = call("h", T0, state="handed_over")
    resumed = call("h", T0, answer_s=30)  # the fallback import continued the same call
    sl = compute([handed, resumed], DAY_START, DAY_END)

    assert (sl.offered, sl.answered, sl.open) == (1, 1, 0)
    assert sl.per_hour[8] == 1


def test_prank_and_ghost_share_of_offered() -> None:
    calls = [
        call("p", T0, answer_s=3, disposition="prank"),
        call("s", T0, answer_s=3, disposition="silent"),
        call("e", T0, answer_s=3, disposition="emergency"),
        call("w", T0, answer_s=3, disposition=None),
    ]
    sl = compute(calls, DAY_START, DAY_END)

    assert sl.prank_ghost == 2 and sl.prank_ghost_pct == 50.0


def test_naive_window_bounds_are_refused() -> None:
    with pytest.raises(ValueError):
        compute([], datetime(2023, 8, 7), DAY_END)


def test_the_result_is_frozen() -> None:
    sl = compute([], DAY_START, DAY_END)
    with pytest.raises(AttributeError):
        sl.offered = 3  # type: ignore[misc]
    assert isinstance(sl, ServiceLevel)


def test_chart_is_well_formed_svg_with_24_hour_labels_and_escaped_text() -> None:
    counts = [0] * 24
    counts[8], counts[23] = 5, 2
    svg = chart_svg(counts, title='<script>alert("x")</script> & co')

    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&amp; co" in svg
    root = ElementTree.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    label_y = str(int(root.get("height", "0")) - 4)
    hour_labels = [t.text for t in root.iter(ns + "text") if t.get("y") == label_y]
    assert hour_labels == [f"{h:02d}" for h in range(24)]
    bars = list(root.iter(ns + "rect"))
    assert len(bars) == 24
    heights = [int(bar.get("height", "-1")) for bar in bars]
    assert heights[8] > heights[23] > 0 == heights[0]
    assert "<script" not in svg.lower()


def test_chart_refuses_anything_but_24_counts() -> None:
    with pytest.raises(ValueError):
        chart_svg([1, 2, 3])
    with pytest.raises(ValueError):
        chart_svg([-1] + [0] * 23)
