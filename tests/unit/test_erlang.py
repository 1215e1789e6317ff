"""Erlang B, C and A against published values and exact identities."""

from __future__ import annotations

import math

import pytest

from padang112.planning.erlang import erlang_a, erlang_b, erlang_c, erlang_c_asa, erlang_c_service_level


@pytest.mark.parametrize(
    ("seats", "load", "published"),
    [(5, 2.0, 0.0367), (10, 10.0, 0.2146), (20, 15.0, 0.0456), (100, 80.0, 0.0040)],
)
def test_erlang_b_matches_the_published_tables(seats: int, load: float, published: float) -> None:
    assert erlang_b(seats, load) == pytest.approx(published, abs=5e-5)


@pytest.mark.parametrize(
    ("seats", "p_wait", "sl_20", "asa"),
    [(11, 0.6821, 0.390, 122.8), (12, 0.4494, 0.640, 40.4), (13, 0.2853, 0.796, 17.1), (14, 0.1741, 0.888, 7.8)],
)
def test_erlang_c_matches_the_textbook_example(seats: int, p_wait: float, sl_20: float, asa: float) -> None:
    """100 calls per half hour, 180 s handle time (10 Erlangs), answered within 20 s: the classic worked example."""
    assert erlang_c(seats, 10.0) == pytest.approx(p_wait, abs=5e-5)
    assert erlang_c_service_level(seats, 10.0, 180.0, 20.0) == pytest.approx(sl_20, abs=5e-4)
    assert erlang_c_asa(seats, 10.0, 180.0) == pytest.approx(asa, abs=0.05)


def test_erlang_c_is_one_when_the_queue_cannot_keep_up() -> None:
    assert erlang_c(10, 10.0) == 1.0
    assert erlang_c_service_level(9, 10.0, 180.0, 20.0) == 0.0
    assert math.isinf(erlang_c_asa(10, 12.0, 180.0))


def test_erlang_b_stays_finite_for_a_large_room() -> None:
    assert 0.0 < erlang_b(1000, 950.0) < 1.0


def test_erlang_a_without_abandonment_is_erlang_c() -> None:
    a = erlang_a(11, 200.0, 180.0, patience_s=1e8, thresholds=(20.0,))
    assert a.p_wait == pytest.approx(erlang_c(11, 10.0), abs=2e-4)
    assert a.answered_within[20.0] == pytest.approx(erlang_c_service_level(11, 10.0, 180.0, 20.0), abs=2e-4)
    assert a.asa_s == pytest.approx(erlang_c_asa(11, 10.0, 180.0), rel=2e-3)
    assert a.p_abandon < 1e-5


def test_erlang_a_with_patience_equal_to_handle_time_is_a_poisson_count() -> None:
    """With θ = μ every caller in the system leaves at rate μ, so the number in the system is Poisson(λ/μ): the
    chance to wait is P(N ≥ n) and the abandoned share E[(N − n)⁺]·θ/λ, exactly."""
    load, seats = 8.0, 10
    poisson = [math.exp(-load + k * math.log(load) - math.lgamma(k + 1)) for k in range(200)]
    a = erlang_a(seats, load * 3600 / 180.0, 180.0, 180.0)
    assert a.p_wait == pytest.approx(sum(poisson[seats:]), abs=1e-12)
    assert a.p_abandon == pytest.approx(
        sum((k - seats) * p for k, p in enumerate(poisson) if k > seats) / load, abs=1e-12
    )
    assert a.occupancy == pytest.approx(sum(min(k, seats) * p for k, p in enumerate(poisson)) / seats, abs=1e-12)


def test_erlang_a_is_stable_in_overload_and_for_large_rooms() -> None:
    over = erlang_a(5, 600.0, 120.0, 60.0)  # 20 Erlangs on 5 seats: most callers give up, the queue stays finite
    assert 0.7 < over.p_abandon < 1.0
    assert over.occupancy == pytest.approx(1.0, abs=1e-3)
    big = erlang_a(600, 20000.0, 100.0, 60.0)
    assert all(0.0 <= v <= 1.0 for v in big.answered_within.values())


def test_patience_helps_those_who_stay() -> None:
    """More impatient callers: more abandon, the others are answered sooner (the reason Erlang C over-staffs)."""
    patient, impatient = erlang_a(9, 200.0, 180.0, 600.0), erlang_a(9, 200.0, 180.0, 60.0)
    assert impatient.p_abandon > patient.p_abandon
    assert impatient.answered_within[15.0] > patient.answered_within[15.0]
    assert patient.answered_within[15.0] > erlang_c_service_level(9, 10.0, 180.0, 15.0)


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError):
        erlang_a(0, 10.0, 60.0, 60.0)
    with pytest.raises(ValueError):
        erlang_b(-1, 1.0)
