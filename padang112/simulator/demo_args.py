"""The command line of ``padang112 simulate`` (see ``demo.py``)."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from padang112 import config


def build_parser(settings: config.Settings) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="padang112 simulate",
        description="Call-taker softphones and citizens calling 112, against the configured Asterisk.",
    )
    p.add_argument(
        "--seats",
        type=int,
        default=None,
        help=f"seats to register (default: all {len(settings.seats)} configured seats)",
    )
    p.add_argument(
        "--seat-names",
        default=None,
        metavar="SEAT,SEAT",
        help="exactly these configured seats (instead of the first --seats)",
    )
    p.add_argument(
        "--answer-after",
        type=float,
        default=None,
        metavar="SECONDS",
        help="seats answer after this many seconds (default: random 1-3 s)",
    )
    p.add_argument(
        "--talk",
        type=float,
        default=None,
        metavar="SECONDS",
        help="seats hang up after this much talk (default: random 5-20 s)",
    )
    p.add_argument(
        "--rate",
        type=float,
        default=6.0,
        metavar="CALLS_PER_MIN",
        help="average citizen calls per minute, Poisson arrivals (default 6)",
    )
    p.add_argument(
        "--duration",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="how long the simulation runs once started (0 = until Ctrl-C, the default)",
    )
    p.add_argument(
        "--patience",
        type=float,
        default=180.0,
        metavar="SECONDS",
        help="a citizen hangs up this long after the switch answers, whatever happens (default 180)",
    )
    p.add_argument(
        "--impatient",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="share of citizens who hang up after 6-25 s if nobody answers (default 0)",
    )
    p.add_argument(
        "--burst",
        type=int,
        default=0,
        metavar="CALLS",
        help="every --burst-every seconds this many citizens call at once (default 0: none)",
    )
    p.add_argument(
        "--burst-every", type=float, default=120.0, metavar="SECONDS", help="(default 120; first after 20 s)"
    )
    p.add_argument(
        "--room",
        action="store_true",
        help="a living room: simulated call takers and agency operators at the console, demo cameras",
    )
    p.add_argument("--free-seats", type=int, default=2, metavar="N", help="with --room: seats left for people (2)")
    p.add_argument("--no-seats", action="store_true", help="no softphones (use real ones)")
    p.add_argument("--no-callers", action="store_true", help="no citizens (call in from elsewhere)")
    p.add_argument("--log", type=Path, default=None, help="simulator engine log (default: <state_dir>/simulator.log)")
    replay = p.add_argument_group("replay a day profile (instead of --rate callers)")
    replay.add_argument("--profile", help="profile name or TOML file: its callers, compressed by --speed")
    replay.add_argument("--speed", type=float, default=60.0, help="simulated seconds per real second (default 60)")
    replay.add_argument("--seed", type=int, default=1)
    replay.add_argument("--start", type=int, default=7, metavar="HOUR", help="WIB hour the replay starts (default 7)")
    replay.add_argument("--hours", type=float, default=24.0, help="simulated hours to replay (default 24)")
    return p


def log_path(settings: config.Settings, chosen: Path | None) -> Path:
    for path in (chosen, settings.state_dir / "simulator.log"):
        if path is None:
            continue
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.open("a").close()
            return path
        except OSError:
            continue
    return Path(tempfile.gettempdir()) / "padang112-simulator.log"
