"""The arguments of ``padang112 sim-day`` and ``padang112 staffing``. Light on purpose: the command line imports it
at start, the simulation itself (:mod:`padang112.planning.commands`) only when one of these commands runs."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

DEFAULT_DAY = date(2026, 3, 2)  # a Monday; the day only names the dates in the report


def add_parsers(sub: Any) -> Any:
    """Add sim-day and staffing; returns the sim-day parser, whose func the caller sets: it needs the
    console's HTML report (padang112.web.sim_report), which the planning package does not import."""
    sim = sub.add_parser("sim-day", help="simulate a day of the room on a virtual clock (no Asterisk)")
    sim.add_argument("--profile", required=True, help="profile name (padang-weekday, padang-earthquake) or TOML file")
    sim.add_argument("--seed", type=int, default=1)
    sim.add_argument("--date", type=date.fromisoformat, default=DEFAULT_DAY, help="WIB date the day starts on")
    sim.add_argument("--hours", type=float, default=24.0, help="length of the day from 07:00 WIB (default 24)")
    sim.add_argument("--advised", action="store_true", help="staff each hour with the seats Erlang A advises")
    sim.add_argument("--out", type=Path, default=Path("."), help="folder for the HTML and CSV report (default .)")
    sim.add_argument("--lang", choices=("id", "en"), default="id")
    adv = sub.add_parser("staffing", help="seats needed per hour and shift for 90 %% ≤15 s and 95 %% ≤20 s")
    adv.add_argument("--profile", required=True, help="profile name or TOML file")
    adv.set_defaults(func=_staffing)
    return sim


def _staffing(settings: Any, args: argparse.Namespace) -> int:
    from padang112.planning import commands

    return commands.run_staffing(settings, args)
