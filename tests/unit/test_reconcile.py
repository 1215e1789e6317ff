"""Reconciliation (``padang112.domain.reconcile``): after a (re)connect the switch is the truth.

A caller bridged with a seat stays connected, a caller still in our application waits again (a seat leg that
was only ringing is hung up), calls that are no longer live are closed, orphan seat legs are hung up, paused
seats come back paused, the fallback queue is told about every seat, and every call event says
``reconciled``.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from padang112.domain import commands as c
from padang112.domain import effects as fx
from padang112.domain.calls import CallState
from padang112.domain.events import CallTransition, RecordingFinished, RecordingStarted, SeatTransition
from padang112.domain.naming import bridge_id, recording_name
from padang112.domain.room import Decision, Policy, Room
from padang112.domain.seats import SeatState

T0 = datetime(2024, 3, 1, 8, 0, 0, tzinfo=UTC)
SEATS = ("seat01", "seat02", "seat03")


def room(policy: Policy = Policy()) -> Room:
    return Room(SEATS, policy, "/rec")


def caller(call_id: str, *, bridged: bool = False, answered: bool = True) -> c.LiveChannel:
    return c.LiveChannel(
        f"chan-{call_id}",
        call_id,
        "inbound",
        answered=answered,
        bridged=bridged,
        caller_number="081211112222",
        caller_name="Siti",
        carrier="indosat",
        dialed="112",
    )


def seat_leg(call_id: str, seat: str, *, bridged: bool, n: int = 1) -> c.LiveChannel:
    return c.LiveChannel(f"leg-{call_id}-{seat}-{n}", call_id, "seat", seat=seat, answered=bridged, bridged=bridged)


def of(decision: Decision, kind: type) -> list:
    return [e for e in [*decision.events, *decision.effects] if isinstance(e, kind)]


def call_moves(decision: Decision, call_id: str) -> list[tuple[str | None, str]]:
    return [(e.from_state, e.to_state) for e in of(decision, CallTransition) if e.call_id == call_id]


def reconcile(r: Room, *channels: c.LiveChannel, at: datetime = T0, **kw) -> Decision:
    return r.handle(c.Reconcile(tuple(channels), **kw), at)


# ---- live calls -------------------------------------------------------------------------------------


def test_a_caller_bridged_with_a_seat_leg_is_adopted_as_connected_with_the_seat_busy():
    r = room()
    leg = seat_leg("c1", "seat01", bridged=True)
    out = reconcile(r, caller("c1", bridged=True), leg, registered=("seat01", "seat02"))
    call = r.calls["c1"]
    assert (call.state, call.seat, call.leg, call.channel) == (CallState.CONNECTED, "seat01", leg.channel, "chan-c1")
    assert call_moves(out, "c1") == [(None, "received"), ("received", "connected")]
    adopted = of(out, CallTransition)[0]
    assert adopted.data["caller_number"] == "081211112222" and adopted.data["carrier"] == "indosat"
    assert adopted.data["channel_id"] == "chan-c1"
    seat = r.seats["seat01"]
    assert seat.state == SeatState.BUSY and seat.call_id == "c1"
    (busy,) = [e for e in of(out, SeatTransition) if e.seat == "seat01"]
    assert (busy.from_state, busy.to_state, busy.call_id) == ("offline", "busy", "c1")
    assert not of(out, fx.Hangup) and not of(out, fx.RingSeat) and not of(out, fx.StartHoldMusic)
    assert r.queue == []


def agency_leg(call_id: str, agency: str = "bpbd") -> c.LiveChannel:
    return c.LiveChannel(f"hoff-{call_id}-{agency}-x1", call_id, "agency", agency=agency, answered=True, bridged=True)


def test_a_handed_off_caller_stays_with_the_agency_after_a_restart_and_is_not_queued_again():
    r = room()
    out = reconcile(
        r, caller("c1", bridged=True), agency_leg("c1"), registered=("seat01",), open_calls={"c1": "transferred"}
    )
    call = r.calls["c1"]
    assert (call.state, call.agency, call.agency_joined, call.seat) == (CallState.TRANSFERRED, "bpbd", True, None)
    assert r.queue == [] and not of(out, fx.StartHoldMusic) and not of(out, fx.RingSeat)
    assert call_moves(out, "c1") == []  # it was transferred and still is
    ended = r.handle(c.CallerHungUp("c1"), T0)
    assert fx.Hangup("c1", "hoff-c1-bpbd-x1", "call_end") in ended.effects


def test_a_three_way_call_keeps_its_seat_and_its_agency_and_an_orphan_agency_leg_is_hung_up():
    r = room()
    out = reconcile(
        r,
        caller("c1", bridged=True),
        seat_leg("c1", "seat01", bridged=True),
        agency_leg("c1"),
        agency_leg("gone"),
        registered=("seat01",),
    )
    call = r.calls["c1"]
    assert (call.state, call.seat, call.agency_joined) == (CallState.CONNECTED, "seat01", True)
    assert fx.Hangup("gone", "hoff-gone-bpbd-x1", "orphan_leg") in of(out, fx.Hangup)
    r.handle(c.SeatSignIn("seat01", "rina"), T0)  # the call taker signs in again after the restart
    r.handle(c.SeatLeaves("c1", "rina"), T0)
    assert r.calls["c1"].state == CallState.TRANSFERRED


def test_an_adopted_connected_call_ends_normally_when_the_caller_hangs_up():
    r = room()
    leg = seat_leg("c1", "seat01", bridged=True)
    reconcile(r, caller("c1", bridged=True), leg, registered=("seat01",))
    out = r.handle(c.CallerHungUp("c1"), T0 + timedelta(seconds=60))
    assert fx.Hangup("c1", leg.channel, "call_end") in out.effects
    assert fx.DestroyBridge("c1", bridge_id("c1")) in out.effects
    assert call_moves(out, "c1") == [("connected", "ended")]
    assert r.seats["seat01"].state == SeatState.WRAP_UP


def test_an_adopted_connected_call_keeps_its_recording_open_and_finishes_it_when_it_ends():
    r = room()
    talking = seat_leg("c1", "seat01", bridged=True)
    out = reconcile(
        r,
        caller("c1", bridged=True),
        talking,
        registered=("seat01",),
        open_calls={"c1": "connected"},
        open_recordings={"c1": ("call-c1-seat01-1",)},
    )
    assert not of(out, RecordingFinished) and not of(out, RecordingStarted)
    out = r.handle(c.CallerHungUp("c1"), T0 + timedelta(seconds=60))
    assert [e.name for e in of(out, RecordingFinished)] == ["call-c1-seat01-1"]


def test_a_recording_running_on_the_switch_that_the_database_never_stored_is_stored_by_its_leg_name():
    """The controller died before its group commit: the file is being written, so it gets its row now."""
    r = room()
    out = reconcile(r, caller("c1", bridged=True), seat_leg("c1", "seat01", bridged=True), registered=("seat01",))
    assert of(out, RecordingStarted) == [RecordingStarted("c1", T0, "call-c1-seat01-1", "/rec/call-c1-seat01-1.wav")]
    assert r.calls["c1"].recording == "call-c1-seat01-1"


def test_a_caller_whose_call_taker_left_gets_a_new_recording_and_the_first_one_is_finished_not_overwritten():
    r = room()
    out = reconcile(
        r,
        caller("c1", bridged=True),
        registered=("seat01",),
        open_calls={"c1": "connected"},
        open_recordings={"c1": ("call-c1-seat01-1",)},
    )
    assert of(out, RecordingFinished) == [RecordingFinished("c1", T0, "call-c1-seat01-1")]
    (ring,) = of(out, fx.RingSeat)
    second = r.handle(c.SeatLegAnswered("c1", "seat01", ring.leg), T0 + timedelta(seconds=3))
    (started,) = of(second, fx.StartRecording)
    assert started.name == recording_name(ring.leg) and started.name != "call-c1-seat01-1"
    assert [e.name for e in of(second, RecordingStarted)] == [started.name]


def test_a_handed_off_caller_keeps_the_recording_its_bridge_still_writes():
    r = room()
    out = reconcile(
        r,
        caller("c1", bridged=True),
        agency_leg("c1"),
        open_calls={"c1": "transferred"},
        open_recordings={"c1": ("call-c1-seat01-1",)},
    )
    assert not of(out, RecordingFinished) and r.calls["c1"].recording == "call-c1-seat01-1"


def test_the_recordings_of_calls_that_vanished_from_the_switch_are_finished():
    r = room()
    out = reconcile(
        r, open_calls={"gone": "connected"}, open_recordings={"gone": ("call-gone-seat01-1", "call-gone-seat02-x2")}
    )
    assert [e.name for e in of(out, RecordingFinished)] == ["call-gone-seat01-1", "call-gone-seat02-x2"]


def test_a_live_caller_whose_seat_leg_was_only_ringing_is_requeued_with_hold_music_and_the_leg_hung_up():
    r = room()
    leg = seat_leg("c1", "seat01", bridged=False)
    out = reconcile(r, caller("c1"), leg, registered=())  # no seat can take it now
    assert fx.Hangup("c1", leg.channel, "reconciled") in out.effects
    assert fx.StartHoldMusic("c1", "chan-c1") in out.effects
    assert fx.StartTimer("announce:c1", r.policy.position_announce_s, c.AnnouncePosition("c1")) in out.effects
    call = r.calls["c1"]
    assert (call.state, call.seat, call.leg) == (CallState.QUEUED, None, None)
    assert r.queue == [(*call.queue_key, "c1")]
    assert call_moves(out, "c1") == [(None, "received"), ("received", "queued")]
    assert r.seats["seat01"].state == SeatState.OFFLINE


def test_after_a_restart_a_requeued_caller_is_offered_on_a_leg_id_never_used_before():
    r = room()  # a fresh process: the previous controller had rung seat01 on leg-c1-seat01-1
    old = seat_leg("c1", "seat01", bridged=False)
    out = reconcile(r, caller("c1"), old, registered=("seat01",))
    assert fx.Hangup("c1", old.channel, "reconciled") in out.effects
    (ring,) = of(out, fx.RingSeat)
    assert ring.call_id == "c1" and ring.leg != old.channel


def test_after_a_restart_the_hang_up_report_of_the_leg_reconcile_hung_up_leaves_the_new_offer_alone():
    r = room()
    old = seat_leg("c1", "seat01", bridged=False)
    reconcile(r, caller("c1"), old, registered=("seat01",))
    r.handle(c.SeatLegHungUp("c1", "seat01", old.channel), T0 + timedelta(seconds=1))
    assert r.calls["c1"].state == CallState.OFFERED
    assert r.seats["seat01"].state == SeatState.OFFERED  # not paused as not_responding


def test_a_requeued_live_caller_is_offered_anew_when_a_seat_is_free():
    r = room()
    old = seat_leg("c1", "seat01", bridged=False)
    out = reconcile(r, caller("c1"), old, registered=("seat01",))
    assert fx.Hangup("c1", old.channel, "reconciled") in out.effects
    assert [(x.call_id, x.seat) for x in of(out, fx.RingSeat)] == [("c1", "seat01")]
    assert r.calls["c1"].state == CallState.OFFERED
    assert call_moves(out, "c1") == [(None, "received"), ("received", "queued"), ("queued", "offered")]


def test_a_caller_bridged_to_a_seat_the_room_does_not_know_is_requeued():
    r = room()
    leg = seat_leg("c1", "seat99", bridged=True)
    out = reconcile(r, caller("c1", bridged=True), leg, registered=())
    assert fx.Hangup("c1", leg.channel, "reconciled") in out.effects
    assert r.calls["c1"].state == CallState.QUEUED


def test_a_live_caller_without_a_seat_leg_waits_in_the_queue():
    r = room()
    out = reconcile(r, caller("c1"), caller("c2"), registered=())
    assert [entry[-1] for entry in r.queue] == ["c1", "c2"]
    assert not of(out, fx.Hangup)
    assert of(out, fx.StartHoldMusic) == [fx.StartHoldMusic("c1", "chan-c1"), fx.StartHoldMusic("c2", "chan-c2")]


def test_an_adopted_caller_whose_channel_was_never_answered_is_answered():
    r = room()
    out = reconcile(r, caller("c1", answered=False), registered=())
    assert fx.Answer("c1", "chan-c1") in out.effects


def test_a_call_the_room_already_knows_keeps_its_place_in_line():
    r = room()
    r.handle(c.CallArrived("c1", "chan-c1", "0811", "", "xl", "112"), T0)
    r.handle(c.CallArrived("c2", "chan-c2", "0812", "", "xl", "112"), T0 + timedelta(seconds=1))
    out = reconcile(r, caller("c2"), caller("c1"), caller("c3"), at=T0 + timedelta(seconds=5), registered=())
    assert [entry[-1] for entry in r.queue] == ["c1", "c2", "c3"]
    assert call_moves(out, "c1") == [] and call_moves(out, "c2") == []  # nothing changed for them
    assert call_moves(out, "c3") == [(None, "received"), ("received", "queued")]


# ---- calls no longer live ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("db_state", "closed_as"),
    [
        ("connected", "ended"),
        ("offered", "abandoned"),
        ("queued", "abandoned"),
        ("received", "abandoned"),
    ],
)
def test_an_open_call_in_the_database_that_is_not_live_is_closed(db_state, closed_as):
    r = room()
    out = reconcile(r, open_calls={"old-1": db_state}, registered=())
    (ev,) = of(out, CallTransition)
    assert (ev.call_id, ev.from_state, ev.to_state, ev.at) == ("old-1", db_state, closed_as, T0)
    assert ev.data == {"ended_by": "unknown", "reconciled": True}
    assert "old-1" not in r.calls


def test_calls_the_room_held_that_vanished_from_the_switch_are_closed_once():
    r = room()
    r.handle(c.SeatRegistration("seat01", True), T0)
    r.handle(c.CallArrived("c1", "chan-c1", "0811", "", "xl", "112"), T0)  # offered to seat01
    r.handle(c.SeatLegAnswered("c1", "seat01", r.calls["c1"].leg), T0 + timedelta(seconds=2))
    r.handle(c.CallArrived("c2", "chan-c2", "0812", "", "xl", "112"), T0 + timedelta(seconds=3))  # waits
    at = T0 + timedelta(seconds=10)
    out = reconcile(r, at=at, open_calls={"c1": "connected", "c2": "queued"}, registered=("seat01",))
    assert call_moves(out, "c1") == [("connected", "ended")]
    assert call_moves(out, "c2") == [("queued", "abandoned")]
    assert r.calls == {} and r.queue == []
    assert r.seats["seat01"].state == SeatState.AVAILABLE and r.seats["seat01"].call_id is None
    # a late arrival event of a closed call does not bring it back
    late = r.handle(c.CallArrived("c2", "chan-c2", "0812", "", "xl", "112"), at)
    assert late.events == [] and late.effects == []


def test_an_open_call_that_is_still_live_is_not_closed():
    r = room()
    out = reconcile(r, caller("c1"), open_calls={"c1": "queued"}, registered=())
    assert ("queued", "abandoned") not in call_moves(out, "c1")
    assert r.calls["c1"].state == CallState.QUEUED


def test_an_orphan_seat_leg_is_hung_up():
    r = room()
    out = reconcile(r, seat_leg("gone", "seat02", bridged=True), registered=("seat02",))
    assert of(out, fx.Hangup) == [fx.Hangup("gone", "leg-gone-seat02-1", "orphan_leg")]
    assert r.calls == {}
    assert r.seats["seat02"].state == SeatState.AVAILABLE


# ---- seats ------------------------------------------------------------------------------------------


def test_paused_seats_are_restored_with_their_reason_and_the_others_follow_registration():
    r = room()
    out = reconcile(r, registered=("seat01", "seat02"), paused={"seat02": "break", "seat03": "training"})
    states = {s.id: (s.state, s.reason, s.registered) for s in r.seats.values()}
    assert states == {
        "seat01": (SeatState.AVAILABLE, None, True),
        "seat02": (SeatState.PAUSED, "break", True),
        "seat03": (SeatState.PAUSED, "training", False),
    }
    moves = {e.seat: (e.from_state, e.to_state, e.reason, e.at) for e in of(out, SeatTransition)}
    assert moves == {
        "seat01": ("offline", "available", None, T0),
        "seat02": ("offline", "paused", "break", T0),
        "seat03": ("offline", "paused", "training", T0),
    }


def test_every_signed_in_seat_gets_its_fallback_queue_membership_and_none_is_removed():
    """A starting controller never empties the fallback queue: seats it does not see are left as they are."""
    r = room()
    out = reconcile(
        r,
        caller("c1", bridged=True),
        seat_leg("c1", "seat03", bridged=True),
        registered=("seat01", "seat03"),
        paused={"seat01": "technical"},
    )
    assert sorted(of(out, fx.FallbackMembership), key=lambda m: m.seat) == [
        fx.FallbackMembership("seat01", member=True, paused=True),
        fx.FallbackMembership("seat03", member=True, paused=False),
    ]
    assert not [m for m in of(out, fx.FallbackMembership) if not m.member]


@pytest.mark.parametrize(
    ("stored_reason", "after"),
    [
        ("break", ("paused", "break")),
        ("training", ("paused", "training")),
        ("technical", ("paused", "technical")),
        ("not_responding", ("available", None)),  # the controller's own verdict does not outlive it
        ("phone_failing", ("available", None)),
        # kept for the call-back line, whose reconcile comes next: it adopts the call still talking or gives the
        # seat back (made available here, the seat showed free while its call taker talked, until paused again)
        ("callback", ("paused", "callback")),
    ],
)
def test_a_persons_pauses_and_a_call_backs_survive_a_restart_the_controllers_verdicts_do_not(stored_reason, after):
    r = room()
    reconcile(r, registered=("seat01",), paused={"seat01": stored_reason})
    assert (r.seats["seat01"].state.value, r.seats["seat01"].reason) == after


def test_a_seat_busy_on_a_fallback_call_is_not_offered_a_call_after_a_restart():
    r = room()
    out = reconcile(r, caller("c1"), registered=("seat01", "seat02"), in_use=("seat01",))
    assert [(e.seat) for e in of(out, fx.RingSeat)] == ["seat02"]
    assert r.seats["seat01"].device_in_use and not r.seats["seat01"].eligible


def test_callers_found_on_the_switch_are_queued_in_their_arrival_order():
    r = room()
    late = dataclasses.replace(caller("late"), created="2026-12-02T10:00:05.000+0000")
    early = dataclasses.replace(caller("early"), created="2026-12-02T10:00:01.000+0000")
    reconcile(r, late, early)
    assert [entry[-1] for entry in r.queue] == ["early", "late"]


def test_two_nodes_rebuilt_one_after_the_other_give_one_line_in_arrival_order():
    """A standby that leads rebuilds each node from its own snapshot, one after the other: the callers of the node
    rebuilt second take their places by arrival among those of the first, not behind all of them."""
    r = room()
    n1 = [dataclasses.replace(caller(f"n1-{s}"), created=f"2026-12-02T10:00:0{s}.000+0000") for s in (2, 4)]
    n2 = [dataclasses.replace(caller(f"n2-{s}"), created=f"2026-12-02T10:00:0{s}.000+0000") for s in (1, 3, 5)]
    reconcile(r, *n1, node="n1")
    reconcile(r, *n2, node="n2")
    assert [entry[-1] for entry in r.queue] == ["n2-1", "n1-2", "n2-3", "n1-4", "n2-5"]
    assert r.calls["n2-1"].received_at == datetime(2026, 12, 2, 10, 0, 1, tzinfo=UTC)  # waiting since it arrived


def test_a_caller_whose_call_taker_left_during_the_outage_goes_first_and_out_of_the_old_bridge():
    """Seat hung up while the controller was away: the caller is alone in its bridge. It leaves that bridge (so
    the next seat's bridge can be made: no ARI 409) and is the first to be offered, before earlier arrivals."""
    r = room()
    waiting = dataclasses.replace(caller("waiting"), created="2026-12-02T10:00:00.000+0000")
    alone = dataclasses.replace(caller("alone", bridged=True), created="2026-12-02T10:00:09.000+0000")
    out = reconcile(r, waiting, alone, open_calls={"alone": "connected", "waiting": "queued"}, registered=("seat01",))
    assert fx.DestroyBridge("alone", bridge_id("alone")) in out.effects
    effects = [e for e in out.effects if getattr(e, "call_id", None) == "alone"]
    destroy = effects.index(fx.DestroyBridge("alone", bridge_id("alone")))
    assert destroy < effects.index(fx.StartHoldMusic("alone", "chan-alone"))
    assert [(e.call_id, e.seat) for e in of(out, fx.RingSeat)] == [("alone", "seat01")]
    assert call_moves(out, "alone")[:2] == [("connected", "queued"), ("queued", "offered")]


def test_without_auto_ready_a_registered_seat_that_never_signed_in_stays_offline():
    r = room(Policy(auto_ready_on_register=False))
    reconcile(r, registered=("seat01",))
    assert r.seats["seat01"].state == SeatState.OFFLINE and r.seats["seat01"].registered


def test_a_seat_that_unregistered_while_the_controller_was_away_goes_offline():
    r = room()
    r.handle(c.SeatRegistration("seat01", True), T0)
    out = reconcile(r, at=T0 + timedelta(seconds=5), registered=())
    assert [(e.from_state, e.to_state) for e in of(out, SeatTransition)] == [("available", "offline")]
    assert not r.seats["seat01"].registered


def test_a_seat_offered_a_call_before_the_restart_is_freed_and_may_be_offered_again():
    r = room()
    r.handle(c.SeatRegistration("seat01", True), T0)
    r.handle(c.CallArrived("c1", "chan-c1", "0811", "", "xl", "112"), T0)
    old_leg = r.calls["c1"].leg
    out = reconcile(
        r, caller("c1"), seat_leg("c1", "seat01", bridged=False), at=T0 + timedelta(seconds=3), registered=("seat01",)
    )
    assert fx.Hangup("c1", "leg-c1-seat01-1", "reconciled") in out.effects
    assert call_moves(out, "c1")[:1] == [("offered", "queued")]
    assert r.calls["c1"].state == CallState.OFFERED and r.calls["c1"].leg != old_leg
    assert r.seats["seat01"].call_id == "c1"
    # the hung-up leg answering late is stale: it is hung up and nothing else changes
    late = r.handle(c.SeatLegAnswered("c1", "seat01", "leg-c1-seat01-1"), T0 + timedelta(seconds=4))
    assert late.events == [] and late.effects == [fx.Hangup("c1", "leg-c1-seat01-1", "stale_offer")]


# ---- the events themselves --------------------------------------------------------------------------


def test_every_call_event_of_a_reconcile_is_marked_reconciled():
    r = room()
    r.handle(c.CallArrived("known", "chan-known", "0811", "", "xl", "112"), T0)
    out = reconcile(
        r,
        caller("c1", bridged=True),
        seat_leg("c1", "seat01", bridged=True),
        caller("c2"),
        seat_leg("c2", "seat02", bridged=False),
        at=T0 + timedelta(seconds=5),
        open_calls={"old": "connected"},
        registered=(),
    )
    events = [e for e in out.events if isinstance(e, CallTransition)]
    assert {e.call_id for e in events} == {"known", "c1", "c2", "old"}
    assert all(e.data.get("reconciled") is True for e in events), events


def test_reconciling_twice_with_the_same_switch_changes_nothing_the_second_time():
    r = room()
    channels = (caller("c1", bridged=True), seat_leg("c1", "seat01", bridged=True), caller("c2"))
    first = r.handle(c.Reconcile(channels, registered=("seat01",), paused={"seat02": "break"}), T0)
    assert first.events
    seats_after = {s.id: (s.state, s.reason, s.call_id) for s in r.seats.values()}
    second = r.handle(
        c.Reconcile(channels, registered=("seat01",), paused={"seat02": "break"}), T0 + timedelta(seconds=1)
    )
    assert second.events == []
    assert {s.id: (s.state, s.reason, s.call_id) for s in r.seats.values()} == seats_after
    assert not of(second, fx.Hangup) and not of(second, fx.RingSeat)


def test_a_caller_its_watchdog_moved_to_the_fallback_queue_is_handed_over_not_abandoned():
    """The controller died; the dialplan's watchdog moved the waiting caller to the fallback queue. The restarted
    controller must not call that caller abandoned (no false call-back item): the fallback import goes on."""
    r = room()
    moved = c.LiveChannel("chan-c1", "c1", "fallback", answered=True)
    out = reconcile(r, moved, open_calls={"c1": "queued", "c2": "queued"}, registered=("seat01",))
    assert call_moves(out, "c1") == [("queued", "handed_over")]
    assert call_moves(out, "c2") == [("queued", "abandoned")]  # truly gone
    assert "c1" not in r.calls and not of(out, fx.RingSeat)


def test_a_caller_served_and_gone_through_the_fallback_queue_meanwhile_is_handed_over_not_abandoned():
    r = room()
    out = reconcile(r, open_calls={"c1": "offered"}, in_fallback=frozenset({"c1"}))
    assert call_moves(out, "c1") == [("offered", "handed_over")]
