"""Resynchronise the room with the switch after the controller (re)connects.

The switch is the truth for what is live: a caller bridged with a seat stays connected, a caller bridged with
an agency's duty phone and no seat stays transferred (warm hand-off), a caller still in our application waits in
the queue again (a seat leg that was only ringing is hung up and offered anew),
and a call the room or the database still thinks open but that the switch no longer has is closed.
This is the one place that sets states directly instead of through the transition tables, because it
adopts facts instead of making moves; every change still produces an event, marked ``reconciled``.

Recordings: a segment still talking keeps its recording open (its name comes from the live seat leg, or from the
database for a caller left with an agency); every other recording the database holds as not finished for these
calls is finished now (its bridge is gone), so the sealer seals it and no file is left without a closed row.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from padang112.domain import commands as c
from padang112.domain import effects as fx
from padang112.domain.callback_attempt import PAUSE_REASON as CALLBACK_PAUSE
from padang112.domain.calls import Call, CallState
from padang112.domain.events import CallTransition, RecordingFinished, RecordingStarted, SeatTransition
from padang112.domain.naming import bridge_id, recording_name
from padang112.domain.seats import SET_BY_PERSON, SeatState

if TYPE_CHECKING:
    from padang112.domain.room import Decision, Room

# The pauses a resync keeps: a person's, and a call-back's. Whether a call-back still talks only the call-back line
# knows (its channels are not the room's): its reconcile, right after this one, gives the seat back unless it adopts
# the call. Made available here instead, the seat would show free (and be unpaused in the fallback queue) while its
# call taker still talks, until the line paused it again.
KEPT_PAUSES = SET_BY_PERSON | {CALLBACK_PAUSE}


def reconcile(room: Room, cmd: c.Reconcile, at: datetime, out: Decision) -> None:
    inbound = {ch.call_id: ch for ch in cmd.channels if ch.role == "inbound"}
    legs = {ch.call_id: ch for ch in cmd.channels if ch.role == "seat"}
    agencies = {ch.call_id: ch for ch in cmd.channels if ch.role == "agency"}

    _close_vanished_calls(room, cmd, inbound, at, out)
    busy: dict[str, str] = {}
    for ch in sorted(inbound.values(), key=lambda ch: ch.created):  # adopted callers keep their arrival order
        leg = legs.get(ch.call_id)
        connected = leg is not None and leg.bridged and ch.bridged and leg.seat in room.seats
        stored = cmd.open_calls.get(ch.call_id)
        call = room.calls.get(ch.call_id) or _adopt(room, cmd, ch, stored, at, out)
        if not ch.answered:
            out.effects.append(fx.Answer(call.id, call.channel))
        agency = agencies.get(ch.call_id)
        with_agency = agency is not None and agency.bridged and ch.bridged
        if with_agency and agency is not None:  # the duty phone is still in the call: keep it there
            call.agency, call.agency_leg, call.agency_joined = agency.agency, agency.channel, True
        unfinished = _unfinished(call, cmd)
        if connected and leg is not None and leg.seat is not None:
            busy[leg.seat] = call.id
            call.seat, call.leg = leg.seat, leg.channel
            _keep_recording(room, call, recording_name(leg.channel), unfinished, at, out)
            _force_call(call, CallState.CONNECTED, at, out)
            room._dequeue(call)
        elif with_agency:  # handed off: caller and agency talk on, no seat, not queued again
            if leg is not None:
                out.effects.append(fx.Hangup(call.id, leg.channel, "reconciled"))
            call.leg = None
            live = unfinished[-1] if unfinished else recording_name(leg.channel) if leg is not None else None
            _keep_recording(room, call, live, unfinished, at, out)
            _force_call(call, CallState.TRANSFERRED, at, out)
            room._dequeue(call)
        else:
            _keep_recording(room, call, None, unfinished, at, out)  # its segment is over (or never began)
            if leg is not None:
                out.effects.append(fx.Hangup(call.id, leg.channel, "reconciled"))
            if ch.bridged or call.state == CallState.CONNECTED:  # talking before: its call taker is gone
                call.seat_lost = True
            if ch.bridged:  # left alone in the old bridge: out of it, so the next seat's bridge can be made
                out.effects.append(fx.DestroyBridge(call.id, bridge_id(call.id)))
            call.seat = call.leg = None
            _force_call(call, CallState.QUEUED, at, out)
            room._dequeue(call)
            room.queue.append((*call.queue_key, call.id))
            out.effects.append(fx.StartHoldMusic(call.id, call.channel))
            room._arm_announcement(call, out)
    room.queue.sort()
    for call_id, leg in [*legs.items(), *agencies.items()]:
        if call_id not in inbound:
            out.effects.append(fx.Hangup(call_id, leg.channel, "orphan_leg"))
    _resync_seats(room, cmd, busy, at, out)


def _close_vanished_calls(
    room: Room, cmd: c.Reconcile, inbound: dict[str, c.LiveChannel], at: datetime, out: Decision
) -> None:
    """Close the calls no longer in our application: handed over if the caller is alive in the fallback queue (its
    watchdog moved it while this controller was away: the fallback import continues its story), else gone."""
    in_fallback = {ch.call_id for ch in cmd.channels if ch.role == "fallback"} | cmd.in_fallback

    def closing(call_id: str, state: str) -> tuple[CallState, dict[str, object]]:
        if call_id in in_fallback:
            return CallState.HANDED_OVER, {"ended_by": "watchdog", "reconciled": True}
        live = state in (CallState.CONNECTED.value, CallState.TRANSFERRED.value)
        return (CallState.ENDED if live else CallState.ABANDONED), {"ended_by": "unknown", "reconciled": True}

    for call in list(room.calls.values()):
        if call.id in inbound or (cmd.node is not None and call.node != cmd.node):
            continue
        _finish_recordings(call.id, _unfinished(call, cmd), at, out)
        target, data = closing(call.id, call.state.value)
        out.events.append(CallTransition(call.id, at, call.state.value, target.value, seat=call.seat, data=data))
        room._dequeue(call)
        del room.calls[call.id]
        room._finished.append(call.id)
    for call_id, state in cmd.open_calls.items():
        if call_id in inbound or call_id in room._finished:
            continue
        _finish_recordings(call_id, cmd.open_recordings.get(call_id, ()), at, out)
        target, data = closing(call_id, state)
        out.events.append(CallTransition(call_id, at, state, target.value, data=data))
        room._finished.append(call_id)


def _unfinished(call: Call, cmd: c.Reconcile) -> tuple[str, ...]:
    """The call's recordings not finished yet: the database's, and the one this room started if it is newer."""
    stored = cmd.open_recordings.get(call.id, ())
    return stored if call.recording is None or call.recording in stored else (*stored, call.recording)


def _keep_recording(
    room: Room, call: Call, live: str | None, unfinished: tuple[str, ...], at: datetime, out: Decision
) -> None:
    """``live`` goes on recording (the database learns of it if it never did); every other unfinished one ends."""
    _finish_recordings(call.id, tuple(name for name in unfinished if name != live), at, out)
    if live is not None and live not in unfinished:
        out.events.append(RecordingStarted(call.id, at, live, f"{room.recordings_dir}/{live}.wav"))
    call.recording = live


def _finish_recordings(call_id: str, names: tuple[str, ...], at: datetime, out: Decision) -> None:
    out.events += [RecordingFinished(call_id, at, name) for name in names]


def _adopt(
    room: Room, cmd: c.Reconcile, ch: c.LiveChannel, stored_state: str | None, at: datetime, out: Decision
) -> Call:
    """A live caller the room does not know (controller restarted): take it over.

    A call the database already holds keeps its stored state as the starting point, so its history reads
    on (``connected -> connected`` is no move at all); an unknown one starts as received.
    """
    arrived = _arrival(ch, at)
    call = Call(
        ch.call_id, ch.channel, next(room._seq), ch.caller_number, ch.caller_name, ch.carrier, ch.dialed, arrived
    )
    call.node = cmd.node or ""
    room.calls[call.id] = call
    if stored_state is not None:
        call.state = CallState(stored_state)
        return call
    out.events.append(
        CallTransition(
            call.id,
            at,
            None,
            CallState.RECEIVED.value,
            data={
                "caller_number": ch.caller_number,
                "caller_name": ch.caller_name,
                "carrier": ch.carrier,
                "dialed": ch.dialed,
                "channel_id": ch.channel,
                "via": "controller",
                "reconciled": True,
                **({"node": cmd.node} if cmd.node else {}),
            },
        )
    )
    return call


def _arrival(ch: c.LiveChannel, at: datetime) -> datetime:
    """When the caller arrived: its channel's creation time on the switch (``at``, now, if the switch gave none)."""
    try:
        return datetime.fromisoformat(ch.created)
    except ValueError:
        return at


def _force_call(call: Call, state: CallState, at: datetime, out: Decision) -> None:
    if call.state == state:
        return
    before = call.state
    call.state = state
    out.events.append(CallTransition(call.id, at, before.value, state.value, seat=call.seat, data={"reconciled": True}))


def _resync_seats(room: Room, cmd: c.Reconcile, busy: dict[str, str], at: datetime, out: Decision) -> None:
    """Every seat from the snapshot, except (a node's reconcile) a seat holding a call on another node."""
    for seat in room.seats.values():
        held = room.calls.get(seat.call_id or "")
        if cmd.node is not None and held is not None and held.node != cmd.node:
            continue
        seat.registered = seat.id in cmd.registered
        seat.unreachable = cmd.unreachable.get(seat.id, frozenset())
        seat.device_in_use = seat.id in cmd.in_use
        seat.failures = 0  # like a controller's pause, its count of refused calls does not outlive a resync
        reason = None
        if seat.id in busy:
            target, seat.call_id = SeatState.BUSY, busy[seat.id]
        elif cmd.paused.get(seat.id) in KEPT_PAUSES:
            target, reason = SeatState.PAUSED, cmd.paused[seat.id]
        elif seat.registered and (seat.signed_in or room.policy.auto_ready_on_register):
            target = SeatState.AVAILABLE
        else:
            target = SeatState.OFFLINE
        if target != SeatState.OFFLINE:
            seat.signed_in = True
        if target not in (SeatState.BUSY,):
            seat.call_id = None
        if seat.state != target or seat.reason != reason:
            before = seat.state
            seat.state, seat.reason, seat.since = target, reason, at
            out.events.append(
                SeatTransition(seat.id, at, before.value, target.value, reason=reason, call_id=seat.call_id)
            )
        if seat.signed_in:  # never removed here: only a person signing out takes a seat out of the fallback queue
            out.effects.append(fx.FallbackMembership(seat.id, member=True, paused=target == SeatState.PAUSED))
