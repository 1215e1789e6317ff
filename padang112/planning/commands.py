"""What ``padang112 sim-day`` and ``padang112 staffing`` do (their arguments are in :mod:`padang112.planning.cli`)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from typing import Any

from padang112.planning import figures, staffing
from padang112.planning import profile as profiles
from padang112.planning.day import DayResult, VirtualDay
from padang112.planning.figures import Period
from padang112.stats.shift_report import SHIFTS

HtmlReport = Callable[[DayResult, list[staffing.Advice], str], str]


def _load(name: str) -> profiles.Profile | None:
    try:
        return profiles.load(name)
    except profiles.ProfileError as exc:
        print(f"padang112: {exc}", file=sys.stderr)
        return None


def shift_advice(advice: list[staffing.Advice]) -> dict[str, int]:
    """Seats a shift needs: its busiest hour's."""
    by_hour = {a.hour: a.seats for a in advice}
    return {
        name: max(by_hour[(first + n) % 24] for n in range((last - first) % 24))
        for name, (first, last) in SHIFTS.items()
    }


def run_staffing(settings: Any, args: argparse.Namespace) -> int:
    profile = _load(args.profile)
    if profile is None:
        return 2
    advice = staffing.from_profile(profile)
    print(f"{profile.name}: seats for 90 % answered <=15 s and 95 % <=20 s (Erlang A, busiest 15 min of each hour)")
    print("hour  calls/h  handle_s  patience_s  seats  staffed  =>15s%  =>20s%  abandon%  occupancy%")
    for a in advice:
        load = a.load
        print(
            f"{a.hour:02d}:00 {load.calls_per_hour:8.1f}  {load.handle_s:8.0f}  {load.patience_s:10.0f}"
            f"  {a.seats:5d}  {profile.seats_at_hour(a.hour):7d}  {_model_cells(a)}"
        )
    for name, seats in shift_advice(advice).items():
        print(f"shift {name:6s} advised {seats:3d}  staffed {profile.seats[name]:3d}")
    return 0


def _model_cells(advice: staffing.Advice) -> str:
    f, ring = advice.figures, advice.load.ring_s
    if f is None:
        return "     –       –         –           –"
    within_15, within_20 = (f.answered_within[max(0.0, t - ring)] * 100 for t in (15.0, 20.0))
    return f"{within_15:6.1f}  {within_20:6.1f}  {f.p_abandon * 100:8.2f}  {f.occupancy * 100:10.1f}"


def run_sim_day(settings: Any, args: argparse.Namespace, to_html: HtmlReport) -> int:
    profile = _load(args.profile)
    if profile is None:
        return 2
    advice = staffing.from_profile(profile)
    seats = None
    if args.advised:
        by_hour = {a.hour: a.seats for a in advice}
        seats = [by_hour[(7 + h) % 24] for h in range(int(args.hours + 0.999))]
    day = VirtualDay(profile, args.seed, args.date, hours=args.hours, seats_by_hour=seats)
    result = asyncio.run(day.run())
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"sim-{profile.name}-{args.seed}"
    html, csv_path = stem.with_suffix(".html"), stem.with_suffix(".csv")
    html.write_text(to_html(result, advice, args.lang), encoding="utf-8")
    csv_path.write_text(figures.to_csv(result, advice), encoding="utf-8")
    parts = figures.periods(result, advice)
    print(
        f"{profile.name} seed {args.seed}: {len(day.callers)} callers, {result.commands} room commands, "
        f"{len(result.incidents)} incidents, simulated in {result.wall_s:.2f} s"
    )
    print("period  seats advised offered answered abandoned  <=15s%  <=20s%  avg_s  p90_s  occupancy%  callbacks")
    for p in [*parts["shift"], *parts["day"]]:
        print(_line(p))
    print(f"report: {html}  csv: {csv_path}")
    return 0


def _line(p: Period) -> str:
    sl = p.calls

    def num(v: float | None, width: int) -> str:
        return f"{v:{width}.1f}" if v is not None else " " * (width - 1) + "–"

    advised = f"{p.advised:7d}" if p.advised is not None else "      –"
    return (
        f"{p.label:6s} {p.staffed:6.1f} {advised} {sl.offered:7d} {sl.answered:8d} {sl.abandoned:9d}  "
        f"{num(sl.pct_within_15, 6)}  {num(sl.pct_within_20, 6)} {num(sl.avg_answer_s, 6)} {num(sl.p90_answer_s, 6)}"
        f"  {num(p.occupancy_pct, 10)}  {p.callbacks:9d}"
    )
