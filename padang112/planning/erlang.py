"""Erlang B, Erlang C and Erlang A (M/M/n+M, callers who give up): pure functions, no I/O.

Notation: ``load`` a = λ·AHT in Erlangs, ``seats`` n, ``aht_s`` the mean handle time (talk + wrap-up), ``patience_s``
the mean time a caller waits before hanging up (exponential, rate θ = 1/patience).

- **Erlang B** by the recursion B(0) = 1, B(k) = a·B(k−1) / (k + a·B(k−1)): no factorials or powers, so it
  stays exact to machine precision for hundreds of seats and loads.
- **Erlang C** from B: C = n·B / (n − a·(1 − B)) for n > a (else every caller waits); the answered-within-t share
  is 1 − C·exp(−(n − a)·t / AHT).
- **Erlang A** (Palm 1946; Garnett, Mandelbaum & Reiman 2002) is the birth–death chain with arrival rate λ,
  service rate kμ with k busy seats and abandonment rate jθ with j callers waiting. Its stationary law is summed
  term by term (ratios, never factorials) until the tail is below 1e-15; the waiting caller's future is the chain
  "callers ahead of me" that moves one step at rate nμ + iθ (i ahead), while the caller themself gives up at rate
  θ; its distribution at time t is computed by uniformisation. This gives the same figures as the closed forms in
  incomplete Gamma functions of Garnett et al., without evaluating those (unstable for large n).

The service level matches :mod:`padang112.stats.service_level`: answered within T over (answered + abandoned after
waiting more than T); callers who give up within T are left out of both sides.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

TAIL = 1e-15
MAX_SEATS = 2000


def erlang_b(seats: int, load: float) -> float:
    """Blocking probability of ``seats`` servers offered ``load`` Erlangs (M/M/n/n)."""
    _check(seats, load)
    b = 1.0
    for k in range(1, seats + 1):
        b = load * b / (k + load * b)
    return b


def erlang_c(seats: int, load: float) -> float:
    """Probability that a caller waits (M/M/n, nobody gives up); 1.0 when ``load`` ≥ ``seats``."""
    _check(seats, load)
    if load <= 0:
        return 0.0
    if seats <= load:
        return 1.0
    b = erlang_b(seats, load)
    return seats * b / (seats - load * (1.0 - b))


def erlang_c_service_level(seats: int, load: float, aht_s: float, t_s: float) -> float:
    """Share of callers answered within ``t_s`` seconds in M/M/n (0.0 when the queue is unstable)."""
    if seats <= load:
        return 0.0
    return 1.0 - erlang_c(seats, load) * math.exp(-(seats - load) * t_s / aht_s)


def erlang_c_asa(seats: int, load: float, aht_s: float) -> float:
    """Average speed of answer in M/M/n, seconds (``inf`` when unstable)."""
    if seats <= load:
        return math.inf
    return erlang_c(seats, load) * aht_s / (seats - load)


@dataclass(frozen=True)
class ErlangA:
    """Steady-state figures of M/M/n+M."""

    seats: int
    p_wait: float  # an arriving caller finds every seat busy
    p_abandon: float  # gives up before being answered
    answered_within: dict[float, float]  # T -> share answered within T (the NENA measure, see the module docstring)
    asa_s: float  # mean wait of the callers who are answered
    occupancy: float  # busy seats / seats


def erlang_a(
    seats: int, calls_per_hour: float, aht_s: float, patience_s: float, thresholds: tuple[float, ...] = (15.0, 20.0)
) -> ErlangA:
    """The Erlang A figures of ``seats`` seats for Poisson arrivals, exponential handle time and patience."""
    if seats < 1 or calls_per_hour < 0 or aht_s <= 0 or patience_s <= 0:
        raise ValueError("need seats ≥ 1, calls_per_hour ≥ 0, aht_s > 0 and patience_s > 0")
    lam, mu, theta = calls_per_hour / 3600.0, 1.0 / aht_s, 1.0 / patience_s
    if lam == 0:
        return ErlangA(seats, 0.0, 0.0, dict.fromkeys(thresholds, 1.0), 0.0, 0.0)
    free, waiting = _stationary(seats, lam, mu, theta)
    total = sum(free) + sum(waiting)
    p_free = sum(free) / total
    ahead = [p / total for p in waiting]  # ahead[j]: j callers already waiting when a caller arrives (PASTA)
    p_wait = sum(ahead)
    reach = [_reach_probability(j, seats * mu, theta) for j in range(len(ahead))]
    p_served = p_free + sum(a * r for a, r in zip(ahead, reach, strict=True))
    p_abandon = theta * sum(j * p for j, p in enumerate(ahead)) / lam  # rate of giving up / rate of arrival
    busy = sum(k * p for k, p in enumerate(free)) / total + seats * p_wait
    within = {}
    for t in thresholds:
        served_by_t, abandoned_by_t = _by_time(ahead, seats * mu, theta, t)
        base = p_served + (p_abandon - abandoned_by_t)
        within[t] = (p_free + served_by_t) / base if base > 0 else 1.0
    waited = sum(a * _served_wait(j, seats * mu, theta) for j, a in enumerate(ahead))
    return ErlangA(seats, p_wait, p_abandon, within, waited / p_served if p_served > 0 else 0.0, busy / seats)


def _stationary(seats: int, lam: float, mu: float, theta: float) -> tuple[list[float], list[float]]:
    """Unnormalised stationary weights of states 0..n−1 (a seat is free) and n, n+1, ... (j = state − n waiting).

    Walks up from state 0 by the ratio of neighbours (λ/kμ, then λ/(nμ + jθ)), rescaling to stay finite, and stops
    once the weights fall below :data:`TAIL` of the largest and keep falling.
    """
    weights = [1.0]
    for k in range(1, seats + 1):
        weights.append(weights[-1] * lam / (k * mu))
        if weights[-1] > 1e250:
            weights = [w / weights[-1] for w in weights]
    j = 0
    while True:
        j += 1
        ratio = lam / (seats * mu + j * theta)
        weights.append(weights[-1] * ratio)
        if weights[-1] > 1e250:
            weights = [w / weights[-1] for w in weights]
        if ratio < 1.0 and weights[-1] < TAIL * max(weights):
            return weights[:seats], weights[seats:]


def _reach_probability(ahead: int, service: float, theta: float) -> float:
    """Probability that a caller with ``ahead`` callers before them is answered before giving up."""
    p = 1.0
    for i in range(ahead + 1):
        rate = service + i * theta
        p *= rate / (rate + theta)
    return p


def _served_wait(ahead: int, service: float, theta: float) -> float:
    """E[wait; answered] for a caller with ``ahead`` callers before them (wait 0 if not answered)."""
    # Each stage (i ahead) ends after Exp(service + iθ + θ) whichever way it ends, so given that the caller is
    # answered the stage times are unchanged: E[wait | answered] is the sum of their means.
    mean = sum(1.0 / (service + i * theta + theta) for i in range(ahead + 1))
    return _reach_probability(ahead, service, theta) * mean


def _by_time(ahead: list[float], service: float, theta: float, t: float) -> tuple[float, float]:
    """P(answered by t) and P(given up by t) of a caller who has to wait, over the law ``ahead``, by uniformisation."""
    top = len(ahead) - 1
    rate = service + top * theta + theta
    state = list(ahead)  # probability mass by callers ahead; absorbed: served, abandoned
    served = abandoned = 0.0
    served_t = abandoned_t = 0.0
    mean = rate * t
    log_pois = -mean
    k = 0
    cumulative = 0.0
    while True:
        weight = math.exp(log_pois)
        served_t += weight * served
        abandoned_t += weight * abandoned
        cumulative += weight
        if cumulative > 1.0 - 1e-13 or k > mean + 50 * math.sqrt(mean + 1) + 50:
            break
        nxt = [0.0] * len(state)
        for i, p in enumerate(state):
            if p == 0.0:
                continue
            move = (service + i * theta) / rate
            quit_ = theta / rate
            if i == 0:
                served += p * move
            else:
                nxt[i - 1] += p * move
            abandoned += p * quit_
            nxt[i] += p * (1.0 - move - quit_)
        state = nxt
        k += 1
        log_pois += math.log(mean) - math.log(k)
    rest = 1.0 - cumulative  # the Poisson tail beyond k: at least the mass absorbed by then
    return served_t + rest * served, abandoned_t + rest * abandoned


def _check(seats: int, load: float) -> None:
    if seats < 0 or load < 0 or not math.isfinite(load):
        raise ValueError("seats and load must be ≥ 0")
