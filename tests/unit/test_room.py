"""The room (``padang112.domain.room``): the call flow of DESIGN.md §2 as pure commands → events + effects.

Every test drives ``Room.handle`` with a hand-advanced clock (fixed aware UTC datetimes), then checks the
events and effects it returned and the room's state. No I/O, no Asterisk, no sleeps.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from padang112.domain import commands as c
from padang112.domain import effects as fx
from padang112.domain.calls import CallState
from padang112.domain.events import (
    CallTransition,
    RecordingFinished,
    RecordingStarted,
    SeatPhoneFailed,
    SeatTransition,
)
from padang112.domain.naming import bridge_id, recording_name
from padang112.domain.room import GREETING, MAX_POSITION_PROMPT, Decision, Policy, Room, position_prompt
from padang112.domain.seats import SeatState

T0 = datetime(2024, 3, 1, 8, 0, 0, tzinfo=UTC)
REC = "/var/lib/padang112/recordings"
POLICY = Policy(ring_timeout_s=15.0, wrap_up_s=10.0, position_announce_s=30.0, auto_ready_on_register=True)


# ---- harness ----------------------------------------------------------------------------------------


@dataclass
class Desk:
    """A room plus a clock advanced by hand."""

    room: Room
    now: datetime = T0
    log: list[Decision] = field(default_factory=list)

    def do(self, cmd: c.Command, after_s: float = 1.0) -> Decision:
        self.now += timedelta(seconds=after_s)
        decision = self.room.handle(cmd, self.now)
        self.log.append(decision)
        return decision

    def arrive(self, call_id: str, number: str = "081200000000", after_s: float = 1.0) -> Decision:
        return self.do(
            c.CallArrived(call_id, f"chan-{call_id}", number, f"name {call_id}", "telkomsel", "112"), after_s
        )

    def register(self, *seats: str, after_s: float = 1.0) -> None:
        for seat in seats:
            self.do(c.SeatRegistration(seat, True), after_s)

    def call(self, call_id: str):
        return self.room.calls[call_id]

    def seat(self, seat_id: str):
        return self.room.seats[seat_id]

    def leg(self, call_id: str) -> str:
        leg = self.call(call_id).leg
        assert leg is not None
        return leg

    def answer(self, call_id: str, after_s: float = 1.0) -> Decision:
        call = self.call(call_id)
        return self.do(c.SeatLegAnswered(call_id, call.seat, call.leg), after_s)

    def ring(self, call_id: str, after_s: float = 0.1) -> Decision:
        call = self.call(call_id)
        return self.do(c.SeatLegRinging(call_id, call.seat, call.leg), after_s)

    def ring_out(self, call_id: str, after_s: float = 15.0) -> Decision:
        """The seat's phone rings and nobody answers."""
        call = self.call(call_id)
        self.ring(call_id)
        return self.do(c.RingTimeout(call_id, call.seat, call.leg), after_s)

    def queued_ids(self) -> list[str]:
        return [entry[-1] for entry in self.room.queue]


def desk(*seats: str, policy: Policy = POLICY, registered: tuple[str, ...] | None = None) -> Desk:
    d = Desk(Room(seats, policy, REC))
    d.register(*(seats if registered is None else registered))
    return d


def of(decision: Decision, kind: type) -> list:
    return [e for e in [*decision.events, *decision.effects] if isinstance(e, kind)]


def rings(decision: Decision) -> list[tuple[str, str]]:
    return [(r.call_id, r.seat) for r in of(decision, fx.RingSeat)]


def call_moves(decision: Decision, call_id: str) -> list[tuple[str | None, str]]:
    return [(e.from_state, e.to_state) for e in of(decision, CallTransition) if e.call_id == call_id]


def seat_moves(decision: Decision, seat: str) -> list[tuple[str | None, str]]:
    return [(e.from_state, e.to_state) for e in of(decision, SeatTransition) if e.seat == seat]


def snapshot(room: Room):
    return (
        {cid: (k.state, k.seat, k.leg, k.recording, k.seq) for cid, k in room.calls.items()},
        {sid: (s.state, s.reason, s.registered, s.device_in_use, s.since, s.call_id) for sid, s in room.seats.items()},
        list(room.queue),
    )


# ---- arrival ----------------------------------------------------------------------------------------


def test_an_arriving_call_is_recorded_answered_greeted_and_queued():
    d = desk("seat01", registered=())
    out = d.arrive("c1", number="081234567890")
    received, queued = of(out, CallTransition)
    assert (received.from_state, received.to_state) == (None, "received")
    assert received.data == {
        "caller_number": "081234567890",
        "caller_name": "name c1",
        "carrier": "telkomsel",
        "dialed": "112",
        "channel_id": "chan-c1",
        "via": "controller",
        "flagged": False,
    }
    assert (queued.from_state, queued.to_state) == ("received", "queued")
    assert out.effects == [
        fx.Answer("c1", "chan-c1"),
        fx.PlayPrompts("c1", "chan-c1", (GREETING,)),
        fx.StartTimer("announce:c1", 30.0, c.AnnouncePosition("c1")),
    ]
    assert d.call("c1").state == CallState.QUEUED
    assert d.room.position("c1") == 1


def test_the_caller_is_answered_before_anything_is_played_or_a_seat_rung():
    d = desk("seat01")
    out = d.arrive("c1")
    kinds = [type(e) for e in out.effects]
    assert kinds[0] is fx.Answer
    assert kinds.index(fx.PlayPrompts) < kinds.index(fx.RingSeat)


def test_a_repeated_arrival_with_the_same_id_is_ignored_while_the_call_lives():
    d = desk("seat01", registered=())
    d.arrive("c1")
    before = snapshot(d.room)
    out = d.arrive("c1")
    assert out.events == [] and out.effects == []
    assert snapshot(d.room) == before


def test_a_repeated_arrival_of_a_finished_call_does_not_bring_it_back():
    d = desk("seat01", registered=())
    d.arrive("c1")
    d.do(c.CallerHungUp("c1"))
    out = d.arrive("c1")
    assert out.events == [] and out.effects == []
    assert "c1" not in d.room.calls and d.room.queue == []


# ---- assignment -------------------------------------------------------------------------------------


def test_a_call_goes_to_the_eligible_seat_idle_the_longest():
    d = desk("seat01", "seat02", "seat03", registered=())
    d.register("seat02")  # idle since T0+1
    d.register("seat03")  # T0+2
    d.register("seat01")  # T0+3
    out = d.arrive("c1")
    assert rings(out) == [("c1", "seat02")]
    out = d.arrive("c2")
    assert rings(out) == [("c2", "seat03")]


def test_seats_idle_since_the_same_moment_are_taken_in_id_order():
    d = desk("seat03", "seat01", "seat02", registered=())
    for seat in ("seat03", "seat01", "seat02"):
        d.do(c.SeatRegistration(seat, True), after_s=0)
    assert rings(d.arrive("c1")) == [("c1", "seat01")]


def test_offering_a_call_rings_the_seat_with_the_caller_identity_and_arms_the_ring_timer():
    d = desk("seat01")
    out = d.arrive("c1", number="+6281299")
    leg = d.leg("c1")
    assert of(out, fx.RingSeat) == [fx.RingSeat("c1", "seat01", leg, "+6281299", "name c1", 15.0)]
    assert fx.StartTimer(f"ring:{leg}", 15.0, c.RingTimeout("c1", "seat01", leg)) in out.effects
    assert call_moves(out, "c1")[-1] == ("queued", "offered")
    assert seat_moves(out, "seat01") == [("available", "offered")]
    offered = [e for e in of(out, SeatTransition) if e.to_state == "offered"][0]
    assert offered.call_id == "c1"
    assert (d.call("c1").seat, d.seat("seat01").call_id) == ("seat01", "c1")
    assert d.room.queue == []


def test_a_call_is_never_offered_to_two_seats_at_once():
    d = desk("seat01", "seat02", "seat03")
    out = d.arrive("c1")
    assert len(rings(out)) == 1
    first_seat = d.call("c1").seat
    old_leg = d.leg("c1")
    out = d.ring_out("c1")
    assert len(rings(out)) == 1 and rings(out)[0][1] != first_seat
    assert fx.Hangup("c1", old_leg, "no_answer") in out.effects
    assert [s.id for s in d.room.seats.values() if s.state == SeatState.OFFERED] == [d.call("c1").seat]


def test_a_seat_is_never_offered_two_calls_at_once():
    d = desk("seat01")
    assert rings(d.arrive("c1")) == [("c1", "seat01")]
    assert rings(d.arrive("c2")) == []
    assert d.queued_ids() == ["c2"]


def test_an_unregistered_seat_never_gets_a_call():
    d = desk("seat01", "seat02", registered=("seat02",))
    d.do(c.SeatReady("seat01"))  # signed in on the console, but its softphone is not registered
    assert d.seat("seat01").state == SeatState.AVAILABLE and not d.seat("seat01").eligible
    assert rings(d.arrive("c1")) == [("c1", "seat02")]
    assert rings(d.arrive("c2")) == []
    assert d.queued_ids() == ["c2"]
    out = d.do(c.SeatRegistration("seat01", True))
    assert rings(out) == [("c2", "seat01")]


def test_a_seat_that_unregisters_while_available_goes_offline():
    d = desk("seat01")
    out = d.do(c.SeatRegistration("seat01", False))
    assert seat_moves(out, "seat01") == [("available", "offline")]
    assert rings(d.arrive("c1")) == []


def test_a_seat_whose_device_is_in_use_gets_no_call_until_it_is_free():
    d = desk("seat01")
    d.do(c.SeatDeviceInUse("seat01", True))  # e.g. a call the fallback queue put through
    out = d.arrive("c1")
    assert rings(out) == [] and d.queued_ids() == ["c1"]
    assert d.seat("seat01").state == SeatState.AVAILABLE
    out = d.do(c.SeatDeviceInUse("seat01", False))
    assert rings(out) == [("c1", "seat01")]


@pytest.mark.parametrize("auto_ready", [True, False])
def test_registering_makes_an_offline_seat_available_only_under_auto_ready(auto_ready):
    d = desk("seat01", policy=Policy(auto_ready_on_register=auto_ready), registered=())
    out = d.do(c.SeatRegistration("seat01", True))
    if auto_ready:
        assert seat_moves(out, "seat01") == [("offline", "available")]
        assert of(out, fx.FallbackMembership) == [fx.FallbackMembership("seat01", member=True, paused=False)]
    else:
        assert out.events == [] and out.effects == []
        assert d.seat("seat01").state == SeatState.OFFLINE and d.seat("seat01").registered


def test_a_repeated_registration_report_changes_nothing():
    d = desk("seat01")
    before = snapshot(d.room)
    out = d.do(c.SeatRegistration("seat01", True))
    assert out.events == [] and out.effects == [] and snapshot(d.room) == before


# ---- queue order ------------------------------------------------------------------------------------


def _serve(d: Desk, call_id: str) -> None:
    """Answer the offered call, let the caller hang up, finish wrap-up."""
    seat = d.call(call_id).seat
    d.answer(call_id)
    d.do(c.CallerHungUp(call_id), after_s=30)
    d.do(c.WrapUpDone(seat), after_s=10)


def test_three_callers_and_one_seat_are_served_in_arrival_order():
    d = desk("seat01")
    offered = []
    for cid in ("c1", "c2", "c3"):
        offered += rings(d.arrive(cid))
    assert d.queued_ids() == ["c2", "c3"]
    for cid in ("c1", "c2"):
        _serve(d, cid)
        offered += rings(d.log[-1])
    _serve(d, "c3")
    assert [cid for cid, _ in offered] == ["c1", "c2", "c3"]
    assert d.room.calls == {} and d.seat("seat01").state == SeatState.AVAILABLE


def test_a_call_put_back_after_a_ring_out_keeps_its_place_ahead_of_later_callers():
    d = desk("seat01", "seat02")
    d.arrive("c1")  # -> seat01
    d.arrive("c2")  # -> seat02
    d.arrive("c3")  # waits
    assert d.call("c1").seat == "seat01" and d.call("c2").seat == "seat02"
    d.ring_out("c1")  # seat01 paused, c1 back in the queue with nobody free
    assert d.queued_ids() == ["c1", "c3"]
    assert d.room.position("c1") == 1 and d.room.position("c3") == 2
    d.answer("c2")
    d.do(c.SeatLegHungUp("c2", "seat02", d.leg("c2")), after_s=30)
    out = d.do(c.WrapUpDone("seat02"))
    assert rings(out) == [("c1", "seat02")]


def test_waiting_positions_follow_arrival_order_and_close_up_when_a_caller_leaves():
    d = desk("seat01", registered=())
    for cid in ("c1", "c2", "c3", "c4"):
        d.arrive(cid)
    assert [d.room.position(x) for x in ("c1", "c2", "c3", "c4")] == [1, 2, 3, 4]
    d.do(c.CallerHungUp("c2"))
    assert [d.room.position(x) for x in ("c1", "c3", "c4")] == [1, 2, 3]
    assert d.room.position("c2") is None


# ---- ring timeout / failed legs ---------------------------------------------------------------------


def test_a_seat_that_lets_a_call_ring_out_is_paused_not_responding_and_the_call_goes_to_the_next_seat():
    d = desk("seat01", "seat02")
    d.arrive("c1")
    assert d.call("c1").seat == "seat01"
    old_leg = d.leg("c1")
    out = d.ring_out("c1")
    assert fx.Hangup("c1", old_leg, "no_answer") in out.effects
    assert fx.CancelTimer(f"ring:{old_leg}") in out.effects
    assert fx.FallbackMembership("seat01", member=True, paused=True) in out.effects
    assert seat_moves(out, "seat01") == [("offered", "paused")]
    assert d.seat("seat01").reason == "not_responding"
    assert call_moves(out, "c1") == [("offered", "queued"), ("queued", "offered")]
    assert rings(out) == [("c1", "seat02")]
    assert d.leg("c1") != old_leg
    assert d.call("c1").seq == 1


def test_a_ring_out_with_no_other_seat_leaves_the_call_waiting():
    d = desk("seat01")
    d.arrive("c1")
    out = d.ring_out("c1")
    assert rings(out) == [] and d.queued_ids() == ["c1"]
    assert d.call("c1").state == CallState.QUEUED and d.call("c1").seat is None and d.call("c1").leg is None


def test_the_ring_is_timed_from_the_phones_ringing_and_a_repeated_ringing_changes_nothing():
    d = desk("seat01", "seat02")
    d.arrive("c1")
    leg = d.leg("c1")
    out = d.ring("c1", after_s=3.0)  # the switch, busy with a surge, took 3 s to reach the phone
    assert out.effects == [fx.StartTimer(f"ring:{leg}", 15.0, c.RingTimeout("c1", "seat01", leg))]
    assert out.events == []
    assert d.ring("c1").effects == []  # a repeated 180 does not restart the ring


def test_a_phone_that_never_rings_within_the_ring_time_is_counted_not_paused_and_the_caller_moves_on():
    d = desk("seat01", "seat02")
    d.arrive("c1")
    leg = d.leg("c1")
    out = d.do(c.RingTimeout("c1", "seat01", leg), after_s=15.0)
    assert fx.Hangup("c1", leg, "no_answer") in out.effects
    assert d.seat("seat01").state != SeatState.PAUSED and d.seat("seat01").resting
    [failed] = failures(out)
    assert (failed.kind, failed.failures, failed.paused) == ("no_ring", 1, False)
    assert rings(out) == [("c1", "seat02")]


def test_a_phone_that_never_rings_three_times_in_a_row_is_paused_phone_failing():
    d = desk("seat01", registered=("seat01",))
    d.arrive("c1")
    for n in range(3):
        assert d.call("c1").seat == "seat01", n
        out = d.do(c.RingTimeout("c1", "seat01", d.leg("c1")), after_s=15.0)
        if n < 2:
            d.do(c.SeatRested("seat01"), after_s=5.0)
    assert d.seat("seat01").reason == "phone_failing" and failures(out)[0].paused
    assert d.queued_ids() == ["c1"]


@pytest.mark.parametrize("late", [c.SeatLegRinging, c.RingTimeout])
def test_a_ringing_or_ring_timeout_for_a_superseded_leg_changes_nothing(late):
    d = desk("seat01", "seat02")
    d.arrive("c1")
    old = late("c1", "seat01", d.leg("c1"))
    d.ring_out("c1")
    before = snapshot(d.room)
    out = d.do(old)
    assert out.events == [] and out.effects == [] and snapshot(d.room) == before


# ---- a seat's phone that refuses, drops or leaves a call (domain/seat_faults.py) ------------------------------


def refuse(d: Desk, call_id: str, cause: int | None = 17, after_s: float = 0.05) -> Decision:
    """The offered seat's phone answers the INVITE with a failure (17: 486 Busy Here)."""
    call = d.call(call_id)
    return d.do(c.SeatLegHungUp(call_id, call.seat, call.leg, cause), after_s)


def failures(decision: Decision) -> list[SeatPhoneFailed]:
    return of(decision, SeatPhoneFailed)


@pytest.mark.parametrize(
    ("cause", "kind"),
    [
        (17, "busy"),  # 486 Busy Here, 600
        (21, "rejected"),  # 603 Decline, 403
        (58, "incompatible"),  # 488 Not Acceptable Here (no common codec)
        (65, "incompatible"),
        (88, "incompatible"),
        (18, "unreachable"),  # 408
        (19, "unreachable"),  # 480
        (34, "unreachable"),  # 503
        (None, "unknown"),
    ],
)
def test_a_phone_refusing_a_call_passes_the_caller_to_the_next_seat_and_rests_without_being_paused(cause, kind):
    d = desk("seat01", "seat02")
    d.arrive("c1")
    leg = d.leg("c1")
    out = refuse(d, "c1", cause)
    assert not of(out, fx.Hangup)  # the leg is already gone
    assert fx.CancelTimer(f"ring:{leg}") in out.effects
    assert seat_moves(out, "seat01") == [("offered", "available")]
    assert not [e for e in of(out, fx.FallbackMembership) if e.paused]
    assert rings(out) == [("c1", "seat02")]  # at once, with no other caller in between
    assert failures(out) == [SeatPhoneFailed("seat01", d.now, "c1", kind, cause, 1, 5.0, False)]
    assert fx.StartTimer("rest:seat01", 5.0, c.SeatRested("seat01")) in out.effects
    assert d.seat("seat01").resting and not d.seat("seat01").eligible


def test_a_phone_that_answered_and_hung_up_before_the_bridge_dropped_the_call():
    """The leg was up (the phone answered) but ended before the controller saw it answered: a drop, not a refusal."""
    d = desk("seat01", "seat02")
    d.arrive("c1")
    call = d.call("c1")
    out = d.do(c.SeatLegHungUp("c1", call.seat, call.leg, 16, answered=True), 0.05)
    assert rings(out) == [("c1", "seat02")]
    assert [(f.seat, f.kind) for f in failures(out)] == [("seat01", "dropped")]


def test_a_refused_caller_keeps_its_place_at_the_head_and_a_resting_seat_is_tried_again_after_its_rest():
    d = desk("seat01")
    d.arrive("c1")
    d.arrive("c2")
    out = refuse(d, "c1")
    assert rings(out) == [] and d.queued_ids() == ["c1", "c2"]  # the only seat rests: c1 is still first
    assert d.do(c.AnnouncePosition("c1")).effects[0] == fx.PlayPrompts("c1", "chan-c1", (position_prompt(1),))
    out = d.do(c.SeatRested("seat01"), after_s=4)
    assert rings(out) == [("c1", "seat01")]


def test_three_refusals_in_a_row_pause_the_seat_as_phone_failing():
    d = desk("seat01", "seat02", registered=("seat01",))
    d.arrive("c1")
    seen = []
    for n in (1, 2, 3):
        assert d.call("c1").seat == "seat01"
        out = refuse(d, "c1", 21)
        (failed,) = failures(out)
        seen.append((failed.failures, failed.paused, failed.retry_s))
        if n < 3:
            assert rings(d.do(c.SeatRested("seat01"), after_s=5)) == [("c1", "seat01")]  # tried again after its rest
    assert seen == [(1, False, 5.0), (2, False, 5.0), (3, True, 0.0)]
    assert d.seat("seat01").state == SeatState.PAUSED and d.seat("seat01").reason == "phone_failing"
    assert seat_moves(out, "seat01") == [("offered", "paused")]
    assert fx.FallbackMembership("seat01", member=True, paused=True) in out.effects
    assert not d.seat("seat01").resting and not [
        e for e in out.effects if isinstance(e, fx.StartTimer) and e.key == "rest:seat01"
    ]
    assert d.queued_ids() == ["c1"]  # the caller waits, first in line, for a seat that works


@pytest.mark.parametrize("fresh_start", ["answered", "registered_again", "siap"])
def test_the_count_of_refusals_starts_again_when_the_phone_answers_registers_again_or_the_call_taker_says_siap(
    fresh_start,
):
    d = desk("seat01")
    for n in (1, 2):
        d.arrive(f"r{n}")
        refuse(d, f"r{n}")
        d.do(c.CallerHungUp(f"r{n}"))
        d.do(c.SeatRested("seat01"), after_s=5)
    assert d.seat("seat01").failures == 2
    if fresh_start == "answered":
        d.arrive("ok")
        d.answer("ok")
        _ = [d.do(c.CallerHungUp("ok"), after_s=30), d.do(c.WrapUpDone("seat01"))]
    elif fresh_start == "registered_again":
        d.do(c.SeatRegistration("seat01", False))
        d.do(c.SeatRegistration("seat01", True))
    else:
        d.do(c.SeatReady("seat01"))
    assert d.seat("seat01").failures == 0
    d.arrive("r3")
    out = refuse(d, "r3")
    assert failures(out)[0].failures == 1 and d.seat("seat01").state == SeatState.AVAILABLE


def test_siap_ends_a_rest_at_once_and_the_waiting_caller_rings_the_seat_again():
    d = desk("seat01")
    d.arrive("c1")
    refuse(d, "c1")
    out = d.do(c.SeatReady("seat01"))
    assert fx.CancelTimer("rest:seat01") in out.effects
    assert rings(out) == [("c1", "seat01")]
    assert d.do(c.SeatRested("seat01")).effects == []  # the cancelled rest's late timer changes nothing


def test_a_resting_seat_is_not_reserved_for_a_call_back():
    d = desk("seat01", "seat02")
    d.arrive("c1")
    refuse(d, "c1")
    assert d.do(c.SeatReserve("seat01", "callback")).refused == "seat_not_ready"


def test_a_ring_out_still_pauses_at_once_a_phone_that_rings_is_not_refusing():
    d = desk("seat01", "seat02")
    d.arrive("c1")
    out = d.ring_out("c1")
    assert d.seat("seat01").reason == "not_responding" and failures(out) == []


def test_a_seat_that_answers_and_hangs_up_at_once_gives_the_caller_back_first_in_line():
    d = desk("seat01", "seat02", registered=("seat01",))
    d.arrive("c1")
    d.arrive("c2")  # waits behind c1
    d.answer("c1", after_s=0.5)
    leg = d.leg("c1")
    out = d.do(c.SeatLegHungUp("c1", "seat01", leg, 16), after_s=0.4)
    assert call_moves(out, "c1") == [("connected", "queued")]
    assert d.queued_ids() == ["c1", "c2"] and d.call("c1").seat_lost
    assert fx.DestroyBridge("c1", bridge_id("c1")) in out.effects
    assert fx.StartHoldMusic("c1", "chan-c1") in out.effects
    assert fx.Hangup("c1", "chan-c1", "call_end") not in out.effects  # the caller stays
    assert of(out, RecordingFinished) and fx.StartTimer("announce:c1", 30.0, c.AnnouncePosition("c1")) in out.effects
    assert seat_moves(out, "seat01") == [("busy", "wrap_up")]
    assert failures(out) == [SeatPhoneFailed("seat01", d.now, "c1", "dropped", 16, 1, 5.0, False)]
    out = d.do(c.SeatRegistration("seat02", True))  # the next seat: c1 first, before c2 who came earlier
    assert rings(out) == [("c1", "seat02")]


def test_a_phone_that_answers_and_drops_every_call_is_paused_after_three_and_the_caller_still_waits_first():
    d = desk("seat01")
    d.arrive("c1")
    for n in (1, 2, 3):
        d.answer("c1", after_s=0.3)
        out = d.do(c.SeatLegHungUp("c1", "seat01", d.leg("c1"), 16), after_s=0.1)
        assert failures(out)[0].failures == n  # answering did not clear the count
        if n < 3:
            d.do(c.WrapUpDone("seat01"))
            assert rings(d.do(c.SeatRested("seat01"), after_s=5)) == [("c1", "seat01")]
    assert d.seat("seat01").reason == "phone_failing" and d.queued_ids() == ["c1"]


def test_a_seat_that_hangs_up_after_talking_ends_the_call_as_before():
    d = desk("seat01")
    d.arrive("c1")
    d.answer("c1")
    out = d.do(c.SeatLegHungUp("c1", "seat01", d.leg("c1"), 16), after_s=2.0)
    assert call_moves(out, "c1") == [("connected", "ended")] and failures(out) == []


def test_a_ringing_seat_whose_phone_unregisters_passes_the_caller_on_at_once_and_goes_offline_unblamed():
    d = desk("seat01", "seat02")
    d.arrive("c1")
    leg = d.leg("c1")
    out = d.do(c.SeatRegistration("seat01", False))
    assert fx.Hangup("c1", leg, "seat_unregistered") in out.effects
    assert seat_moves(out, "seat01") == [("offered", "offline")]
    assert rings(out) == [("c1", "seat02")] and failures(out) == []
    assert d.seat("seat01").failures == 0


def test_a_seat_leg_that_could_not_be_placed_because_the_switch_or_link_failed_does_not_pause_the_seat():
    """Asterisk down or ARI unreachable: not the phone's fault. The seat stays available, keeps its idle place, and
    the caller keeps its place in line."""
    d = desk("seat01", "seat02")
    d.arrive("c1")
    leg = d.leg("c1")
    out = d.do(c.SeatLegFailed("c1", "seat01", leg, "originate: connection refused", seat_fault=False))
    assert d.seat("seat01").state != SeatState.PAUSED
    assert ("offered", "paused") not in seat_moves(out, "seat01")
    assert not [e for e in of(out, fx.FallbackMembership) if e.paused]
    assert failures(out) == [] and d.seat("seat01").failures == 0
    # not rung again at once: a switch that is down fails every ring, and the room would offer in a tight loop
    assert d.seat("seat01").resting and fx.StartTimer("rest:seat01", 1.0, c.SeatRested("seat01")) in out.effects
    assert rings(out) == [("c1", "seat02")]


def test_a_switch_that_fails_every_ring_does_not_make_the_room_offer_in_a_loop():
    d = desk("seat01")
    d.arrive("c1")
    out = d.do(c.SeatLegFailed("c1", "seat01", d.leg("c1"), "originate: connection refused", seat_fault=False))
    assert rings(out) == [] and d.call("c1").state == CallState.QUEUED
    out = d.do(c.SeatRested("seat01"), after_s=1.0)
    assert rings(out) == [("c1", "seat01")]  # tried again a second later


@pytest.mark.parametrize("state", ["queued", "offered"])
def test_a_waiting_caller_moved_to_the_fallback_queue_by_the_dialplan_is_handed_over_not_abandoned(state):
    d = desk("seat01", registered=("seat01",) if state == "offered" else ())
    d.arrive("c1")
    leg = d.call("c1").leg
    out = d.do(c.CallerLeftApp("c1"))
    assert out.events == [] and out.effects == [fx.FindCaller("c1", "chan-c1")]  # moved, or hung up at Stasis()?
    out = d.do(c.CallerMoved("c1"))
    assert call_moves(out, "c1") == [(state, "handed_over")]
    assert not of(out, fx.ContinueToFallback)  # the dialplan already moved it
    if state == "offered":
        assert fx.Hangup("c1", leg, "handed_over") in out.effects
        assert seat_moves(out, "seat01") == [("offered", "available")]
    assert "c1" not in d.room.calls and d.room.queue == []


def test_a_waiting_caller_who_left_the_app_and_whose_channel_is_gone_is_abandoned():
    """He hung up in the instant Stasis() started: StasisEnd was all Asterisk sent, and no fallback note
    follows a hang-up in Stasis(), so only 'abandoned' keeps him on the call-back list."""
    d = desk("seat01", registered=())
    d.arrive("c1")
    assert d.do(c.CallerLeftApp("c1")).effects == [fx.FindCaller("c1", "chan-c1")]
    out = d.do(c.CallerHungUp("c1"))
    assert call_moves(out, "c1") == [("queued", "abandoned")]


def test_a_connected_caller_leaving_the_app_ends_the_call_like_a_hang_up():
    d = desk("seat01")
    d.arrive("c1")
    d.answer("c1")
    out = d.do(c.CallerLeftApp("c1"))
    assert call_moves(out, "c1") == [("connected", "ended")]


def test_the_hang_up_report_of_a_leg_the_room_itself_hung_up_changes_nothing():
    d = desk("seat01", "seat02")
    d.arrive("c1")
    old_leg = d.leg("c1")
    d.ring_out("c1")
    before = snapshot(d.room)
    out = d.do(c.SeatLegHungUp("c1", "seat01", old_leg))
    assert out.events == [] and out.effects == [] and snapshot(d.room) == before


# ---- answer -----------------------------------------------------------------------------------------


def test_an_answered_seat_leg_connects_the_call_bridges_and_records_it():
    d = desk("seat01")
    d.arrive("c1")
    leg = d.leg("c1")
    out = d.answer("c1")
    assert call_moves(out, "c1") == [("offered", "connected")]
    assert seat_moves(out, "seat01") == [("offered", "busy")]
    bridge = bridge_id("c1")
    name = recording_name(leg)
    assert name.startswith("call-c1-seat01-")
    assert out.effects == [
        fx.CancelTimer(f"ring:{leg}"),
        fx.CancelTimer("announce:c1"),
        fx.Bridge("c1", bridge, ("chan-c1", leg)),
        fx.StartRecording("c1", bridge, name),
    ]
    assert of(out, RecordingStarted) == [RecordingStarted("c1", d.now, name, f"{REC}/{name}.wav")]
    assert d.call("c1").state == CallState.CONNECTED and d.call("c1").recording == name
    assert d.seat("seat01").state == SeatState.BUSY and d.seat("seat01").call_id == "c1"


def _stale_answer(case: str, d: Desk) -> c.SeatLegAnswered:
    if case == "superseded leg":
        d.arrive("c1")
        old = c.SeatLegAnswered("c1", "seat01", d.leg("c1"))
        d.ring_out("c1")  # -> seat02, new leg
        return old
    if case == "unknown call":
        return c.SeatLegAnswered("nope", "seat01", "leg-nope-seat01-7")
    if case == "abandoned call":
        d.arrive("c1")
        old = c.SeatLegAnswered("c1", "seat01", d.leg("c1"))
        d.do(c.CallerHungUp("c1"))
        return old
    if case == "already connected":
        d.arrive("c1")
        again = c.SeatLegAnswered("c1", "seat01", d.leg("c1"))
        d.answer("c1")
        return again
    raise AssertionError(case)


@pytest.mark.parametrize("case", ["superseded leg", "unknown call", "abandoned call", "already connected"])
def test_a_stale_seat_leg_answer_only_hangs_up_that_leg(case):
    d = desk("seat01", "seat02")
    cmd = _stale_answer(case, d)
    before = snapshot(d.room)
    out = d.do(cmd)
    assert out.events == []
    assert out.effects == [fx.Hangup(cmd.call_id, cmd.leg, "stale_offer")]
    assert snapshot(d.room) == before


# ---- caller hang-up before connection ---------------------------------------------------------------


def test_a_caller_who_hangs_up_while_queued_is_abandoned():
    d = desk("seat01", registered=())
    d.arrive("c1")
    out = d.do(c.CallerHungUp("c1"))
    (ev,) = of(out, CallTransition)
    assert (ev.from_state, ev.to_state) == ("queued", "abandoned")
    assert ev.data == {"ended_by": "caller", "disposition": "abandoned"}
    assert out.effects == [fx.CancelTimer("announce:c1")]
    assert d.room.calls == {} and d.room.queue == []


def test_a_caller_who_hangs_up_while_offered_is_abandoned_and_the_seat_is_freed():
    d = desk("seat01")
    d.arrive("c1")
    leg = d.leg("c1")
    out = d.do(c.CallerHungUp("c1"))
    assert call_moves(out, "c1") == [("offered", "abandoned")]
    assert fx.Hangup("c1", leg, "caller_gone") in out.effects
    assert fx.CancelTimer(f"ring:{leg}") in out.effects
    assert fx.CancelTimer("announce:c1") in out.effects
    assert seat_moves(out, "seat01") == [("offered", "available")]
    seat = d.seat("seat01")
    assert seat.state == SeatState.AVAILABLE and seat.reason is None and seat.call_id is None
    assert not of(out, fx.FallbackMembership)  # not the seat's fault: it is not paused


def test_a_seat_freed_by_a_caller_hanging_up_during_the_offer_keeps_its_idle_position():
    d = desk("seat01", "seat02", registered=())
    d.register("seat01")  # idle since T0+1
    d.register("seat02")  # idle since T0+2
    idle_since = d.seat("seat01").idle_since
    d.arrive("c1")  # offered to seat01 at T0+3
    d.do(c.CallerHungUp("c1"))
    assert d.seat("seat01").idle_since == idle_since
    out = d.arrive("c2")  # seat01 has still been idle longest
    assert rings(out) == [("c2", "seat01")]


def test_a_hang_up_for_an_unknown_call_changes_nothing():
    d = desk("seat01")
    out = d.do(c.CallerHungUp("ghost"))
    assert out.events == [] and out.effects == []


# ---- end of a connected call ------------------------------------------------------------------------


@pytest.mark.parametrize("side", ["caller", "seat"])
def test_a_connected_call_ends_when_either_side_hangs_up_and_the_other_side_is_hung_up(side):
    d = desk("seat01")
    d.arrive("c1")
    leg = d.leg("c1")
    d.answer("c1")
    cmd = c.CallerHungUp("c1") if side == "caller" else c.SeatLegHungUp("c1", "seat01", leg)
    out = d.do(cmd, after_s=120)
    other = leg if side == "caller" else "chan-c1"
    assert of(out, fx.Hangup) == [fx.Hangup("c1", other, "call_end")]
    assert fx.DestroyBridge("c1", bridge_id("c1")) in out.effects
    assert fx.StartTimer("wrap:seat01", 10.0, c.WrapUpDone("seat01")) in out.effects
    assert fx.CancelTimer("announce:c1") in out.effects
    assert of(out, RecordingFinished) == [RecordingFinished("c1", d.now, recording_name(leg))]
    (ended,) = [e for e in of(out, CallTransition) if e.call_id == "c1"]
    assert (ended.from_state, ended.to_state) == ("connected", "ended")
    assert ended.data["ended_by"] == side and "disposition" not in ended.data
    assert seat_moves(out, "seat01") == [("busy", "wrap_up")]
    assert d.room.calls == {}
    assert d.seat("seat01").call_id == "c1"  # the incident form still knows which call it is for


def test_after_wrap_up_the_seat_is_available_and_takes_the_next_waiting_call():
    d = desk("seat01")
    d.arrive("c1")
    d.answer("c1")
    d.arrive("c2")
    d.do(c.CallerHungUp("c1"))
    assert d.seat("seat01").state == SeatState.WRAP_UP and d.queued_ids() == ["c2"]
    out = d.do(c.WrapUpDone("seat01"), after_s=10)
    assert seat_moves(out, "seat01") == [("wrap_up", "available"), ("available", "offered")]
    assert rings(out) == [("c2", "seat01")]


def test_a_seat_whose_phone_unregisters_mid_call_gives_the_caller_back_first_in_line_and_goes_offline():
    """Offline mid-call: the phone unregistered or stopped answering the switch's qualify pings (gone, crashed, cut
    off). The caller would talk into a dead line: it leaves the bridge, hears music and is first in line again."""
    d = desk("seat01", "seat02", registered=("seat01",))
    d.arrive("c1")
    d.arrive("c2")
    d.answer("c1")
    leg = d.leg("c1")
    out = d.do(c.SeatRegistration("seat01", False), after_s=20)
    assert fx.Hangup("c1", leg, "seat_unregistered") in out.effects
    assert fx.DestroyBridge("c1", bridge_id("c1")) in out.effects and fx.StartHoldMusic("c1", "chan-c1") in out.effects
    assert call_moves(out, "c1") == [("connected", "queued")] and d.queued_ids() == ["c1", "c2"]
    assert failures(out) == [] and d.seat("seat01").failures == 0  # not blamed: the phone is gone
    out = d.do(c.WrapUpDone("seat01"))
    assert seat_moves(out, "seat01") == [("wrap_up", "offline")]
    assert rings(d.do(c.SeatRegistration("seat02", True))) == [("c1", "seat02")]


def test_a_seat_whose_phone_unregisters_while_an_agency_is_in_the_call_leaves_the_caller_with_the_agency():
    d = desk("s1", "s2")
    seat = _connected(d)
    _conference(d)
    out = d.do(c.SeatRegistration(seat, False))
    assert call_moves(out, "h1") == [("connected", "transferred")]


@pytest.mark.parametrize("state", ["available", "paused", "busy"])
def test_a_late_wrap_up_done_is_ignored_outside_wrap_up(state):
    d = desk("seat01")
    if state == "paused":
        d.do(c.SeatPause("seat01", "break"))
    if state == "busy":
        d.arrive("c1")
        d.answer("c1")
    before = snapshot(d.room)
    out = d.do(c.WrapUpDone("seat01"))
    assert out.events == [] and out.effects == [] and snapshot(d.room) == before


# ---- pause / ready ----------------------------------------------------------------------------------


def test_pausing_an_offered_seat_hangs_up_its_leg_and_requeues_the_call_for_the_next_seat():
    d = desk("seat01", "seat02")
    d.arrive("c1")
    leg = d.leg("c1")
    out = d.do(c.SeatPause("seat01", "break"))
    assert fx.Hangup("c1", leg, "seat_paused") in out.effects
    assert seat_moves(out, "seat01") == [("offered", "paused")]
    assert d.seat("seat01").reason == "break"
    assert fx.FallbackMembership("seat01", member=True, paused=True) in out.effects
    assert call_moves(out, "c1") == [("offered", "queued"), ("queued", "offered")]
    assert rings(out) == [("c1", "seat02")]


def test_a_seat_is_reserved_for_a_call_back_only_when_it_is_ready():
    d = desk("seat01", "seat02", "seat03", registered=("seat01", "seat02"))
    out = d.do(c.SeatReserve("seat01", "callback"))
    assert out.refused is None and seat_moves(out, "seat01") == [("available", "paused")]
    assert d.seat("seat01").reason == "callback"
    assert fx.FallbackMembership("seat01", member=True, paused=True) in out.effects
    d.arrive("c1")  # offered to seat02 (seat01 is paused)
    for seat in ("seat01", "seat02", "seat03", "seat99"):  # paused, offered a 112 call, phone away, unknown
        out = d.do(c.SeatReserve(seat, "callback"))
        assert out.refused == ("no_seat" if seat == "seat99" else "seat_not_ready") and not out.events
        assert not out.effects
    assert d.call("c1").seat == "seat02" and d.seat("seat02").state == SeatState.OFFERED


def test_pausing_the_only_offered_seat_leaves_the_call_first_in_line():
    d = desk("seat01")
    d.arrive("c1")
    d.arrive("c2")
    d.do(c.SeatPause("seat01", "training"))
    assert d.queued_ids() == ["c1", "c2"]


@pytest.mark.parametrize("state", ["available", "wrap_up", "offline"])
def test_a_seat_can_be_paused_from_available_wrap_up_and_offline(state):
    d = desk("seat01", registered=() if state == "offline" else ("seat01",))
    if state == "wrap_up":
        d.arrive("c1")
        d.answer("c1")
        d.do(c.CallerHungUp("c1"))
    out = d.do(c.SeatPause("seat01", "technical"))
    assert seat_moves(out, "seat01") == [(state, "paused")]
    assert out.effects == [fx.FallbackMembership("seat01", member=True, paused=True)]
    assert d.seat("seat01").reason == "technical"


def test_a_busy_seat_is_not_paused_in_the_middle_of_a_call():
    d = desk("seat01")
    d.arrive("c1")
    d.answer("c1")
    before = snapshot(d.room)
    out = d.do(c.SeatPause("seat01", "break"))
    assert out.events == [] and out.effects == [] and snapshot(d.room) == before


@pytest.mark.parametrize("state", ["paused", "wrap_up", "offline"])
def test_seat_ready_makes_the_seat_available_and_it_takes_the_waiting_call(state):
    # without auto-ready a registered softphone leaves the seat offline until the call taker signs in
    d = desk("seat01", policy=Policy(auto_ready_on_register=state != "offline"))
    if state == "paused":
        d.do(c.SeatPause("seat01", "break"))
    elif state == "wrap_up":
        d.arrive("c0")
        d.answer("c0")
        d.do(c.CallerHungUp("c0"))
    assert d.seat("seat01").state.value == state and d.seat("seat01").registered
    d.arrive("c1")
    assert d.queued_ids() == ["c1"]
    out = d.do(c.SeatReady("seat01"))
    assert seat_moves(out, "seat01") == [(state, "available"), ("available", "offered")]
    assert fx.FallbackMembership("seat01", member=True, paused=False) in out.effects
    assert rings(out) == [("c1", "seat01")]
    assert d.seat("seat01").reason is None


@pytest.mark.parametrize("state", ["available", "offered", "busy"])
def test_seat_ready_is_ignored_when_the_seat_is_already_working(state):
    d = desk("seat01")
    if state in ("offered", "busy"):
        d.arrive("c1")
    if state == "busy":
        d.answer("c1")
    before = snapshot(d.room)
    out = d.do(c.SeatReady("seat01"))
    assert out.events == [] and out.effects == [] and snapshot(d.room) == before


def test_commands_for_unknown_seats_are_ignored():
    d = desk("seat01")
    for cmd in (
        c.SeatReady("x"),
        c.SeatPause("x", "break"),
        c.WrapUpDone("x"),
        c.SeatRegistration("x", True),
        c.SeatDeviceInUse("x", True),
    ):
        out = d.do(cmd)
        assert out.events == [] and out.effects == []


# ---- prompts ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("position", "prompt"),
    [
        (1, "padang112/position-1"),
        (2, "padang112/position-2"),
        (29, "padang112/position-29"),
        (MAX_POSITION_PROMPT, "padang112/position-30"),
        (MAX_POSITION_PROMPT + 1, "padang112/position-many"),
        (250, "padang112/position-many"),
    ],
)
def test_positions_up_to_30_are_announced_by_number_and_beyond_as_many(position, prompt):
    assert position_prompt(position) == prompt


def test_a_position_announcement_tells_the_caller_its_place_and_rearms_the_timer():
    d = desk("seat01", registered=())
    for cid in ("c1", "c2", "c3"):
        d.arrive(cid)
    out = d.do(c.AnnouncePosition("c2"), after_s=30)
    assert out.events == []
    assert out.effects == [
        fx.PlayPrompts("c2", "chan-c2", ("padang112/position-2",)),
        fx.StartTimer("announce:c2", 30.0, c.AnnouncePosition("c2")),
    ]


def test_the_31st_caller_in_line_hears_position_many():
    d = desk("seat01", registered=())
    for i in range(1, 32):
        d.arrive(f"c{i}", after_s=0.5)
    out = d.do(c.AnnouncePosition("c31"))
    assert fx.PlayPrompts("c31", "chan-c31", ("padang112/position-many",)) in out.effects
    out = d.do(c.AnnouncePosition("c30"))
    assert fx.PlayPrompts("c30", "chan-c30", ("padang112/position-30",)) in out.effects


def test_an_offered_call_hears_no_position_but_keeps_its_announcement_timer():
    d = desk("seat01")
    d.arrive("c1")
    out = d.do(c.AnnouncePosition("c1"))
    assert out.effects == [fx.StartTimer("announce:c1", 30.0, c.AnnouncePosition("c1"))]


@pytest.mark.parametrize("state", ["connected", "gone"])
def test_no_announcement_for_a_call_that_no_longer_waits(state):
    d = desk("seat01")
    d.arrive("c1")
    if state == "connected":
        d.answer("c1")
    else:
        d.do(c.CallerHungUp("c1"))
    out = d.do(c.AnnouncePosition("c1"))
    assert out.events == [] and out.effects == []


@pytest.mark.parametrize(
    ("state", "music"), [("queued", True), ("offered", True), ("connected", False), ("gone", False)]
)
def test_hold_music_follows_the_prompts_only_while_the_caller_waits(state, music):
    d = desk("seat01", registered=() if state == "queued" else ("seat01",))
    d.arrive("c1")
    if state == "connected":
        d.answer("c1")
    if state == "gone":
        d.do(c.CallerHungUp("c1"))
    out = d.do(c.PromptsFinished("c1"))
    assert out.events == []
    assert out.effects == ([fx.StartHoldMusic("c1", "chan-c1")] if music else [])


# ---- invariants under random operation --------------------------------------------------------------

SEATS = ("seat01", "seat02", "seat03")
CAUSES = (16, 17, 21, 58, 18, 34, None)
REASONS = ("break", "training", "technical")


def _random_command(
    rng: random.Random,
    room: Room,
    known: list[str],
    legs: list[tuple[str, str, str]],
    counter: list[int],
    faulty: bool = False,
) -> c.Command:
    """``faulty``: a room of misbehaving phones, where refusals replace the call takers' Siap presses."""
    offered = [k for k in room.calls.values() if k.state == CallState.OFFERED]
    connected = [k for k in room.calls.values() if k.state == CallState.CONNECTED]
    roll = rng.random()
    if faulty and offered and (0.20 <= roll < 0.34 or 0.74 <= roll < 0.82):
        k = rng.choice(offered)  # phones that rarely answer: refusals instead of answers and Siap presses
        return c.SeatLegHungUp(k.id, k.seat, k.leg, rng.choice(CAUSES))
    if roll < 0.18 or not known:
        counter[0] += 1
        cid = f"c{counter[0]}"
        known.append(cid)
        return c.CallArrived(cid, f"chan-{cid}", f"08{counter[0]:09d}", "", "xl", "112")
    if roll < 0.20:
        cid = rng.choice(known)
        return c.CallArrived(cid, f"chan-{cid}", "0", "", "xl", "112")
    if roll < 0.34 and offered:
        k = rng.choice(offered)
        return c.SeatLegAnswered(k.id, k.seat, k.leg)
    if roll < 0.36 and legs:
        cid, seat, leg = rng.choice(legs)
        return c.SeatLegAnswered(cid, seat, leg)  # maybe stale
    if roll < 0.46:
        return rng.choice([c.CallerHungUp, c.CallerLeftApp, c.CallerMoved])(rng.choice(known))
    if roll < 0.51 and connected:
        k = rng.choice(connected)
        return c.SeatLegHungUp(k.id, k.seat, k.leg, rng.choice(CAUSES))  # early ones are drops (min_talk_s)
    if roll < 0.56 and offered:
        k = rng.choice(offered)
        if rng.random() < 0.4:
            return c.SeatLegFailed(k.id, k.seat, k.leg, "originate", seat_fault=rng.random() < 0.5)
        return c.SeatLegHungUp(k.id, k.seat, k.leg, rng.choice(CAUSES))  # the phone refused: busy, declined...
    if roll < 0.60 and (offered or legs):
        if offered and rng.random() < 0.8:
            k = rng.choice(offered)
            ringing = c.SeatLegRinging(k.id, k.seat, k.leg)
            return rng.choice([ringing, ringing, c.RingTimeout(k.id, k.seat, k.leg)])
        cid, seat, leg = rng.choice(legs)
        return rng.choice([c.RingTimeout(cid, seat, leg), c.SeatLegHungUp(cid, seat, leg)])
    if roll < 0.66 and faulty:
        return c.SeatRested(rng.choice(SEATS))  # phones stay registered: nothing clears their count
    if roll < 0.66:
        return c.SeatRegistration(rng.choice(SEATS), rng.random() < 0.7)
    if roll < 0.70:
        return c.SeatDeviceInUse(rng.choice(SEATS), rng.random() < 0.4)
    if roll < 0.74:
        return c.SeatPause(rng.choice(SEATS), rng.choice(REASONS))
    if roll < 0.82:
        return c.SeatReady(rng.choice(SEATS))
    if roll < 0.89:
        return c.WrapUpDone(rng.choice(SEATS))
    if roll < 0.93:
        return c.SeatRested(rng.choice(SEATS))  # maybe late: its rest was cleared meanwhile
    if roll < 0.97:
        cid = rng.choice(known)
        return rng.choice([c.AnnouncePosition(cid), c.PromptsFinished(cid)])
    return _switch_view(rng, room)


def _switch_view(rng: random.Random, room: Room) -> c.Reconcile:
    """What the switch would report on a reconnect; now and then a caller left while the controller was away."""
    channels = []
    for k in room.calls.values():
        if rng.random() < 0.15:
            continue
        connected = k.state == CallState.CONNECTED
        channels.append(c.LiveChannel(k.channel, k.id, "inbound", answered=True, bridged=connected))
        if k.leg:
            channels.append(c.LiveChannel(k.leg, k.id, "seat", seat=k.seat, answered=connected, bridged=connected))
    registered = tuple(s.id for s in room.seats.values() if s.registered)
    paused = {s.id: s.reason for s in room.seats.values() if s.state == SeatState.PAUSED}
    in_use = tuple(s.id for s in room.seats.values() if s.device_in_use)
    return c.Reconcile(tuple(channels), registered=registered, paused=paused, in_use=in_use)


def _check_invariants(room: Room, cmd: c.Command, out: Decision, eligible_before: set[str]) -> None:
    where = f"after {cmd!r}"
    calls, seats = room.calls, room.seats
    # no call is left half-way or finished in the room
    for k in calls.values():
        assert k.state in (CallState.QUEUED, CallState.OFFERED, CallState.CONNECTED), where
    # no two calls share a seat; each offered/connected call's seat points back to it
    holding = [k for k in calls.values() if k.state in (CallState.OFFERED, CallState.CONNECTED)]
    assert len({k.seat for k in holding}) == len(holding), where
    for k in holding:
        seat = seats[k.seat]
        assert seat.call_id == k.id, where
        assert seat.state == (SeatState.OFFERED if k.state == CallState.OFFERED else SeatState.BUSY), where
        assert k.leg, where
    # seats that ring or talk hold a live call in the matching state
    for s in seats.values():
        if s.state in (SeatState.OFFERED, SeatState.BUSY):
            assert s.call_id in calls, where
            assert calls[s.call_id].seat == s.id, where
        elif s.state != SeatState.WRAP_UP:
            assert s.call_id is None, where
        assert (s.reason is not None) == (s.state == SeatState.PAUSED), where
    # the queue holds exactly the queued calls: genuine callers first, each group in arrival (seq) order
    queued = sorted((*k.queue_key, k.id) for k in calls.values() if k.state == CallState.QUEUED)
    assert room.queue == queued, where
    for k in calls.values():
        if k.state == CallState.QUEUED:
            assert k.seat is None and k.leg is None, where
    # nobody waits while a seat could take the call
    if room.queue:
        assert not [s.id for s in seats.values() if s.eligible], where
    # a phone's failures: it rests, or is paused after too many in a row, and is never paused before that
    limit = room.policy.seat_failures_to_pause
    for failed in of(out, SeatPhoneFailed):
        assert failed.paused == (failed.failures >= limit), where
        assert failed.retry_s == (0.0 if failed.paused else room.policy.seat_retry_s), where
        seat = seats[failed.seat]
        assert seat.state == SeatState.PAUSED if failed.paused else seat.resting, where
    for s in seats.values():
        assert s.failures < limit or s.state in (SeatState.PAUSED, SeatState.OFFLINE), where
    failing_moves = [e for e in of(out, SeatTransition) if e.reason == "phone_failing"]
    assert all(any(f.seat == e.seat and f.paused for f in of(out, SeatPhoneFailed)) for e in failing_moves), where
    # a caller whose seat dropped the call at once is first in line again (or already ringing the next seat):
    # only callers who lost their seats too and arrived before him stay ahead of him
    for moved in of(out, CallTransition):
        if (moved.from_state, moved.to_state) == ("connected", "queued") and moved.call_id in calls:
            k = calls[moved.call_id]
            assert k.seat_lost, where
            if k.state != CallState.OFFERED:
                ahead = [calls[entry[-1]] for entry in room.queue[: [e[-1] for e in room.queue].index(k.id)]]
                assert all(a.seat_lost and a.seq < k.seq for a in ahead), where
    # a seat is rung only if it was eligible just before, and once per decision
    rung = of(out, fx.RingSeat)
    assert len({r.seat for r in rung}) == len(rung) and len({r.call_id for r in rung}) == len(rung), where
    for r in rung:
        moves = seat_moves(out, r.seat)
        assert moves and moves[-1] == ("available", "offered"), where
        became_eligible = any(to == "available" for _, to in moves[:-1]) or (
            isinstance(cmd, (c.SeatRegistration, c.SeatDeviceInUse, c.SeatRested, c.SeatReady)) and cmd.seat == r.seat
        )
        assert r.seat in eligible_before or became_eligible, where
        seat = seats[r.seat]
        assert seat.registered and not seat.device_in_use and not seat.resting, where
        assert (
            fx.StartTimer(f"ring:{r.leg}", room.policy.ring_timeout_s, c.RingTimeout(r.call_id, r.seat, r.leg))
            in out.effects
        ), where


@pytest.mark.parametrize("block", range(8))
def test_room_invariants_hold_under_random_operation(block):
    faulty = block >= 6  # the last blocks: phones that keep refusing, seats paused phone_failing
    for seed in range(block * 50, block * 50 + 50):
        rng = random.Random(seed)
        room = Room(SEATS, POLICY, REC)
        now = T0
        for seat in SEATS if faulty else ():
            room.handle(c.SeatRegistration(seat, True), now)
        known: list[str] = []
        legs: list[tuple[str, str, str]] = []
        counter = [0]
        for step in range(rng.randint(20, 120)):
            cmd = _random_command(rng, room, known, legs, counter, faulty)
            eligible_before = {s.id for s in room.seats.values() if s.eligible}
            now += timedelta(seconds=rng.choice((0, 0.5, 1, 3, 15)))
            try:
                out = room.handle(cmd, now)
            except Exception as exc:  # pragma: no cover - a failure message with the seed is the point
                raise AssertionError(f"seed {seed} step {step}: {cmd!r} raised {exc!r}") from exc
            try:
                _check_invariants(room, cmd, out, eligible_before)
            except AssertionError as exc:
                raise AssertionError(f"seed {seed} step {step}: {exc}") from exc
            legs += [(r.call_id, r.seat, r.leg) for r in of(out, fx.RingSeat)]


def test_at_shutdown_every_waiting_caller_is_handed_to_the_fallback_queue_and_connected_calls_are_left_alone():
    d = desk("seat01")
    d.arrive("c1")  # offered to seat01
    d.do(c.SeatLegAnswered("c1", "seat01", d.room.calls["c1"].leg))  # connected
    d.arrive("c2")  # queued: no free seat
    out = d.do(c.HandOverWaiting())
    assert call_moves(out, "c2") == [("queued", "handed_over")]
    assert fx.ContinueToFallback("c2", "chan-c2") in out.effects
    assert not call_moves(out, "c1"), "a connected call must stay as it is"
    assert d.room.queue == [] and "c2" not in d.room.calls


def test_at_shutdown_a_ringing_seat_is_released_and_its_caller_handed_over():
    d = desk("seat01")
    d.arrive("c1")
    leg = d.room.calls["c1"].leg
    out = d.do(c.HandOverWaiting())
    assert fx.Hangup("c1", leg, "handed_over") in out.effects
    assert seat_moves(out, "seat01") == [("offered", "available")]
    assert call_moves(out, "c1") == [("offered", "handed_over")]


def test_a_call_taker_signing_in_to_a_registered_seat_makes_it_ready_and_a_member_of_the_fallback_queue():
    d = desk("seat01", policy=Policy(auto_ready_on_register=False), registered=())
    d.register("seat01")
    assert d.seat("seat01").state == SeatState.OFFLINE  # a phone alone does not make a seat ready
    out = d.do(c.SeatSignIn("seat01", "rina"))
    assert seat_moves(out, "seat01") == [("offline", "available")]
    assert fx.FallbackMembership("seat01", member=True, paused=False) in out.effects
    assert d.seat("seat01").user == "rina"


def test_signing_out_a_ringing_seat_gives_its_call_to_the_next_seat():
    d = desk("seat01", "seat02")
    d.arrive("c1")
    first = d.call("c1").seat
    out = d.do(c.SeatSignOut(first))
    assert d.seat(first).state == SeatState.OFFLINE and not d.seat(first).signed_in
    assert fx.FallbackMembership(first, member=False, paused=False) in out.effects
    assert rings(out) == [("c1", "seat02" if first == "seat01" else "seat01")]


def test_a_seat_signed_out_during_a_call_goes_offline_after_its_wrap_up():
    d = desk("seat01")
    d.arrive("c1")
    d.do(c.SeatLegAnswered("c1", "seat01", d.leg("c1")))
    d.do(c.SeatSignOut("seat01"))
    assert d.seat("seat01").state == SeatState.BUSY
    d.do(c.CallerHungUp("c1"))
    out = d.do(c.WrapUpDone("seat01"))
    assert seat_moves(out, "seat01") == [("wrap_up", "offline")]


def test_a_caller_with_a_prank_history_hears_a_warning_and_waits_behind_genuine_callers_but_is_answered():
    d = desk("seat01")
    d.arrive("c0")  # seat01 busy with c0
    d.do(c.SeatLegAnswered("c0", "seat01", d.leg("c0")))
    out = d.do(c.CallArrived("p1", "chan-p1", "0812", "", "xl", "112", flagged=True))
    assert fx.PlayPrompts("p1", "chan-p1", ("padang112/prank-warning", "padang112/greeting")) in out.effects
    d.arrive("g1")  # a genuine caller arriving later goes ahead of the flagged one
    assert d.queued_ids() == ["g1", "p1"]
    d.do(c.CallerHungUp("c0"))
    out = d.do(c.WrapUpDone("seat01"))
    assert rings(out) == [("g1", "seat01")]
    d.answer("g1")
    d.do(c.CallerHungUp("g1"))
    out = d.do(c.WrapUpDone("seat01"))
    assert rings(out) == [("p1", "seat01")]  # never blocked


# ---- warm hand-off to an agency's duty phone -----------------------------------------------------------


def _connected(d: Desk, call_id: str = "h1") -> str:
    d.arrive(call_id)
    seat = d.call(call_id).seat
    d.answer(call_id)
    d.do(c.SeatSignIn(seat, "rina"))  # the call taker at that seat in the console
    return seat


def _conference(d: Desk, call_id: str = "h1", agency: str = "bpbd") -> str:
    decision = d.do(c.ConferenceAgency(call_id, agency, "rina"))
    (dial,) = [e for e in decision.effects if isinstance(e, fx.DialAgency)]
    assert (dial.agency, dial.caller_number) == (agency, "081200000000")
    d.do(c.AgencyLegAnswered(call_id, agency, dial.leg))
    return dial.leg


def test_a_conferenced_agency_joins_the_bridge_and_keeps_the_caller_when_the_call_taker_leaves() -> None:
    d = desk("s1")
    seat = _connected(d)
    seat_leg = d.leg("h1")
    agency_leg = _conference(d)
    assert fx.AddToBridge("h1", bridge_id("h1"), agency_leg) in d.log[-1].effects
    left = d.do(c.SeatLeaves("h1", "rina"))
    assert fx.Hangup("h1", seat_leg, "handed_off") in left.effects
    assert d.call("h1").state == CallState.TRANSFERRED and d.seat(seat).state == SeatState.WRAP_UP
    assert not any(isinstance(e, fx.Hangup) and e.channel == "chan-h1" for e in left.effects)
    d.do(c.SeatLegHungUp("h1", seat, seat_leg))  # the seat's own hang-up event changes nothing now
    assert d.call("h1").state == CallState.TRANSFERRED
    ended = d.do(c.CallerHungUp("h1"))
    assert fx.Hangup("h1", agency_leg, "call_end") in ended.effects
    assert "h1" not in d.room.calls
    assert [e.to_state for e in ended.events if isinstance(e, CallTransition)] == ["ended"]


def test_the_agency_hanging_up_after_the_hand_off_ends_the_call_it_never_leaves_the_caller_alone() -> None:
    d = desk("s1")
    _connected(d)
    agency_leg = _conference(d)
    d.do(c.SeatLeaves("h1", "rina"))
    ended = d.do(c.AgencyLegGone("h1", agency_leg, "hung_up"))
    assert fx.Hangup("h1", "chan-h1", "call_end") in ended.effects
    assert [e.data.get("ended_by") for e in ended.events if isinstance(e, CallTransition)] == ["agency"]


def test_an_unanswered_duty_phone_leaves_the_call_with_the_call_taker_who_cannot_leave_it() -> None:
    d = desk("s1")
    _connected(d)
    dial = next(e for e in d.do(c.ConferenceAgency("h1", "pupr", "rina")).effects if isinstance(e, fx.DialAgency))
    failed = d.do(c.AgencyLegGone("h1", dial.leg, "no_answer"))
    assert [(e.kind, e.data["stage"]) for e in failed.events] == [("handoff", "failed")]
    refused = d.do(c.SeatLeaves("h1", "rina"))  # nobody to leave the caller with: refused (nothing happens)
    assert (refused.refused, refused.events, refused.effects) == ("agency_not_joined", [], [])
    assert d.call("h1").state == CallState.CONNECTED
    assert d.do(c.ConferenceAgency("h1", "bpbd", "rina")).effects  # may try another agency


def test_a_call_taker_hanging_up_with_the_agency_in_the_call_hands_it_off() -> None:
    d = desk("s1")
    seat = _connected(d)
    _conference(d)
    d.do(c.SeatLegHungUp("h1", seat, d.leg("h1")))
    assert d.call("h1").state == CallState.TRANSFERRED


def test_a_hand_off_needs_a_connected_call() -> None:
    d = desk()
    d.arrive("w1")  # waiting, no seat
    waiting = d.do(c.ConferenceAgency("w1", "bpbd", "rina"))
    assert (waiting.refused, waiting.effects) == ("not_your_call", [])  # no seat has it yet
    stale = d.do(c.AgencyLegAnswered("w1", "bpbd", "hoff-w1-bpbd-x1"))
    assert fx.Hangup("w1", "hoff-w1-bpbd-x1", "stale_handoff") in stale.effects


def test_a_ring_timeout_that_fired_late_because_the_controller_was_stopped_does_not_pause_the_seat():
    d = desk("seat01", "seat02")
    d.arrive("c1")
    leg = d.leg("c1")
    out = d.do(c.RingTimeout("c1", "seat01", leg, seat_fault=False), after_s=25)
    assert fx.Hangup("c1", leg, "no_answer") in out.effects
    assert seat_moves(out, "seat01")[0] == ("offered", "available")  # not paused: offered again at once
    assert [call for call, _ in rings(out)] == ["c1"]


def test_the_room_refuses_console_commands_its_rules_do_not_allow_and_nothing_else_happens() -> None:
    d = desk("s1", "s2")
    seat = _connected(d)  # rina at the seat of the connected call h1
    other = "s2" if seat == "s1" else "s1"
    cases = [
        (c.SeatPause("nope", "break"), "no_seat"),
        (c.SeatReady("nope"), "no_seat"),
        (c.SeatSignOut("nope"), "no_seat"),
        (c.SeatSignIn("nope", "rina"), "no_seat"),
        (c.SeatPause(seat, "break"), "busy"),
        (c.SeatSignIn(seat, "budi"), "seat_taken"),
        (c.ConferenceAgency("unknown", "bpbd", "rina"), "no_call"),
        (c.ConferenceAgency("h1", "bpbd", "budi"), "not_your_call"),
        (c.SeatLeaves("h1", "budi"), "not_your_call"),
        (c.SeatLeaves("h1", "rina"), "agency_not_joined"),
    ]
    for command, code in cases:
        out = d.do(command)
        assert (out.refused, out.events, out.effects) == (code, [], []), command
    assert d.seat(seat).state == SeatState.BUSY and d.seat(seat).user == "rina"
    _conference(d)
    assert d.do(c.ConferenceAgency("h1", "pupr", "rina")).refused == "agency_busy"
    moved = d.do(c.SeatSignIn(other, "rina"))  # one seat per call taker: taking another leaves the first
    assert moved.refused is None and d.seat(seat).user is None and d.seat(other).user == "rina"
