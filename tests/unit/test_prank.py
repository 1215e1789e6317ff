"""Prank/silent scores decay, count each call once, skip placeholder caller IDs, and only a repeated history flags."""

from datetime import UTC, datetime, timedelta

import pytest

from padang112.domain.prank import HALF_LIFE, THRESHOLD, PrankScores, scorable

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def test_one_prank_does_not_flag_a_number_but_two_recent_ones_do():
    scores = PrankScores()
    scores.mark("0812", NOW - timedelta(hours=1), "c1")
    assert not scores.flagged("0812", NOW)
    scores.mark("0812", NOW - timedelta(minutes=5), "c2")
    assert scores.flagged("0812", NOW)


def test_a_call_marked_twice_counts_once_and_a_corrected_disposition_removes_its_mark():
    scores = PrankScores()
    for _ in range(3):
        scores.mark("08121", NOW, "c1")  # the same call, marked prank then silent then prank again
    assert not scores.flagged("08121", NOW) and abs(scores.score("08121", NOW) - 1.0) < 1e-9
    scores.unmark("08121", "c1")
    assert scores.score("08121", NOW) == 0


def test_a_mark_loses_half_its_weight_every_half_life_and_old_history_is_forgiven():
    scores = PrankScores()
    scores.mark("0813", NOW - HALF_LIFE, "c1")
    assert abs(scores.score("0813", NOW) - 0.5) < 1e-9
    for i in range(3):
        scores.mark("0814", NOW - timedelta(days=20), f"c{i}")
    assert scores.score("0814", NOW) < THRESHOLD


@pytest.mark.parametrize("placeholder", ["", "anonymous", "Anonymous", "restricted", "unknown", "0812abc", "12", "+"])
def test_placeholder_caller_ids_are_never_scored(placeholder: str):
    scores = PrankScores()
    for i in range(5):
        scores.mark(placeholder, NOW, f"c{i}")
    assert not scorable(placeholder) and scores.score(placeholder, NOW) == 0 and not scores.flagged(placeholder, NOW)


def test_a_cleared_number_starts_again():
    scores = PrankScores()
    for i in range(3):
        scores.mark("0815", NOW, f"c{i}")
    scores.clear("0815")
    assert not scores.flagged("0815", NOW)
