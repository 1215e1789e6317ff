"""The room: one FIFO queue of callers and the seats that answer them.

``Room.handle(command, at)`` is pure: it changes the in-memory state and returns a :class:`Decision`
(domain events to store and publish, effects for the telephony adapter). It never performs I/O, so every
rule here is unit-tested as a table, without Asterisk.

Rules kept here:
- a call is offered to at most one seat at a time, and a seat holds at most one call;
- waiting callers are served in arrival order (a call put back after a no-answer keeps its place);
- the eligible seat that has been idle longest gets the next call;
- a seat that lets a call ring out is paused as ``not_responding`` and the call goes to the next seat; the ring
  is timed from the phone's own "ringing" (a switch slow to reach it under load is not the call taker's doing);
- a seat whose phone refuses or drops a call, or never rings within the ring time, rests a little and is paused
  only after several in a row (``seat_faults.py``).
"""

from __future__ import annotations

import bisect
import itertools
import logging
import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from padang112.domain import commands as c
from padang112.domain import effects as fx
from padang112.domain.calls import NODE_LOST, TERMINAL, Call, CallState
from padang112.domain.events import CallTransition, DomainEvent, RecordingFinished, RecordingStarted
from padang112.domain.handoff import HandoffRules
from padang112.domain.naming import bridge_id, leg_id, recording_name
from padang112.domain.seat_faults import SeatFaultRules
from padang112.domain.seats import PauseReason, Seat, SeatState

log = logging.getLogger(__name__)

GREETING = "padang112/greeting"
PRANK_WARNING = "padang112/prank-warning"
MAX_POSITION_PROMPT = 30


@dataclass(frozen=True)
class Policy:
    ring_timeout_s: float = 15.0
    wrap_up_s: float = 10.0
    position_announce_s: float = 30.0
    auto_ready_on_register: bool = True
    seat_retry_s: float = 5.0  # see config.CallHandlingSettings and domain/seat_faults.py
    seat_failures_to_pause: int = 3
    min_talk_s: float = 2.0


@dataclass
class Decision:
    events: list[DomainEvent] = field(default_factory=list)
    effects: list[fx.Effect] = field(default_factory=list)
    refused: str | None = None  # a console command the room's rules do not allow (code; nothing else happened)


def position_prompt(position: int) -> str:
    if position > MAX_POSITION_PROMPT:
        return "padang112/position-many"
    return f"padang112/position-{position}"


class Room(HandoffRules, SeatFaultRules):
    def __init__(self, seats: Iterable[str], policy: Policy, recordings_dir: str) -> None:
        self.policy = policy
        self.recordings_dir = recordings_dir
        self.calls: dict[str, Call] = {}
        self.seats: dict[str, Seat] = {s: Seat(s) for s in seats}
        # (*Call.queue_key, call id) of calls in state queued, sorted: whose turn comes first
        self.queue: list[tuple[int, datetime, int, str]] = []
        self._seq = itertools.count(1)
        self._legs = itertools.count(1)
        self._boot = uuid.uuid4().hex[:6]  # leg ids never repeat across controller restarts
        self._finished: deque[str] = deque(maxlen=1000)  # recently ended calls, to recognise late events

    # ---- entry point -------------------------------------------------------------------------------
    def handle(self, cmd: c.Command, at: datetime) -> Decision:
        out = Decision()
        handler = getattr(self, "_on_" + type(cmd).__name__)
        handler(cmd, at, out)
        self._assign(at, out)
        return out

    # ---- queries -----------------------------------------------------------------------------------
    def position(self, call_id: str) -> int | None:
        for i, entry in enumerate(self.queue):
            if entry[-1] == call_id:
                return i + 1
        return None

    def seat_of_leg(self, leg: str) -> Seat | None:
        for seat in self.seats.values():
            call = self.calls.get(seat.call_id or "")
            if call is not None and call.leg == leg:
                return seat
        return None

    # ---- calls -------------------------------------------------------------------------------------
    def _on_CallArrived(self, cmd: c.CallArrived, at: datetime, out: Decision) -> None:
        if cmd.call_id in self.calls or cmd.call_id in self._finished:
            return  # a repeated StasisStart (reconnect) changes nothing
        call = Call(
            cmd.call_id,
            cmd.channel,
            next(self._seq),
            cmd.caller_number,
            cmd.caller_name,
            cmd.carrier,
            cmd.dialed,
            at,
            flagged=cmd.flagged,
            node=cmd.node,
        )
        self.calls[call.id] = call
        out.events.append(
            CallTransition(
                call.id,
                at,
                None,
                CallState.RECEIVED.value,
                data={
                    "caller_number": cmd.caller_number,
                    "caller_name": cmd.caller_name,
                    "carrier": cmd.carrier,
                    "dialed": cmd.dialed,
                    "channel_id": cmd.channel,
                    "via": "controller",
                    "flagged": cmd.flagged,
                    **({"node": cmd.node} if cmd.node else {}),
                },
            )
        )
        out.effects.append(fx.Answer(call.id, call.channel))
        self._enqueue(call, at, out)
        prompts = (PRANK_WARNING, GREETING) if call.flagged else (GREETING,)
        out.effects.append(fx.PlayPrompts(call.id, call.channel, prompts))
        self._arm_announcement(call, out)

    def _on_CallerHungUp(self, cmd: c.CallerHungUp, at: datetime, out: Decision) -> None:
        call = self.calls.get(cmd.call_id)
        if call is None:
            return
        if call.state == CallState.CONNECTED:
            self._end(call, at, out, ended_by="caller")
            return
        if call.state == CallState.TRANSFERRED:
            self._end_transferred(call, at, out, ended_by="caller")
            return
        self._dequeue(call)
        if call.state == CallState.OFFERED:
            seat = self.seats[call.seat or ""]
            self._withdraw_offer(call, seat, at, out, pause_reason=None, hangup="caller_gone")
        self._finish(call, CallState.ABANDONED, at, out, ended_by="caller", disposition="abandoned")

    def _on_CallerLeftApp(self, cmd: c.CallerLeftApp, at: datetime, out: Decision) -> None:
        """A waiting caller may have been moved to the fallback queue or may have hung up: the switch is asked
        (a call wrongly closed as handed over would never be imported: no fallback note follows a hang-up).
        Any other caller leaving the application is taken as hung up."""
        call = self.calls.get(cmd.call_id)
        if call is None or not call.waiting:
            self._on_CallerHungUp(c.CallerHungUp(cmd.call_id), at, out)
            return
        out.effects.append(fx.FindCaller(call.id, call.channel))

    def _on_CallerMoved(self, cmd: c.CallerMoved, at: datetime, out: Decision) -> None:
        """The dialplan's watchdog moved the caller to the fallback queue while this controller did not answer
        (stopped, cut off): a waiting call is handed over, not abandoned; others as hung up."""
        call = self.calls.get(cmd.call_id)
        if call is None or not call.waiting:
            self._on_CallerHungUp(c.CallerHungUp(cmd.call_id), at, out)
            return
        self._dequeue(call)
        if call.state == CallState.OFFERED:
            self._withdraw_offer(call, self.seats[call.seat or ""], at, out, pause_reason=None, hangup="handed_over")
        self._finish(call, CallState.HANDED_OVER, at, out, ended_by="watchdog", disposition=None)

    def _on_PromptsFinished(self, cmd: c.PromptsFinished, at: datetime, out: Decision) -> None:
        call = self.calls.get(cmd.call_id)
        if call is not None and call.waiting:
            out.effects.append(fx.StartHoldMusic(call.id, call.channel))

    def _on_AnnouncePosition(self, cmd: c.AnnouncePosition, at: datetime, out: Decision) -> None:
        call = self.calls.get(cmd.call_id)
        if call is None or not call.waiting:
            return
        position = self.position(call.id)
        if position is not None:
            out.effects.append(fx.PlayPrompts(call.id, call.channel, (position_prompt(position),)))
        self._arm_announcement(call, out)

    # ---- seat legs ---------------------------------------------------------------------------------
    def _on_SeatLegAnswered(self, cmd: c.SeatLegAnswered, at: datetime, out: Decision) -> None:
        call = self.calls.get(cmd.call_id)
        if call is None or call.state != CallState.OFFERED or call.leg != cmd.leg:
            out.effects.append(fx.Hangup(cmd.call_id, cmd.leg, "stale_offer"))
            return
        seat = self.seats[call.seat or ""]
        out.effects += [fx.CancelTimer(_ring_key(cmd.leg)), fx.CancelTimer(_announce_key(call.id))]
        out.events.append(call.move(CallState.CONNECTED, at))
        out.events.append(seat.move(SeatState.BUSY, at))
        call.connected_at = at
        bridge = bridge_id(call.id)
        call.recording = recording_name(cmd.leg)
        out.effects.append(fx.Bridge(call.id, bridge, (call.channel, cmd.leg)))
        out.effects.append(fx.StartRecording(call.id, bridge, call.recording))
        out.events.append(RecordingStarted(call.id, at, call.recording, f"{self.recordings_dir}/{call.recording}.wav"))

    def _on_SeatLegFailed(self, cmd: c.SeatLegFailed, at: datetime, out: Decision) -> None:
        self._leg_gone(cmd.call_id, cmd.leg, at, out, cmd.reason, cmd.cause, seat_fault=cmd.seat_fault)

    def _on_SeatLegHungUp(self, cmd: c.SeatLegHungUp, at: datetime, out: Decision) -> None:
        self._leg_gone(cmd.call_id, cmd.leg, at, out, "hung_up", cmd.cause, answered=cmd.answered)

    def _on_SeatLegRinging(self, cmd: c.SeatLegRinging, at: datetime, out: Decision) -> None:
        call = self.calls.get(cmd.call_id)
        if call is None or call.state != CallState.OFFERED or call.leg != cmd.leg or call.leg_rang:
            return
        call.leg_rang = True
        out.effects.append(self._ring_timer(call.id, cmd.seat, cmd.leg))

    def _on_RingTimeout(self, cmd: c.RingTimeout, at: datetime, out: Decision) -> None:
        call = self.calls.get(cmd.call_id)
        if call is None or call.state != CallState.OFFERED or call.leg != cmd.leg:
            return
        if not cmd.seat_fault:
            self._requeue_after_offer(call, at, out, None, hangup="no_answer")
        elif call.leg_rang:
            self._requeue_after_offer(call, at, out, PauseReason.NOT_RESPONDING.value, hangup="no_answer")
        else:
            self._phone_never_rang(call, at, out)

    def _leg_gone(
        self,
        call_id: str,
        leg: str,
        at: datetime,
        out: Decision,
        reason: str,
        cause: int | None,
        seat_fault: bool = True,
        answered: bool = False,
    ) -> None:
        """A seat leg ended. Before answer the phone's refusal counts against the seat (``seat_faults.py``); a
        failure of the switch or the link does not."""
        call = self.calls.get(call_id)
        if call is None or call.leg != leg:
            return
        if call.state == CallState.OFFERED:
            log.info("call %s: seat leg %s ended before answer (%s, cause %s)", call.id, leg, reason, cause)
            if seat_fault:
                self._phone_refused(call, cause, at, out, answered)
            else:
                self._rest_after_switch_failure(self.seats[call.seat or ""], out)
                self._requeue_after_offer(call, at, out, None, hangup=None)
        elif call.state == CallState.CONNECTED and call.agency_joined:
            self._hand_off(call, at, out, by=call.seat or "seat")  # hung up on purpose: the agency has the caller
        elif call.state == CallState.CONNECTED and self._dropped_at_once(call, at):
            self._phone_dropped(call, cause, at, out)
        elif call.state == CallState.CONNECTED:
            self._end(call, at, out, ended_by="seat")

    # ---- seats -------------------------------------------------------------------------------------
    def _on_WrapUpDone(self, cmd: c.WrapUpDone, at: datetime, out: Decision) -> None:
        seat = self.seats.get(cmd.seat)
        if seat is None or seat.state != SeatState.WRAP_UP:
            return
        target = SeatState.AVAILABLE if seat.registered and seat.signed_in else SeatState.OFFLINE
        out.events.append(seat.move(target, at))

    def _on_SeatRegistration(self, cmd: c.SeatRegistration, at: datetime, out: Decision) -> None:
        seat = self.seats.get(cmd.seat)
        if seat is not None:
            seat.unreachable = cmd.unreachable
        if seat is None or seat.registered == cmd.registered:
            return
        seat.registered = cmd.registered
        if cmd.registered:
            self._clear_failures(seat, out)
        if cmd.registered and seat.state == SeatState.OFFLINE and self.policy.auto_ready_on_register:
            seat.signed_in = True
            out.events.append(seat.move(SeatState.AVAILABLE, at))
            out.effects.append(fx.FallbackMembership(seat.id, member=True, paused=False))
        elif not cmd.registered and seat.state == SeatState.AVAILABLE:
            out.events.append(seat.move(SeatState.OFFLINE, at))
        elif not cmd.registered and seat.state == SeatState.OFFERED:  # its phone left while ringing: next seat
            self._requeue_after_offer(self.calls[seat.call_id or ""], at, out, None, hangup="seat_unregistered")
        elif not cmd.registered and seat.state == SeatState.BUSY:  # left mid-call: the caller must not stay alone
            call = self.calls[seat.call_id or ""]
            if call.agency_joined:
                self._hand_off(call, at, out, by=seat.id)  # the agency's duty phone still talks with the caller
            else:
                self._phone_left_call(call, at, out)

    def _on_SeatDeviceInUse(self, cmd: c.SeatDeviceInUse, at: datetime, out: Decision) -> None:
        seat = self.seats.get(cmd.seat)
        if seat is not None:
            seat.device_in_use = cmd.in_use

    def _on_SeatReady(self, cmd: c.SeatReady, at: datetime, out: Decision) -> None:
        seat = self.seats.get(cmd.seat)
        if seat is None:
            out.refused = "no_seat"
            return
        if seat.state in (SeatState.AVAILABLE, SeatState.PAUSED, SeatState.OFFLINE, SeatState.WRAP_UP):
            self._clear_failures(seat, out)  # the call taker vouches for the phone
        if seat.state not in (SeatState.PAUSED, SeatState.OFFLINE, SeatState.WRAP_UP):
            return
        seat.signed_in = True
        out.events.append(seat.move(SeatState.AVAILABLE, at))
        out.effects.append(fx.FallbackMembership(seat.id, member=True, paused=False))

    def _on_SeatPause(self, cmd: c.SeatPause, at: datetime, out: Decision) -> None:
        seat = self.seats.get(cmd.seat)
        if seat is None:
            out.refused = "no_seat"
            return
        if seat.state == SeatState.BUSY:
            out.refused = "busy"  # paused when the call ends: the call taker asks again
        elif seat.state == SeatState.OFFERED:
            call = self.calls[seat.call_id or ""]
            self._requeue_after_offer(call, at, out, cmd.reason, hangup="seat_paused")
        elif seat.state in (SeatState.AVAILABLE, SeatState.WRAP_UP, SeatState.OFFLINE):
            self._pause(seat, cmd.reason, at, out)

    def _on_SeatReserve(self, cmd: c.SeatReserve, at: datetime, out: Decision) -> None:
        seat = self.seats.get(cmd.seat)
        if seat is None:
            out.refused = "no_seat"
        elif seat.state is not SeatState.AVAILABLE or not seat.registered or seat.resting:
            out.refused = "seat_not_ready"  # offered a 112 call meanwhile, on a break, its phone away or refusing
        else:
            self._pause(seat, cmd.reason, at, out)

    @staticmethod
    def _pause(seat: Seat, reason: str, at: datetime, out: Decision) -> None:
        out.events.append(seat.move(SeatState.PAUSED, at, reason))
        out.effects.append(fx.FallbackMembership(seat.id, member=True, paused=True))

    def _on_HandOverWaiting(self, cmd: c.HandOverWaiting, at: datetime, out: Decision) -> None:
        for call in [
            c_ for c_ in self.calls.values() if c_.state in (CallState.RECEIVED, CallState.QUEUED, CallState.OFFERED)
        ]:
            self._dequeue(call)
            if call.state == CallState.OFFERED:
                self._withdraw_offer(
                    call, self.seats[call.seat or ""], at, out, pause_reason=None, hangup="handed_over"
                )
            out.effects.append(fx.ContinueToFallback(call.id, call.channel))
            self._finish(call, CallState.HANDED_OVER, at, out, ended_by="system", disposition=None)
        self.queue = []

    def _on_NodeLost(self, cmd: c.NodeLost, at: datetime, out: Decision) -> None:
        for call in [c_ for c_ in self.calls.values() if c_.node == cmd.node]:
            self._dequeue(call)
            seat = self.seats.get(call.seat or "")
            if call.state == CallState.OFFERED and seat is not None:  # not the seat's fault: it keeps its place
                self._withdraw_offer(call, seat, at, out, pause_reason=None, hangup=None)
            if call.state in (CallState.CONNECTED, CallState.TRANSFERRED):
                if call.recording:
                    out.events.append(RecordingFinished(call.id, at, call.recording))
                if seat is not None and seat.call_id == call.id and seat.state == SeatState.BUSY:
                    out.events.append(seat.move(SeatState.WRAP_UP, at))
                    self._start_wrap_up(seat, out)
                self._finish(call, CallState.ENDED, at, out, ended_by=NODE_LOST, disposition=None)
            else:
                self._finish(call, CallState.ABANDONED, at, out, ended_by=NODE_LOST, disposition="abandoned")
        for call_id, state in cmd.stored.items():
            if call_id in self.calls or call_id in self._finished:
                continue
            talking = state in (CallState.CONNECTED.value, CallState.TRANSFERRED.value)
            data = {"ended_by": NODE_LOST} if talking else {"ended_by": NODE_LOST, "disposition": "abandoned"}
            target = CallState.ENDED if talking else CallState.ABANDONED
            out.events.append(CallTransition(call_id, at, state, target.value, data=data))
            self._finished.append(call_id)

    def _on_SeatSignIn(self, cmd: c.SeatSignIn, at: datetime, out: Decision) -> None:
        """A call taker holds one seat: taking another leaves the one they had."""
        seat = self.seats.get(cmd.seat)
        if seat is None:
            out.refused = "no_seat"
            return
        if seat.user not in (None, cmd.user):
            out.refused = "seat_taken"
            return
        for other in [s for s in self.seats.values() if s.user == cmd.user and s.id != seat.id]:
            self._on_SeatSignOut(c.SeatSignOut(other.id), at, out)
        seat.user, seat.signed_in = cmd.user, True
        out.effects.append(fx.FallbackMembership(seat.id, member=True, paused=seat.state == SeatState.PAUSED))
        if seat.state == SeatState.OFFLINE and seat.registered:
            out.events.append(seat.move(SeatState.AVAILABLE, at))

    def _on_SeatSignOut(self, cmd: c.SeatSignOut, at: datetime, out: Decision) -> None:
        """Sign a seat out; a seat on a call is signed out when that call's wrap-up ends."""
        seat = self.seats.get(cmd.seat)
        if seat is None:
            out.refused = "no_seat"
            return
        seat.user, seat.signed_in = None, False
        out.effects.append(fx.FallbackMembership(seat.id, member=False, paused=False))
        if seat.state == SeatState.OFFERED:
            self._requeue_after_offer(self.calls[seat.call_id or ""], at, out, None, hangup="seat_signed_out")
        if seat.state in (SeatState.AVAILABLE, SeatState.PAUSED, SeatState.WRAP_UP):
            out.events.append(seat.move(SeatState.OFFLINE, at))

    def _on_Reconcile(self, cmd: c.Reconcile, at: datetime, out: Decision) -> None:
        from padang112.domain.reconcile import reconcile

        reconcile(self, cmd, at, out)

    # ---- shared moves ------------------------------------------------------------------------------
    def _enqueue(self, call: Call, at: datetime, out: Decision) -> None:
        out.events.append(call.move(CallState.QUEUED, at))
        bisect.insort(self.queue, (*call.queue_key, call.id))

    def _dequeue(self, call: Call) -> None:
        self.queue = [entry for entry in self.queue if entry[-1] != call.id]

    def _arm_announcement(self, call: Call, out: Decision) -> None:
        out.effects.append(
            fx.StartTimer(_announce_key(call.id), self.policy.position_announce_s, c.AnnouncePosition(call.id))
        )

    def _withdraw_offer(
        self, call: Call, seat: Seat, at: datetime, out: Decision, pause_reason: str | None, hangup: str | None
    ) -> None:
        """Take an offered call back from its seat; ``hangup`` is the reason to hang up its leg (None: gone)."""
        out.effects.append(fx.CancelTimer(_ring_key(call.leg or "")))
        if call.leg and hangup:
            out.effects.append(fx.Hangup(call.id, call.leg, hangup))
        call.leg = None
        idle_since = seat.idle_since
        if pause_reason is not None:
            out.events.append(seat.move(SeatState.PAUSED, at, pause_reason))
            out.effects.append(fx.FallbackMembership(seat.id, member=True, paused=True))
        elif seat.registered:
            out.events.append(seat.move(SeatState.AVAILABLE, at))
            seat.idle_since = idle_since  # not the seat's fault: it keeps its place among idle seats
        else:
            out.events.append(seat.move(SeatState.OFFLINE, at))

    def _requeue_after_offer(
        self, call: Call, at: datetime, out: Decision, pause_reason: str | None, hangup: str | None
    ) -> None:
        seat = self.seats[call.seat or ""]
        self._withdraw_offer(call, seat, at, out, pause_reason, hangup)
        call.seat = None
        self._enqueue(call, at, out)

    def _end(self, call: Call, at: datetime, out: Decision, ended_by: str) -> None:
        seat = self.seats[call.seat or ""]
        self._clear_failures(seat, out)  # its phone held a call: it works
        out.effects.append(fx.Hangup(call.id, call.channel if ended_by == "seat" else call.leg or "", "call_end"))
        if call.agency_leg:  # an agency conferenced in (or being dialled) leaves with the call
            out.effects.append(fx.Hangup(call.id, call.agency_leg, "call_end"))
        out.effects.append(fx.DestroyBridge(call.id, bridge_id(call.id)))
        if call.recording:
            out.events.append(RecordingFinished(call.id, at, call.recording))
        out.events.append(seat.move(SeatState.WRAP_UP, at))
        self._start_wrap_up(seat, out)
        self._finish(call, CallState.ENDED, at, out, ended_by=ended_by, disposition=None)

    def _start_wrap_up(self, seat: Seat, out: Decision) -> None:
        out.effects.append(fx.StartTimer(_wrap_key(seat.id), self.policy.wrap_up_s, c.WrapUpDone(seat.id)))

    def _finish(
        self, call: Call, state: CallState, at: datetime, out: Decision, ended_by: str, disposition: str | None
    ) -> None:
        data = {"ended_by": ended_by}
        if disposition:
            data["disposition"] = disposition
        out.events.append(call.move(state, at, **data))
        out.effects.append(fx.CancelTimer(_announce_key(call.id)))
        assert call.state in TERMINAL
        del self.calls[call.id]
        self._finished.append(call.id)

    def _assign(self, at: datetime, out: Decision) -> None:
        """Callers in their order, each to the longest idle eligible seat its node reaches. With several nodes a
        caller whose node reaches no free seat is passed over, never holding up the callers behind it."""
        waiting = 0
        while waiting < len(self.queue):
            ready = [s for s in self.seats.values() if s.eligible]
            if not ready:
                return
            call = self.calls[self.queue[waiting][-1]]
            ready = [s for s in ready if call.node not in s.unreachable]
            if not ready:
                waiting += 1
                continue
            seat = min(ready, key=lambda s: (s.idle_since or at, s.id))
            self.queue.pop(waiting)
            call.seat = seat.id
            call.leg = leg_id(call.id, seat.id, self._boot, next(self._legs))
            call.leg_rang = False
            out.events.append(call.move(CallState.OFFERED, at))
            seat.call_id = call.id
            out.events.append(seat.move(SeatState.OFFERED, at))
            out.effects.append(
                fx.RingSeat(
                    call.id, seat.id, call.leg, call.caller_number, call.caller_name, self.policy.ring_timeout_s
                )
            )
            out.effects.append(self._ring_timer(call.id, seat.id, call.leg))

    def _ring_timer(self, call_id: str, seat: str, leg: str) -> fx.StartTimer:
        """Armed at the offer (the phone must start ringing within it) and again when it rings (the full ring)."""
        return fx.StartTimer(_ring_key(leg), self.policy.ring_timeout_s, c.RingTimeout(call_id, seat, leg))


def _ring_key(leg: str) -> str:
    return f"ring:{leg}"


def _announce_key(call_id: str) -> str:
    return f"announce:{call_id}"


def _wrap_key(seat: str) -> str:
    return f"wrap:{seat}"
