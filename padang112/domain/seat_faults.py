"""What the room does when a seat's phone fails: refuses a call, drops it at once, or leaves while ringing.

A phone that says "not now" within its ring (busy, do-not-disturb, declined, no common codec, unreachable), or that
never says it rings within the ring time, is not a seat that lets a call ring out (a phone that rang the whole
ring time unanswered: that pauses the seat ``not_responding`` at once). Mixed into
:class:`padang112.domain.room.Room`. Rules:

- the caller goes straight back to its place in line (the head: it was the first waiting) and the next seat rings;
- the seat rests ``Policy.seat_retry_s`` (a timer posts ``SeatRested``; the room never reads a clock), then may be
  offered a call again;
- after ``Policy.seat_failures_to_pause`` failures in a row it is paused ``phone_failing``;
- the count (and the rest) is cleared when the seat holds a call to its end, its phone registers again or the call
  taker says Siap (``SeatReady``); an answer alone does not clear it (a phone that answers and drops every call);
- a seat that answers and hangs up within ``Policy.min_talk_s`` dropped the call: the caller is put back first in
  line (out of the old bridge, hearing music again) and the drop counts as a failure;
- each failure is a ``SeatPhoneFailed`` event: stored with the call, pushed to the seat's call taker and the
  supervisors;
- a seat whose phone unregisters (or stops answering the switch's qualify pings) gives its caller back at once,
  while ringing or in the call (then the caller is first in line again); the seat goes offline, not counted.

Failures of the switch, the link or the controller (``SeatLegFailed.seat_fault=False``, a late ``RingTimeout``) are
none of these: the seat is neither counted nor paused.
"""

from __future__ import annotations

import bisect
from datetime import datetime
from typing import TYPE_CHECKING

from padang112.domain import commands as c
from padang112.domain import effects as fx
from padang112.domain.calls import Call, CallState
from padang112.domain.events import RecordingFinished, SeatPhoneFailed
from padang112.domain.naming import bridge_id
from padang112.domain.seats import PauseReason, Seat, SeatState

if TYPE_CHECKING:
    from padang112.domain.room import Decision, Policy

# Q.850 causes Asterisk gives for a phone's SIP answer (chan_pjsip's hangup_sip2cause)
BUSY = frozenset({17})  # 486 Busy Here, 600 Busy Everywhere
REJECTED = frozenset({21, 29})  # 403, 603 Decline; 501 (facility rejected)
INCOMPATIBLE = frozenset({58, 65, 66, 88})  # 488/606 no common codec, incompatible destination


SWITCH_RETRY_S = 1.0  # a seat whose ring the switch or the link failed is tried again after this


def refusal_kind(cause: int | None) -> str:
    """What a seat leg's end before answer says about the phone; anything else it answered is ``unreachable``
    (no user responding, 480, out of order, 503...)."""
    if cause is None or cause == 0:
        return "unknown"
    if cause in BUSY:
        return "busy"
    if cause in REJECTED:
        return "rejected"
    if cause in INCOMPATIBLE:
        return "incompatible"
    return "unreachable"


def _rest_key(seat: str) -> str:
    return f"rest:{seat}"


class SeatFaultRules:
    # what the rules use of the room they are mixed into
    calls: dict[str, Call]
    seats: dict[str, Seat]
    policy: Policy
    queue: list[tuple[int, datetime, int, str]]

    def _requeue_after_offer(
        self, call: Call, at: datetime, out: Decision, pause_reason: str | None, hangup: str | None
    ) -> None:
        raise NotImplementedError

    def _start_wrap_up(self, seat: Seat, out: Decision) -> None:
        raise NotImplementedError

    def _arm_announcement(self, call: Call, out: Decision) -> None:
        raise NotImplementedError

    @staticmethod
    def _pause(seat: Seat, reason: str, at: datetime, out: Decision) -> None:
        raise NotImplementedError

    def _on_SeatRested(self, cmd: c.SeatRested, at: datetime, out: Decision) -> None:
        seat = self.seats.get(cmd.seat)
        if seat is not None:
            seat.resting = False

    def _phone_refused(
        self, call: Call, cause: int | None, at: datetime, out: Decision, answered: bool = False
    ) -> None:
        """The offered seat's leg ended before the controller bridged it, the phone's doing: the caller goes to the
        next seat. A phone that had answered (and hung up at once) dropped the call."""
        self._offer_failed(call, "dropped" if answered else refusal_kind(cause), cause, at, out, hangup=None)

    def _phone_never_rang(self, call: Call, at: datetime, out: Decision) -> None:
        """The ring time passed before the phone said it rings: the phone is slow or deaf, or the switch under load
        was slow to reach it. Nobody let it ring out; it counts as a failure (paused after several in a row)."""
        self._offer_failed(call, "no_ring", None, at, out, hangup="no_answer")

    def _offer_failed(
        self, call: Call, kind: str, cause: int | None, at: datetime, out: Decision, hangup: str | None
    ) -> None:
        seat = self.seats[call.seat or ""]
        failures = seat.failures + 1
        pause = PauseReason.PHONE_FAILING.value if failures >= self.policy.seat_failures_to_pause else None
        self._requeue_after_offer(call, at, out, pause, hangup=hangup)
        self._count_failure(seat, call.id, kind, cause, at, out)

    def _dropped_at_once(self, call: Call, at: datetime) -> bool:
        return (
            call.connected_at is not None
            and call.agency_leg is None
            and (at - call.connected_at).total_seconds() < self.policy.min_talk_s
        )

    def _phone_dropped(self, call: Call, cause: int | None, at: datetime, out: Decision) -> None:
        """The seat answered and hung up at once: the caller is first in line again; the drop counts."""
        seat = self.seats[call.seat or ""]
        self._give_back(call, seat, at, out, hangup=None)
        self._count_failure(seat, call.id, "dropped", cause, at, out)

    def _phone_left_call(self, call: Call, at: datetime, out: Decision) -> None:
        """The seat's phone unregistered (or stopped answering the switch's pings) in the middle of a call: the
        caller would talk into a dead line, so it is first in line again. Not counted: the phone is gone."""
        self._give_back(call, self.seats[call.seat or ""], at, out, hangup="seat_unregistered")

    def _give_back(self, call: Call, seat: Seat, at: datetime, out: Decision, hangup: str | None) -> None:
        """A connected caller whose seat failed leaves the bridge (its recording ends), hears music again and waits
        first in line; the seat goes to wrap-up."""
        if call.leg and hangup:
            out.effects.append(fx.Hangup(call.id, call.leg, hangup))
        out.effects.append(fx.DestroyBridge(call.id, bridge_id(call.id)))
        if call.recording:  # the segment with this seat is over; the next seat's has its own file
            out.events.append(RecordingFinished(call.id, at, call.recording))
        call.recording = None
        out.events.append(seat.move(SeatState.WRAP_UP, at))
        self._start_wrap_up(seat, out)
        out.events.append(call.move(CallState.QUEUED, at, reason="seat_failed"))
        call.seat = call.leg = call.connected_at = None
        call.seat_lost = True
        bisect.insort(self.queue, (*call.queue_key, call.id))
        out.effects.append(fx.StartHoldMusic(call.id, call.channel))
        self._arm_announcement(call, out)

    def _count_failure(
        self, seat: Seat, call_id: str, kind: str, cause: int | None, at: datetime, out: Decision
    ) -> None:
        seat.failures += 1
        paused = seat.failures >= self.policy.seat_failures_to_pause
        if paused:
            if seat.state in (SeatState.AVAILABLE, SeatState.WRAP_UP, SeatState.OFFLINE):
                self._pause(seat, PauseReason.PHONE_FAILING.value, at, out)
            self._stop_rest(seat, out)
        else:
            seat.resting = True
            out.effects.append(fx.StartTimer(_rest_key(seat.id), self.policy.seat_retry_s, c.SeatRested(seat.id)))
        retry = 0.0 if paused else self.policy.seat_retry_s
        out.events.append(SeatPhoneFailed(seat.id, at, call_id, kind, cause, seat.failures, retry, paused))

    def _rest_after_switch_failure(self, seat: Seat, out: Decision) -> None:
        """The switch or the link failed the ring, not the phone: nothing is counted, but the seat is not rung
        again at once (a switch that is down fails every ring: the room would offer and requeue in a tight loop)."""
        self._stop_rest(seat, out)
        seat.resting = True
        out.effects.append(fx.StartTimer(_rest_key(seat.id), SWITCH_RETRY_S, c.SeatRested(seat.id)))

    def _clear_failures(self, seat: Seat, out: Decision) -> None:
        """The phone works again (answered, registered again, the call taker said Siap): a fresh start."""
        seat.failures = 0
        self._stop_rest(seat, out)

    def _stop_rest(self, seat: Seat, out: Decision) -> None:
        if seat.resting:
            seat.resting = False
            out.effects.append(fx.CancelTimer(_rest_key(seat.id)))
