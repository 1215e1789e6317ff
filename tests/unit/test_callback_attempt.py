"""The call-back attempt's state machine and its reconciliation after a restart, as tables (pure, no I/O)."""

from __future__ import annotations

import pytest

from padang112.domain import callback_attempt as ca
from padang112.domain.legs import KeyPressed, LegGone, LegUp, PlaybackDone

LEGS = ca.Legs(5, "ab1")


def test_the_attempts_identifiers_are_derived_from_the_item_and_token_and_parsed_back() -> None:
    assert (LEGS.seat_leg, LEGS.caller_leg, LEGS.bridge) == ("cb-5-seat-ab1", "cb-5-caller-ab1", "bridge-cb-5-ab1")
    assert ca.parse_leg("cb-5-caller-ab1") == (LEGS, "caller")
    assert [ca.parse_leg(x) for x in ("cb-x-seat-1", "cb-5-agent-1", "duty-5-seat-1", "cb-5-seat-")] == [None] * 4


def test_the_happy_path_rings_back_dials_bridges_and_ends_reached_once() -> None:
    a = ca.Attempt(LEGS, "seat01")
    assert a.caller_answered() == []  # not before the seat answered
    assert a.seat_answered() == [ca.RingBack("cb-5-seat-ab1"), ca.DialCaller(LEGS)]
    assert a.seat_answered() == []  # a repeated StasisStart changes nothing
    assert a.caller_answered() == [ca.BridgeAndRecord(LEGS)]
    assert a.leg_gone("caller", 16) == [ca.Close(LEGS, "seat01", "reached")]
    assert a.leg_gone("seat") == []  # closed once


def test_the_switchs_facts_drive_the_attempt_by_the_legs_role() -> None:
    a = ca.Attempt(LEGS, "seat01")
    assert a.on(LegUp("cb-5-caller-ab1")) == []  # the caller's leg cannot come first
    assert a.on(KeyPressed("cb-5-seat-ab1", "1")) == [] and a.on(PlaybackDone("cb-5-seat-ab1", "pb")) == []
    assert a.on(LegUp("cb-5-seat-ab1")) == [ca.RingBack("cb-5-seat-ab1"), ca.DialCaller(LEGS)]
    assert a.on(LegGone("duty-5-pupr-x")) == []  # not one of its legs
    assert a.on(LegGone("cb-5-caller-ab1", 17)) == [ca.Close(LEGS, "seat01", "busy")]


@pytest.mark.parametrize(
    ("steps", "gone", "cause", "outcome"),
    [
        ([], "seat", None, "seat_no_answer"),  # the call taker did not pick up
        (["seat"], "seat", None, "no_answer"),  # the call taker gave up while the caller rang
        (["seat"], "caller", 17, "busy"),
        (["seat"], "caller", 19, "no_answer"),
        (["seat"], "caller", 1, "unreachable"),
        (["seat", "caller"], "seat", None, "reached"),
    ],
)
def test_the_outcome_of_an_attempt_depends_on_how_far_it_got_and_who_left(
    steps: list[str], gone: str, cause: int | None, outcome: str
) -> None:
    a = ca.Attempt(LEGS, "seat01")
    for step in steps:
        a.seat_answered() if step == "seat" else a.caller_answered()
    assert a.leg_gone(gone, cause) == [ca.Close(LEGS, "seat01", outcome)]


def test_requests_that_fail_close_the_attempt() -> None:
    assert ca.Attempt(LEGS, "s").seat_not_rung() == [ca.Close(LEGS, "s", "seat_no_answer")]
    a = ca.Attempt(LEGS, "s")
    a.seat_answered()
    assert a.caller_not_dialled() == [ca.Close(LEGS, "s", "failed")]


def live(channel: str, up: bool = True, bridge: str | None = "bridge-cb-5-ab1") -> ca.LiveLeg:
    return ca.LiveLeg(channel, up, bridge)


def test_reconcile_adopts_two_legs_talking_in_their_bridge_and_keeps_the_seat_paused() -> None:
    plan = ca.reconcile(
        [live("cb-5-seat-ab1"), live("cb-5-caller-ab1")], ["bridge-cb-5-ab1"], {5: "seat01"}, ["seat01"]
    )
    assert [(a.legs, a.seat, a.step) for a in plan.adopted] == [(LEGS, "seat01", ca.Step.CONNECTED)]
    assert (plan.hang_up, plan.destroy, plan.ended, plan.seats_back) == ([], [], {}, [])


@pytest.mark.parametrize(
    "found",
    [
        [live("cb-5-seat-ab1", bridge=None)],  # the caller was still being dialled
        [live("cb-5-seat-ab1"), live("cb-5-caller-ab1", up=False, bridge=None)],
        [live("cb-5-seat-ab1"), live("cb-5-caller-ab1", bridge="bridge-other")],
    ],
)
def test_reconcile_closes_anything_less_than_a_talking_pair(found: list[ca.LiveLeg]) -> None:
    plan = ca.reconcile(found, ["bridge-cb-5-ab1"], {5: "seat01"}, ["seat01"])
    assert plan.adopted == []
    assert plan.hang_up == [leg.channel for leg in found]
    assert plan.destroy == ["bridge-cb-5-ab1"]
    assert plan.ended == {5: "failed"} and plan.seats_back == ["seat01"]


def test_reconcile_without_any_channel_ends_the_taken_item_gives_seats_back_and_removes_stray_bridges() -> None:
    plan = ca.reconcile([], ["bridge-cb-9-zz1", "bridge-1234"], {5: "seat01"}, ["seat02", "seat01"])
    assert (plan.hang_up, plan.destroy) == ([], ["bridge-cb-9-zz1"])  # a room call's bridge is not ours
    assert plan.ended == {5: "failed"} and plan.seats_back == ["seat01", "seat02"]
