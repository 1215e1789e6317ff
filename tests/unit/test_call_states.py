"""The call state machine (``padang112.domain.calls``) as a table.

The documented life of a call is ``received → queued → offered → connected → ended``, with ``abandoned`` for a
caller who hangs up before being connected, ``offered → queued`` when a seat does not answer, ``connected → queued``
when the seat's phone dropped the call at once (the caller is first in line again), and
``connected → transferred → ended`` for a warm hand-off to an agency. Every other
move must raise :class:`IllegalTransition` and leave the call exactly as it was.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from padang112.domain.calls import ALLOWED, TERMINAL, Call, CallState, IllegalTransition
from padang112.domain.events import CallTransition

T0 = datetime(2024, 3, 1, 8, 0, 0, tzinfo=UTC)

S = CallState

# The documented table (module docstring of calls.py and DESIGN.md §3), written out independently of ALLOWED.
DOCUMENTED: dict[CallState, set[CallState]] = {
    S.RECEIVED: {S.QUEUED, S.ABANDONED, S.HANDED_OVER},
    S.QUEUED: {S.OFFERED, S.ABANDONED, S.HANDED_OVER},
    S.OFFERED: {S.CONNECTED, S.QUEUED, S.ABANDONED, S.HANDED_OVER},
    S.CONNECTED: {S.ENDED, S.TRANSFERRED, S.QUEUED},  # queued: the seat's phone dropped it at once
    S.TRANSFERRED: {S.ENDED},  # warm hand-off: the caller is with an agency's duty phone
    S.ENDED: set(),
    S.ABANDONED: set(),
    S.HANDED_OVER: set(),
}


def _case(before: CallState, after: CallState):
    allowed = after in DOCUMENTED[before]
    return pytest.param(before, after, allowed, id=f"{before.value}->{after.value}")


ALL_PAIRS = [_case(a, b) for a, b in itertools.product(CallState, CallState)]


def make_call(state: CallState = S.RECEIVED, *, seat: str | None = None) -> Call:
    call = Call(
        id="c-1",
        channel="in-1",
        seq=1,
        caller_number="081234567890",
        caller_name="Budi",
        carrier="telkomsel",
        dialed="112",
        received_at=T0,
    )
    call.state = state
    call.seat = seat
    return call


@pytest.mark.parametrize(("from_state", "to_state", "allowed"), ALL_PAIRS)
def test_a_call_moves_only_along_the_documented_table(from_state, to_state, allowed):
    call = make_call(from_state, seat="seat01")
    at = T0 + timedelta(seconds=5)
    if allowed:
        event = call.move(to_state, at)
        assert call.state == to_state
        assert call.history == [from_state]
        assert event == CallTransition("c-1", at, from_state.value, to_state.value, seat="seat01", data={})
    else:
        with pytest.raises(IllegalTransition):
            call.move(to_state, at)


REFUSED_PAIRS = [p for p in ALL_PAIRS if not p.values[2]]


@pytest.mark.parametrize(("from_state", "to_state", "allowed"), REFUSED_PAIRS)
def test_a_refused_move_leaves_the_call_unchanged(from_state, to_state, allowed):
    call = make_call(from_state, seat="seat02")
    call.history = [S.RECEIVED]
    call.leg = "leg-x"
    before = (call.state, list(call.history), call.seat, call.leg, call.recording)
    with pytest.raises(IllegalTransition) as exc:
        call.move(to_state, T0)
    assert from_state.value in str(exc.value) and to_state.value in str(exc.value)
    assert (call.state, call.history, call.seat, call.leg, call.recording) == before


def test_the_table_covers_every_state():
    assert set(ALLOWED) == set(CallState)


def test_ended_abandoned_and_handed_over_are_terminal_with_no_way_out():
    assert {S.ENDED, S.ABANDONED, S.HANDED_OVER} == TERMINAL
    for state in TERMINAL:
        assert ALLOWED[state] == frozenset()


def test_every_non_terminal_state_can_still_reach_a_terminal_state():
    for start in CallState:
        seen, todo = {start}, [start]
        while todo:
            for nxt in ALLOWED[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        assert seen & TERMINAL, start


def test_the_happy_path_is_a_chain_of_legal_moves_recorded_in_history():
    call = make_call()
    path = [S.QUEUED, S.OFFERED, S.QUEUED, S.OFFERED, S.CONNECTED, S.ENDED]
    for i, state in enumerate(path):
        event = call.move(state, T0 + timedelta(seconds=i))
        assert event.at == T0 + timedelta(seconds=i)
    assert call.state == S.ENDED
    assert call.history == [S.RECEIVED, *path[:-1]]


def test_a_transition_event_carries_the_data_given_to_the_move():
    call = make_call(S.QUEUED)
    event = call.move(S.ABANDONED, T0, ended_by="caller", disposition="abandoned")
    assert event.data == {"ended_by": "caller", "disposition": "abandoned"}
    assert (event.from_state, event.to_state) == ("queued", "abandoned")


@pytest.mark.parametrize("state", list(CallState), ids=lambda s: s.value)
def test_a_call_is_waiting_only_while_queued_or_offered(state):
    assert make_call(state).waiting is (state in (S.QUEUED, S.OFFERED))
