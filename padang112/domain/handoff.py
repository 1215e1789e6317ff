"""Warm hand-off rules of the room: conference an agency's duty phone into a call, then the call taker leaves.

``connected`` call + ``ConferenceAgency`` -> the duty phone is dialled (``DialAgency``) and, once it answers,
added to the call's bridge (caller, call taker and agency talk together; the recording goes on). ``SeatLeaves``
(or the call taker hanging up their phone while the agency is in the call) frees the seat and moves the call to
``transferred``: the caller stays with the agency until either hangs up. If the duty phone does not answer or
leaves early, the call simply stays with the call taker. Mixed into :class:`padang112.domain.room.Room`.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import TYPE_CHECKING

from padang112.domain import commands as c
from padang112.domain import effects as fx
from padang112.domain.calls import TERMINAL, Call, CallState
from padang112.domain.events import CallAnnotated, RecordingFinished
from padang112.domain.naming import bridge_id, handoff_leg_id
from padang112.domain.seats import Seat, SeatState

if TYPE_CHECKING:
    from padang112.domain.room import Decision

SYSTEM = "system"


class HandoffRules:
    # what the rules use of the room they are mixed into
    calls: dict[str, Call]
    seats: dict[str, Seat]
    _boot: str
    _legs: itertools.count[int]

    def _start_wrap_up(self, seat: Seat, out: Decision) -> None:
        raise NotImplementedError

    def _finish(
        self, call: Call, state: CallState, at: datetime, out: Decision, ended_by: str, disposition: str | None
    ) -> None:
        raise NotImplementedError

    def _on_ConferenceAgency(self, cmd: c.ConferenceAgency, at: datetime, out: Decision) -> None:
        call = self.calls.get(cmd.call_id)
        out.refused = self._not_yours(call, cmd.by) or ("agency_busy" if call and call.agency_leg else None)
        if out.refused or call is None:
            return
        call.agency = cmd.agency
        call.agency_leg = handoff_leg_id(call.id, cmd.agency, self._boot, next(self._legs))
        out.events.append(_stage(call, at, cmd.by, "dialing"))
        out.effects.append(fx.DialAgency(call.id, cmd.agency, call.agency_leg, call.caller_number))

    def _on_AgencyLegAnswered(self, cmd: c.AgencyLegAnswered, at: datetime, out: Decision) -> None:
        call = self.calls.get(cmd.call_id)
        if call is None or call.agency_leg != cmd.leg or call.state != CallState.CONNECTED:
            out.effects.append(fx.Hangup(cmd.call_id, cmd.leg, "stale_handoff"))
            return
        call.agency_joined = True
        out.effects.append(fx.AddToBridge(call.id, bridge_id(call.id), cmd.leg))
        out.events.append(_stage(call, at, SYSTEM, "joined"))

    def _on_AgencyLegGone(self, cmd: c.AgencyLegGone, at: datetime, out: Decision) -> None:
        call = self.calls.get(cmd.call_id)
        if call is None or call.agency_leg != cmd.leg:
            return
        joined = call.agency_joined
        call.agency_leg, call.agency_joined = None, False
        if call.state == CallState.TRANSFERRED:  # the agency hung up: the caller must not stay alone
            self._end_transferred(call, at, out, ended_by="agency")
        else:
            out.events.append(_stage(call, at, SYSTEM, "left" if joined else "failed", reason=cmd.reason))

    def _on_SeatLeaves(self, cmd: c.SeatLeaves, at: datetime, out: Decision) -> None:
        call = self.calls.get(cmd.call_id)
        out.refused = self._not_yours(call, cmd.by) or (None if call and call.agency_joined else "agency_not_joined")
        if out.refused or call is None:
            return
        self._hand_off(call, at, out, by=cmd.by)

    def _not_yours(self, call: Call | None, user: str) -> str | None:
        """Why ``user`` may not hand this call off: the call taker at the call's seat, while it is connected."""
        if call is None or call.state in TERMINAL:
            return "no_call"
        if call.seat is None or self.seats[call.seat].user != user:
            return "not_your_call"
        return None if call.state == CallState.CONNECTED else "not_connected"

    # ---- shared with the room's own handlers -------------------------------------------------------------
    def _hand_off(self, call: Call, at: datetime, out: Decision, by: str) -> None:
        """The seat leaves; the caller stays bridged with the agency."""
        seat = self.seats[call.seat or ""]
        if call.leg:
            out.effects.append(fx.Hangup(call.id, call.leg, "handed_off"))
        call.leg = None
        out.events.append(seat.move(SeatState.WRAP_UP, at))
        self._start_wrap_up(seat, out)
        out.events.append(_stage(call, at, by, "seat_left"))
        out.events.append(call.move(CallState.TRANSFERRED, at, agency=call.agency))

    def _end_transferred(self, call: Call, at: datetime, out: Decision, ended_by: str) -> None:
        for channel in (call.channel, call.agency_leg):
            if channel:
                out.effects.append(fx.Hangup(call.id, channel, "call_end"))
        out.effects.append(fx.DestroyBridge(call.id, bridge_id(call.id)))
        if call.recording:
            out.events.append(RecordingFinished(call.id, at, call.recording))
        self._finish(call, CallState.ENDED, at, out, ended_by=ended_by, disposition=None)


def _stage(call: Call, at: datetime, by: str, stage: str, **extra: str) -> CallAnnotated:
    return CallAnnotated(call.id, at, "handoff", by, {"agency": call.agency, "stage": stage, **extra})
