"""The day simulation: the real room on a virtual clock, its figures, and Erlang A's advice checked against it."""

from __future__ import annotations

import dataclasses
import time
from datetime import date

import pytest

from padang112.planning import figures, profile, staffing
from padang112.planning.callers import draw
from padang112.planning.day import VirtualDay
from padang112.stats.service_level import TARGET_15_PCT, TARGET_20_PCT, compute
from padang112.web import sim_report

DAY = date(2026, 3, 2)


@pytest.fixture(scope="module")
def weekday() -> profile.Profile:
    return profile.load("padang-weekday")


async def test_a_whole_weekday_runs_in_seconds_and_every_caller_is_counted(weekday: profile.Profile) -> None:
    began = time.perf_counter()
    day = VirtualDay(weekday, 7, DAY)
    result = await day.run()
    took = time.perf_counter() - began
    print(f"\nweekday: {len(day.callers)} callers, {result.commands} commands, {took:.2f} s")
    assert took < 10.0
    sl = compute(result.calls, result.start, result.end)
    assert sl.offered == len(day.callers) > 100
    assert sl.open == 0 and sl.answered + sl.abandoned == sl.offered
    assert {c.disposition for c in result.calls} >= {"prank", "silent", "information", "abandoned"}
    assert result.callbacks_created  # callers who gave up are on the call-back list
    assert day.flagged > 0  # the prank pool's numbers were flagged by the real prank scores
    assert all(c.seat for c in result.calls if c.connected_at)


async def test_the_same_seed_gives_the_same_day(weekday: profile.Profile) -> None:
    one = await VirtualDay(weekday, 3, DAY, hours=4).run()
    two = await VirtualDay(weekday, 3, DAY, hours=4).run()
    assert [(c.id, c.state, c.connected_at) for c in one.calls] == [(c.id, c.state, c.connected_at) for c in two.calls]


def test_callers_follow_the_profile(weekday: profile.Profile) -> None:
    callers = draw(weekday, 1, 0.0, 24 * 28)  # four weeks, for the shares to settle
    share = {k: sum(1 for c in callers if c.cls == k) / len(callers) for k in weekday.classes}
    assert len(callers) / 28 == pytest.approx(sum(weekday.per_hour), rel=0.05)
    for name, cls in weekday.classes.items():
        assert share[name] == pytest.approx(cls.share, abs=0.02)
    pranks = {c.number for c in callers if c.cls == "prank"}
    assert len(pranks) <= weekday.classes["prank"].prank_pool


async def test_an_earthquake_surge_fills_the_queue_and_the_agencies() -> None:
    quake = profile.load("padang-earthquake")
    day = VirtualDay(quake, 1, DAY, start_hour=14, hours=1.0)
    result = await day.run()
    hour = figures.hours(result)[0]
    assert hour.calls.offered > 150
    assert hour.calls.pct_within_15 is not None and hour.calls.pct_within_15 < TARGET_15_PCT
    assert hour.callbacks > 20
    assert hour.occupancy_pct is not None and hour.occupancy_pct > 50  # the surge covers 14:21-14:51
    tasks = [t for i in result.incidents for t in i.tasks]
    assert tasks and any(t.escalated_at for t in tasks)  # the real escalation rule, on the virtual clock
    assert any(t.acknowledged_at for t in tasks)


async def test_the_seats_erlang_a_advises_meet_the_target_in_simulation(weekday: profile.Profile) -> None:
    """A busy flat load (150 calls an hour): the advised seats, simulated with the real room, meet 90 % ≤ 15 s and
    95 % ≤ 20 s within 2 points; with one seat fewer (which the model says misses a target) the simulation does at
    least as well as the model predicts, less 4 points. The model is conservative: it assumes exponential talk times,
    the profile's are less spread (lognormal, cv 0.6), so the simulated room does somewhat better than predicted."""
    busy = dataclasses.replace(weekday, per_hour=(150.0,) * 24)
    advice = staffing.from_profile(busy)[10]
    load = advice.load
    short = staffing.erlang_a(advice.seats - 1, load.calls_per_hour, load.handle_s, load.patience_s, (12.0, 17.0))
    assert short.answered_within[12.0] < TARGET_15_PCT / 100 or short.answered_within[17.0] < TARGET_20_PCT / 100
    for seats, floor_15, floor_20 in (
        (advice.seats, TARGET_15_PCT - 2, TARGET_20_PCT - 2),
        (advice.seats - 1, short.answered_within[12.0] * 100 - 4, 0.0),
    ):
        result = await VirtualDay(busy, 11, DAY, hours=3, start_hour=10, seats_by_hour=[seats] * 3).run()
        sl = compute(result.calls, result.start, result.end)
        print(f"\n{seats} seats: {sl.pct_within_15:.1f} % <=15 s, {sl.pct_within_20:.1f} % <=20 s of {sl.offered}")
        assert sl.pct_within_15 is not None and sl.pct_within_15 >= floor_15
        assert sl.pct_within_20 is not None and sl.pct_within_20 >= floor_20


def test_staffing_advice_follows_the_surge() -> None:
    quake = staffing.from_profile(profile.load("padang-earthquake"))
    normal = staffing.from_profile(profile.load("padang-weekday"))
    assert quake[14].seats > 3 * normal[14].seats
    assert [a.seats for a in quake[15:]] == [a.seats for a in normal[15:]]
    assert all(a.seats >= 1 for a in normal)


async def test_the_report_has_every_hour_and_shift(weekday: profile.Profile) -> None:
    result = await VirtualDay(weekday, 5, DAY).run()
    advice = staffing.from_profile(weekday)
    html = sim_report.to_html(result, advice, "en")
    assert html.count('data-period="') == 24 + 3 + 1
    assert "<svg" in html and "Seat occupancy" in html
    rows = figures.to_csv(result, advice).splitlines()
    assert rows[0].startswith("scope,period,start,seats_staffed,seats_advised")
    assert sum(1 for r in rows if r.startswith("hour,")) == 24
    assert [r.split(",")[1] for r in rows if r.startswith("shift,") and r.split(",")[16] == ""] == [
        "pagi",
        "siang",
        "malam",
    ]


def test_a_bad_profile_names_every_problem(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.toml"
    bad.write_text('extends = "padang-weekday"\n[arrivals]\nper_hour = [1, 2]\n[classes.prank]\nshare = 0.9\n')
    with pytest.raises(profile.ProfileError) as caught:
        profile.load(str(bad))
    assert "per_hour must list 24" in str(caught.value) and "sum to" in str(caught.value)
    with pytest.raises(profile.ProfileError, match="shipped: padang-earthquake, padang-weekday"):
        profile.load("nowhere")


def test_the_staffing_command_prints_every_hour_and_shift(capsys: pytest.CaptureFixture[str]) -> None:
    from padang112 import cli

    assert cli.main(["staffing", "--profile", "padang-earthquake"]) == 0
    out = capsys.readouterr().out
    assert out.count(":00 ") == 24
    assert "shift pagi   advised  18  staffed   3" in out


def test_sim_day_writes_its_report_and_csv(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    from padang112 import cli

    assert cli.main(["sim-day", "--profile", "padang-weekday", "--hours", "2", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "sim-padang-weekday-1.html").read_text().startswith("<!doctype html>")
    assert (tmp_path / "sim-padang-weekday-1.csv").read_text().startswith("scope,period")
    assert "simulated in" in capsys.readouterr().out
