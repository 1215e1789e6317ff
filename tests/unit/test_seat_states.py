"""The seat state machine (``padang112.domain.seats``) as a table.

``offline → available ⇄ offered → busy → wrap_up → available``; ``paused`` (with a reason) from available,
offered and wrap_up, and from offline (a call taker may sign in paused: the room relies on it in
``_on_SeatPause``); a seat leaves ``paused`` only to available or offline. An offered seat goes back to
``offline`` when its softphone unregistered while ringing. Every other move raises ``IllegalTransition``
and leaves the seat exactly as it was.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from padang112.domain.calls import IllegalTransition
from padang112.domain.events import SeatTransition
from padang112.domain.seats import ALLOWED, PauseReason, Seat, SeatState

T0 = datetime(2024, 3, 1, 8, 0, 0, tzinfo=UTC)

S = SeatState

EXPECTED: dict[SeatState, set[SeatState]] = {
    S.OFFLINE: {S.AVAILABLE, S.PAUSED},
    S.AVAILABLE: {S.OFFERED, S.PAUSED, S.OFFLINE},
    S.OFFERED: {S.BUSY, S.AVAILABLE, S.PAUSED, S.OFFLINE},
    S.BUSY: {S.WRAP_UP},
    S.WRAP_UP: {S.AVAILABLE, S.PAUSED, S.OFFLINE},
    S.PAUSED: {S.AVAILABLE, S.OFFLINE},
}

ALL_PAIRS = [
    pytest.param(a, b, b in EXPECTED[a], id=f"{a.value}->{b.value}") for a, b in itertools.product(SeatState, SeatState)
]
REFUSED_PAIRS = [p for p in ALL_PAIRS if not p.values[2]]


def make_seat(state: SeatState, *, call_id: str | None = None, reason: str | None = None) -> Seat:
    return Seat("seat01", state=state, reason=reason, registered=True, signed_in=True, since=T0, call_id=call_id)


@pytest.mark.parametrize(("from_state", "to_state", "allowed"), ALL_PAIRS)
def test_a_seat_moves_only_along_its_table(from_state, to_state, allowed):
    seat = make_seat(from_state, call_id="c-1" if from_state in (S.OFFERED, S.BUSY, S.WRAP_UP) else None)
    at = T0 + timedelta(seconds=7)
    if allowed:
        reason = PauseReason.BREAK.value if to_state == S.PAUSED else None
        event = seat.move(to_state, at, reason)
        assert seat.state == to_state
        assert seat.since == at
        assert isinstance(event, SeatTransition)
        assert (event.seat, event.at, event.from_state, event.to_state) == (
            "seat01",
            at,
            from_state.value,
            to_state.value,
        )
        assert event.reason == reason
    else:
        with pytest.raises(IllegalTransition):
            seat.move(to_state, at)


@pytest.mark.parametrize(("from_state", "to_state", "allowed"), REFUSED_PAIRS)
def test_a_refused_seat_move_leaves_the_seat_unchanged(from_state, to_state, allowed):
    seat = make_seat(from_state, call_id="c-9", reason="training" if from_state == S.PAUSED else None)
    before = (seat.state, seat.reason, seat.since, seat.call_id, seat.registered, seat.signed_in)
    with pytest.raises(IllegalTransition) as exc:
        seat.move(to_state, T0 + timedelta(seconds=3), "break")
    assert from_state.value in str(exc.value) and to_state.value in str(exc.value)
    assert (seat.state, seat.reason, seat.since, seat.call_id, seat.registered, seat.signed_in) == before


def test_the_table_covers_every_state():
    assert set(ALLOWED) == set(SeatState)
    assert {k: set(v) for k, v in ALLOWED.items()} == EXPECTED


def test_no_state_moves_to_itself():
    for state in SeatState:
        assert state not in ALLOWED[state]


def test_a_busy_seat_can_only_go_to_wrap_up():
    assert ALLOWED[S.BUSY] == {S.WRAP_UP}


@pytest.mark.parametrize("to_state", [S.AVAILABLE, S.OFFLINE], ids=lambda s: s.value)
def test_a_pause_reason_is_kept_only_while_paused(to_state):
    seat = make_seat(S.AVAILABLE)
    seat.move(S.PAUSED, T0, PauseReason.NOT_RESPONDING.value)
    assert seat.reason == "not_responding"
    event = seat.move(to_state, T0 + timedelta(seconds=1), "ignored")
    assert seat.reason is None and event.reason is None


def test_a_seat_keeps_its_call_through_offered_busy_and_wrap_up_and_drops_it_after():
    seat = make_seat(S.AVAILABLE)
    seat.call_id = "c-1"
    for i, state in enumerate((S.OFFERED, S.BUSY, S.WRAP_UP), start=1):
        event = seat.move(state, T0 + timedelta(seconds=i))
        assert seat.call_id == "c-1" and event.call_id == "c-1"
    event = seat.move(S.AVAILABLE, T0 + timedelta(seconds=9))
    assert seat.call_id is None and event.call_id is None


@pytest.mark.parametrize("to_state", [S.AVAILABLE, S.PAUSED, S.OFFLINE], ids=lambda s: s.value)
def test_a_withdrawn_offer_drops_the_call_from_the_seat(to_state):
    seat = make_seat(S.OFFERED, call_id="c-1")
    seat.move(to_state, T0, "break")
    assert seat.call_id is None


@pytest.mark.parametrize(
    ("state", "registered", "in_use", "eligible"),
    [
        (state, reg, use, state == S.AVAILABLE and reg and not use)
        for state, reg, use in itertools.product(SeatState, (True, False), (True, False))
    ],
    ids=lambda v: v.value if isinstance(v, SeatState) else str(v),
)
def test_a_seat_is_eligible_only_when_available_registered_and_its_device_free(state, registered, in_use, eligible):
    seat = Seat("seat01", state=state, registered=registered, device_in_use=in_use)
    assert seat.eligible is eligible
