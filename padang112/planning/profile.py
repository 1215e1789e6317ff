"""Day profiles (``padang112/data/profiles/*.toml``): how many call, who, how long they talk, who is on duty.

A profile may ``extends`` another one (tables are merged key by key, its own values win). :func:`load` checks
everything at once and raises :class:`ProfileError` listing every problem, so a bad file never starts a day.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from padang112.incidents.catalog import load_catalog
from padang112.incidents.model import AGENCIES
from padang112.stats.shift_report import SHIFTS

DATA_PACKAGE = "padang112.data"
CLASSES = ("genuine", "information", "prank", "silent", "dropped", "repeat")


class ProfileError(ValueError):
    """The profile is missing or malformed (the message lists every problem)."""


@dataclass(frozen=True)
class CallClass:
    name: str
    share: float
    talk_s: float
    wrap_s: float
    patience_s: float
    ends: str  # "caller" or "seat": who hangs up when the talk is over
    disposition: str
    incident: bool = False
    repeat: bool = False
    prank_pool: int = 0  # > 0: the class's numbers come from a pool this size (they call again)


@dataclass(frozen=True)
class Surge:
    start_s: float  # seconds after 00:00 WIB
    minutes: float
    factor: float
    mix: dict[str, float]
    types: dict[str, float]

    @property
    def end_s(self) -> float:
        return self.start_s + self.minutes * 60


@dataclass(frozen=True)
class Profile:
    name: str
    title: str
    per_hour: tuple[float, ...]  # calls offered per WIB hour 00..23
    classes: dict[str, CallClass]
    surges: tuple[Surge, ...]
    cv: float
    answer_s: float
    no_answer_share: float
    back_after_pause_s: float
    ring_timeout_s: float
    wrap_up_s: float
    position_announce_s: float
    callback_deadline_s: float
    seats: dict[str, int]  # shift name -> seats signed in
    victims_share: float
    incident_types: dict[str, float]
    ack_s: dict[str, float]
    resolve_min: dict[str, float]

    def seats_at_hour(self, hour: int) -> int:
        for name, (first, last) in SHIFTS.items():
            if (first <= hour < last) if first < last else (hour >= first or hour < last):
                return self.seats[name]
        raise AssertionError("the shifts cover the day")

    def rate_per_s(self, at_s: float) -> float:
        """Arrival rate (calls per second) at ``at_s`` seconds after 00:00 WIB, surges included."""
        base = self.per_hour[int(at_s // 3600) % 24] / 3600.0
        return base * self.surge_factor(at_s)

    def surge_factor(self, at_s: float) -> float:
        return next((s.factor for s in self.surges if s.start_s <= at_s < s.end_s), 1.0)

    def surge_at(self, at_s: float) -> Surge | None:
        return next((s for s in self.surges if s.start_s <= at_s < s.end_s), None)


def names() -> list[str]:
    """The shipped profiles."""
    folder = resources.files(DATA_PACKAGE) / "profiles"
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))


def load(name_or_path: str) -> Profile:
    """A shipped profile by name (``padang-weekday``) or a TOML file by path."""
    raw = _read(name_or_path)
    parent = raw.pop("extends", None)
    if parent is not None:
        raw = _merge(_read(str(parent)), raw)
        raw.pop("extends", None)
    return _parse(raw, name_or_path)


def _read(name_or_path: str) -> dict[str, Any]:
    path = Path(name_or_path)
    try:
        if path.suffix == ".toml" or "/" in name_or_path:
            text = path.read_text(encoding="utf-8")
        else:
            text = (resources.files(DATA_PACKAGE) / "profiles" / f"{name_or_path}.toml").read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError):
        raise ProfileError(f"no profile {name_or_path!r}; shipped: {', '.join(names())}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"profile {name_or_path}: {exc}") from None


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


class _Checker:
    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []

    def number(self, table: dict[str, Any], key: str, where: str, low: float = 0.0, default: Any = None) -> float:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < low:
            self.problems.append(f"{where}.{key} must be a number ≥ {low:g} (got {value!r})")
            return low
        return float(value)

    def shares(self, table: Any, where: str, allowed: tuple[str, ...] | None) -> dict[str, float]:
        if not isinstance(table, dict) or not table:
            self.problems.append(f"{where} must be a table of shares")
            return {}
        out = {}
        for key in table:
            if allowed is not None and key not in allowed:
                self.problems.append(f"{where}: unknown {key!r} (known: {', '.join(allowed)})")
            out[key] = self.number(table, key, where)
        if out and abs(sum(out.values()) - 1.0) > 0.005:
            self.problems.append(f"{where}: shares sum to {sum(out.values()):.3f}, not 1")
        return out


def _parse(raw: dict[str, Any], source: str) -> Profile:
    check = _Checker(source)
    codes = load_catalog().codes()
    per_hour = raw.get("arrivals", {}).get("per_hour")
    if not isinstance(per_hour, list) or len(per_hour) != 24:
        check.problems.append("arrivals.per_hour must list 24 hourly counts")
        per_hour = [0] * 24
    hours = tuple(check.number({"h": v}, "h", f"arrivals.per_hour[{i}]") for i, v in enumerate(per_hour))
    classes = {}
    for name in CLASSES:
        table = raw.get("classes", {}).get(name)
        if not isinstance(table, dict):
            check.problems.append(f"classes.{name} is missing")
            continue
        where = f"classes.{name}"
        ends = table.get("ends", "caller")
        if ends not in ("caller", "seat"):
            check.problems.append(f"{where}.ends must be 'caller' or 'seat'")
        classes[name] = CallClass(
            name,
            check.number(table, "share", where),
            check.number(table, "talk_s", where, 1.0),
            check.number(table, "wrap_s", where, 0.0),
            check.number(table, "patience_s", where, 1.0),
            ends,
            str(table.get("disposition", "")),
            bool(table.get("incident", False)),
            bool(table.get("repeat", False)),
            int(check.number(table, "prank_pool", where, 0.0, default=0)),
        )
    check.shares({k: c.share for k, c in classes.items()}, "classes.*.share", CLASSES)
    surges = []
    for i, table in enumerate(raw.get("surge", [])):
        where = f"surge[{i}]"
        try:
            hh, mm = (int(x) for x in str(table.get("start", "")).split(":"))
            start = hh * 3600 + mm * 60
        except ValueError:
            check.problems.append(f"{where}.start must be HH:MM (WIB)")
            start = 0
        surges.append(
            Surge(
                start,
                check.number(table, "minutes", where, 1.0),
                check.number(table, "factor", where, 0.0),
                check.shares(table.get("mix", {k: c.share for k, c in classes.items()}), f"{where}.mix", CLASSES),
                check.shares(table.get("types", raw.get("incidents", {}).get("types")), f"{where}.types", codes),
            )
        )
    times, room, seats = raw.get("times", {}), raw.get("room", {}), raw.get("seats", {})
    incidents, agencies = raw.get("incidents", {}), raw.get("agencies", {})
    seat_counts = {shift: int(check.number(seats, shift, "seats", 1.0)) for shift in SHIFTS}
    ack = {a: check.number(agencies.get("ack_s", {}), a, "agencies.ack_s", 1.0) for a in AGENCIES}
    resolve = {a: check.number(agencies.get("resolve_min", {}), a, "agencies.resolve_min", 1.0) for a in AGENCIES}
    profile = Profile(
        name=str(raw.get("name", Path(source).stem)),
        title=str(raw.get("title", "")),
        per_hour=hours,
        classes=classes,
        surges=tuple(surges),
        cv=check.number(times, "cv", "times", 0.0, default=0.6),
        answer_s=check.number(times, "answer_s", "times", 0.0, default=3.0),
        no_answer_share=check.number(times, "no_answer_share", "times", 0.0, default=0.0),
        back_after_pause_s=check.number(times, "back_after_pause_s", "times", 1.0, default=60.0),
        ring_timeout_s=check.number(room, "ring_timeout_s", "room", 1.0, default=15.0),
        wrap_up_s=check.number(room, "wrap_up_s", "room", 0.0, default=10.0),
        position_announce_s=check.number(room, "position_announce_s", "room", 1.0, default=30.0),
        callback_deadline_s=check.number(room, "callback_deadline_s", "room", 1.0, default=300.0),
        seats=seat_counts,
        victims_share=check.number(incidents, "victims_share", "incidents", 0.0, default=0.0),
        incident_types=check.shares(incidents.get("types"), "incidents.types", codes),
        ack_s=ack,
        resolve_min=resolve,
    )
    if check.problems:
        raise ProfileError(f"profile {source}: " + "; ".join(check.problems))
    return profile
