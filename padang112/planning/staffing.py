"""Seats needed to meet NENA's targets (90 % answered within 15 s, 95 % within 20 s), by Erlang A.

The load of an hour is what the seats must carry: the callers who stay long enough to be answered (the profile's
``dropped`` class hangs up within seconds, rarely reaches a seat and is left out of both sides of the service level as
a short abandon), each holding a seat for ring + talk + wrap-up. The wait a caller sees includes the seat's ring time,
so the queue must answer within T minus the mean ring time. Patience is the mix's mean (exponential in the model).

:func:`from_profile` gives the advice for every hour of a profile; :func:`from_calls` for an hour of the week from
measured calls (the calls table), as the supervisor page shows it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from padang112.planning.erlang import MAX_SEATS, ErlangA, erlang_a
from padang112.planning.profile import Profile
from padang112.planning.seatlog import SeatLog
from padang112.stats.service_level import (
    TARGET_15_PCT,
    TARGET_20_PCT,
    THRESHOLD_15_S,
    THRESHOLD_20_S,
    WIB,
)
from padang112.storage.records import CallRecord, SeatEventRecord

SHORT_CLASSES = frozenset({"dropped"})
INTERVAL_MIN = 15  # staffing interval within an hour
DEFAULT_PATIENCE_S = 120.0  # when nobody gave up in the measured weeks (no evidence of impatience)


@dataclass(frozen=True)
class Load:
    calls_per_hour: float
    handle_s: float  # ring + talk + wrap-up, mean
    patience_s: float
    ring_s: float = 0.0  # part of the caller's wait spent ringing a free seat


@dataclass(frozen=True)
class Advice:
    hour: int  # WIB hour of day
    load: Load
    seats: int
    figures: ErlangA | None  # None when nobody calls


def seats_needed(load: Load, min_seats: int = 1) -> tuple[int, ErlangA | None]:
    """The fewest seats (at least ``min_seats``) whose Erlang A service level meets both targets."""
    if load.calls_per_hour <= 0:
        return min_seats, None
    targets = {
        max(0.0, THRESHOLD_15_S - load.ring_s): TARGET_15_PCT / 100.0,
        max(0.0, THRESHOLD_20_S - load.ring_s): TARGET_20_PCT / 100.0,
    }
    seats = max(min_seats, int(load.calls_per_hour * load.handle_s / 3600.0))
    while seats <= MAX_SEATS:
        figures = erlang_a(seats, load.calls_per_hour, load.handle_s, load.patience_s, tuple(targets))
        if all(figures.answered_within[t] >= share for t, share in targets.items()):
            return seats, figures
        seats += 1
    raise ValueError(f"more than {MAX_SEATS} seats needed for {load}")


def profile_load(profile: Profile, start_s: float, minutes: int) -> Load:
    """The average load of ``minutes`` minutes from ``start_s`` seconds after 00:00 WIB (calls per hour)."""
    points = [start_s + 60.0 * m + 30.0 for m in range(minutes)]
    shares: dict[str, float] = dict.fromkeys(profile.classes, 0.0)
    calls = 0.0
    for at in points:
        rate = profile.rate_per_s(at) * 3600.0 / minutes
        surge = profile.surge_at(at)
        mix = surge.mix if surge else {k: c.share for k, c in profile.classes.items()}
        for name, share in mix.items():
            shares[name] += rate * share
        calls += rate
    kept = {name: n for name, n in shares.items() if name not in SHORT_CLASSES and n > 0}
    total = sum(kept.values())
    if total == 0:
        return Load(0.0, 1.0, 1.0, profile.answer_s)
    classes = profile.classes
    handle = sum(n * (profile.answer_s + classes[k].talk_s + classes[k].wrap_s) for k, n in kept.items()) / total
    patience = sum(n * classes[k].patience_s for k, n in kept.items()) / total
    return Load(total, handle, patience, profile.answer_s)


def from_profile(profile: Profile) -> list[Advice]:
    """Advice for each WIB hour 00..23 of the profile: the seats its busiest quarter of an hour needs (a surge of
    half an hour is not averaged away over the hour)."""
    out = []
    for hour in range(24):
        quarters = [profile_load(profile, hour * 3600.0 + q * 900.0, INTERVAL_MIN) for q in range(4)]
        advised = [(*seats_needed(load), load) for load in quarters]
        seats, figures, load = max(advised, key=lambda a: (a[0], a[2].calls_per_hour))
        out.append(Advice(hour, load, seats, figures))
    return out


def measured_load(calls: Iterable[CallRecord], wrap_s: float) -> Load:
    """The hourly load measured from ``calls`` (those of the complete occurrences of one WIB hour; the caller
    divides by how many there were).

    Handle time = ring + talk of answered calls + ``wrap_s``; patience = time waited by all callers / callers who gave
    up (the maximum-likelihood estimate for exponential patience, which counts the answered callers' waits too).
    """
    mine = list(calls)
    answered = [c for c in mine if c.connected_at is not None and c.ended_at is not None]
    talk = [((c.ended_at or c.received_at) - (c.offered_at or c.received_at)).total_seconds() for c in answered]
    waited = 0.0
    for c in mine:
        until = c.connected_at or c.ended_at
        if until is not None:
            waited += max(0.0, (until - c.received_at).total_seconds())
    gave_up = sum(1 for c in mine if c.state == "abandoned")
    handle = (sum(talk) / len(talk) if talk else 60.0) + wrap_s
    patience = waited / gave_up if gave_up else DEFAULT_PATIENCE_S
    return Load(len(answered) + gave_up, max(1.0, handle), max(1.0, patience))


def past_hours(now: datetime, hour: int, days: int, since: datetime) -> list[tuple[datetime, datetime]]:
    """The complete occurrences of WIB ``hour`` in the last ``days`` days that end after ``since``."""
    local = now.astimezone(WIB)
    today = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    starts = (today - timedelta(days=d) for d in range(days + 1))
    return [
        (s, s + timedelta(hours=1)) for s in starts if s + timedelta(hours=1) <= now and s + timedelta(hours=1) > since
    ]


def from_calls(
    calls: Iterable[CallRecord], now: datetime, hours: int = 2, days: int = 28, wrap_s: float = 10.0
) -> list[Advice]:
    """Advice for the current WIB hour and the next ``hours - 1``: the mean load of the same hour over the last
    ``days`` days (only the occurrences since the first call, so a young room is not averaged down)."""
    window = [c for c in calls if now - timedelta(days=days + 1) <= c.received_at < now]
    since = min((c.received_at for c in window), default=now)
    first = now.astimezone(WIB).hour
    out = []
    for n in range(hours):
        hour = (first + n) % 24
        spans = past_hours(now, hour, days, since)
        load = measured_load((c for c in window if any(a <= c.received_at < b for a, b in spans)), wrap_s)
        load = Load(load.calls_per_hour / max(1, len(spans)), load.handle_s, load.patience_s)
        seats, figures = seats_needed(load)
        out.append(Advice(hour, load, seats, figures))
    return out


@dataclass(frozen=True)
class StaffedHour:
    start: datetime
    staffed: float  # seats signed in (not offline), averaged over the hour
    advised: int  # Erlang A on that hour's own calls


def staffed_vs_advised(
    calls: Sequence[CallRecord], seat_events: Iterable[SeatEventRecord], start: datetime, end: datetime, wrap_s: float
) -> list[StaffedHour]:
    """Per hour of ``[start, end)``: the seats that were signed in, and the seats its calls needed by Erlang A."""
    log = SeatLog()
    for event in seat_events:
        log.move(event.seat_id, event.at, event.to_state, event.reason)
    log.close(end)
    out = []
    at = start
    while at < end:
        until = at + timedelta(hours=1)
        _, signed_in = log.occupancy(at, until)
        load = measured_load((c for c in calls if at <= c.received_at < until), wrap_s)
        out.append(StaffedHour(at, signed_in / 3600.0, seats_needed(load)[0]))
        at = until
    return out
