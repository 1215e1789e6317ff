"""The supervisor's surge figures: arrivals, abandoned calls in the last 5 minutes and the queue's trend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from padang112.domain.events import CallTransition
from padang112.stats.surge import BUCKETS, SurgeMeter

T0 = datetime(2026, 12, 2, 7, 21, tzinfo=UTC)  # 14:21 WIB


def arrive(meter: SurgeMeter, call: str, at: datetime) -> None:
    meter.observe(CallTransition(call, at, None, "received"))
    meter.observe(CallTransition(call, at, "received", "queued"))


def test_an_earthquake_minute_shows_as_a_peak_and_abandoned_calls_not_as_rows() -> None:
    meter = SurgeMeter()
    for n in range(400):  # 400 callers in 16 s
        at = T0 + timedelta(seconds=n * 0.04)
        arrive(meter, f"c{n}", at)
        meter.sample(at, n + 1)
    for n in range(326):  # most give up within the next two minutes
        meter.observe(CallTransition(f"c{n}", T0 + timedelta(seconds=30 + n * 0.3), "queued", "abandoned"))
    view = meter.view(T0 + timedelta(minutes=3))
    assert view["abandoned_5min"] == 326 and view["arrived_5min"] == 400
    assert len(view["trend"]) == BUCKETS and max(p["waiting"] for p in view["trend"]) == 400
    assert sum(p["abandoned"] for p in view["trend"]) == 326
    assert [p["t"] for p in view["trend"]] == sorted(p["t"] for p in view["trend"])


def test_abandoned_calls_leave_the_5_minute_figure_and_old_buckets_leave_the_trend() -> None:
    meter = SurgeMeter()
    arrive(meter, "a", T0)
    meter.observe(CallTransition("a", T0 + timedelta(seconds=20), "queued", "abandoned"))
    assert meter.view(T0 + timedelta(minutes=4))["abandoned_5min"] == 1
    later = meter.view(T0 + timedelta(minutes=6))
    assert later["abandoned_5min"] == 0 and sum(p["abandoned"] for p in later["trend"]) == 1
    gone = meter.view(T0 + timedelta(minutes=11))
    assert sum(p["abandoned"] + p["arrived"] for p in gone["trend"]) == 0
    assert all(p["waiting"] == 0 for p in gone["trend"])


def test_a_late_event_counts_in_its_own_bucket() -> None:
    meter = SurgeMeter()
    meter.sample(T0 + timedelta(seconds=30), 3)
    meter.observe(CallTransition("x", T0 + timedelta(seconds=5), "queued", "abandoned"))
    trend = meter.view(T0 + timedelta(seconds=40))["trend"]
    by_t = {p["t"]: p for p in trend}
    assert by_t[int(T0.timestamp())]["abandoned"] == 1 and by_t[int(T0.timestamp()) + 30]["waiting"] == 3
