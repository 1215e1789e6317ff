"""Prank/silent scores decay, and only a repeated history flags a number."""

from datetime import UTC, datetime, timedelta

from padang112.domain.prank import HALF_LIFE, THRESHOLD, PrankScores

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def test_one_prank_does_not_flag_a_number_but_two_recent_ones_do():
    scores = PrankScores()
    scores.mark("0812", NOW - timedelta(hours=1))
    assert not scores.flagged("0812", NOW)
    scores.mark("0812", NOW - timedelta(minutes=5))
    assert scores.flagged("0812", NOW)


def test_a_mark_loses_half_its_weight_every_half_life_and_old_history_is_forgiven():
    scores = PrankScores()
    scores.mark("0813", NOW - HALF_LIFE)
    assert abs(scores.score("0813", NOW) - 0.5) < 1e-9
    for _ in range(3):
        scores.mark("0814", NOW - timedelta(days=20))
    assert scores.score("0814", NOW) < THRESHOLD


def test_a_cleared_number_starts_again_and_an_empty_number_is_never_flagged():
    scores = PrankScores()
    for _ in range(3):
        scores.mark("0815", NOW)
        scores.mark("", NOW)
    scores.clear("0815")
    assert not scores.flagged("0815", NOW) and not scores.flagged("", NOW)
