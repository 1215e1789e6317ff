"""The day's callers, drawn once from a profile and a seed: who calls when, and how they will behave.

The script does not depend on how the room copes (it is drawn before anything runs), so the virtual day and the
replay on the real switch (``padang112 simulate --profile``) put exactly the same callers through the same day.
Arrivals are a non-homogeneous Poisson process (thinning against the day's highest rate); each caller gets a class
by the mix of that moment, a number (pranks from a small pool, repeat callers reuse an earlier caller's number),
a patience (exponential), a talk and wrap-up time (lognormal) and, for a genuine emergency, an incident.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from padang112.incidents.geography import kecamatan_names
from padang112.planning.profile import CallClass, Profile
from padang112.simulator.people import PREFIXES, phone_number

CARRIERS = tuple(PREFIXES)


@dataclass(frozen=True)
class Caller:
    n: int
    at_s: float  # seconds after the start of the simulated window
    cls: str
    number: str
    carrier: str
    patience_s: float
    talk_s: float
    wrap_s: float
    incident_type: str | None = None
    kecamatan: str = ""
    victims: int = 0


def lognormal(rng: random.Random, mean: float, cv: float) -> float:
    """A lognormal draw with this mean and coefficient of variation (``cv`` 0: the mean itself)."""
    if cv <= 0:
        return mean
    sigma2 = math.log(1.0 + cv * cv)
    return rng.lognormvariate(math.log(mean) - sigma2 / 2.0, math.sqrt(sigma2))


def _pick(rng: random.Random, shares: dict[str, float]) -> str:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


def draw(profile: Profile, seed: int, start_s: float, hours: float) -> list[Caller]:
    """The callers of ``hours`` hours from ``start_s`` seconds after 00:00 WIB (``at_s`` counts from ``start_s``)."""
    rng = random.Random(seed)
    peak = max(profile.rate_per_s(h * 3600.0) for h in range(24))
    peak *= max([1.0, *(s.factor for s in profile.surges)])
    pool = {name: [_number(rng) for _ in range(c.prank_pool)] for name, c in profile.classes.items() if c.prank_pool}
    districts = kecamatan_names()
    callers: list[Caller] = []
    t = 0.0
    end = hours * 3600.0
    while peak > 0:
        t += rng.expovariate(peak)
        if t >= end:
            return callers
        clock = (start_s + t) % 86400.0
        if rng.random() * peak > profile.rate_per_s(clock):
            continue
        surge = profile.surge_at(clock)
        mix = surge.mix if surge else {k: c.share for k, c in profile.classes.items()}
        cls = profile.classes[_pick(rng, mix)]
        number, carrier = _number_for(rng, cls, pool, callers)
        incident = None
        if cls.incident:
            incident = _pick(rng, surge.types if surge else profile.incident_types)
        callers.append(
            Caller(
                n=len(callers) + 1,
                at_s=t,
                cls=cls.name,
                number=number,
                carrier=carrier,
                patience_s=rng.expovariate(1.0 / cls.patience_s),
                talk_s=max(1.0, lognormal(rng, cls.talk_s, profile.cv)),
                wrap_s=lognormal(rng, cls.wrap_s, profile.cv),
                incident_type=incident,
                kecamatan=rng.choice(districts),
                victims=rng.randint(1, 3) if incident and rng.random() < profile.victims_share else 0,
            )
        )
    return callers


def _number(rng: random.Random) -> tuple[str, str]:
    carrier = rng.choice(CARRIERS)
    return phone_number(carrier, rng), carrier


def _number_for(
    rng: random.Random, cls: CallClass, pool: dict[str, list[tuple[str, str]]], earlier: list[Caller]
) -> tuple[str, str]:
    if cls.prank_pool:
        return rng.choice(pool[cls.name])
    if cls.repeat and earlier:
        gave_up = [c for c in earlier[-200:] if c.cls in ("genuine", "dropped", "information")]
        who = rng.choice(gave_up or earlier)
        return who.number, who.carrier
    return _number(rng)
