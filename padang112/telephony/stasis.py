"""Translate ARI events into the room's commands. Asterisk vocabulary stops here.

Seat legs are originated with our own channel id ``leg-<call id>-<seat>-<n>`` and appArgs
``seat,<call id>,<seat>``, so an event about a leg is routed without any look-up.
"""

from __future__ import annotations

import logging
from typing import Any

from padang112.domain import commands as c
from padang112.domain.naming import parse_handoff_leg, parse_leg

log = logging.getLogger(__name__)

IN_USE_DEVICE_STATES = frozenset({"INUSE", "BUSY", "RINGING", "RINGINUSE", "ONHOLD"})


def sanitize_text(value: Any, limit: int = 2048) -> str:
    """Caller ids arrive as anything a carrier or attacker sends: keep them as text, bounded."""
    if not isinstance(value, str):
        value = "" if value is None else str(value)
    return value[:limit]


def hangup_cause(event: dict[str, Any]) -> int | None:
    """The Q.850 cause of ChannelHangupRequest/ChannelDestroyed (17 busy, 21 rejected...), None if not given."""
    cause = event.get("cause")
    return cause if isinstance(cause, int) and not isinstance(cause, bool) and 0 < cause < 256 else None


class StasisTranslator:
    """Stateless apart from knowing which channels are our inbound calls (``is_inbound``)."""

    def __init__(self, app: str, seats: set[str], is_inbound, current_playback) -> None:
        self.app = app
        self.seats = seats
        self._is_inbound = is_inbound
        self._current_playback = current_playback

    def translate(self, event: dict[str, Any]) -> list[c.Command]:
        kind = event.get("type")
        handler = getattr(self, "_" + str(kind), None)
        if handler is None:
            return []
        try:
            return handler(event)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            log.error("ARI event %s could not be read (%s): %.300s", kind, exc, event)
            return []

    def _StasisStart(self, event: dict[str, Any]) -> list[c.Command]:
        channel = event["channel"]
        args = list(event.get("args") or [])
        if args and args[0] == "inbound":
            carrier = args[1] if len(args) > 1 else ""
            dialed = args[2] if len(args) > 2 else ""
            caller = channel.get("caller") or {}
            return [
                c.CallArrived(
                    call_id=channel["id"],
                    channel=channel["id"],
                    caller_number=sanitize_text(caller.get("number")),
                    caller_name=sanitize_text(caller.get("name")),
                    carrier=sanitize_text(carrier, 32),
                    dialed=sanitize_text(dialed, 32),
                )
            ]
        if args and args[0] == "seat" and len(args) >= 3:
            return [c.SeatLegAnswered(call_id=args[1], seat=args[2], leg=channel["id"])]
        if args and args[0] == "handoff" and len(args) >= 3:
            return [c.AgencyLegAnswered(call_id=args[1], agency=args[2], leg=channel["id"])]
        log.warning("StasisStart with unexpected args %r on %s", args, channel.get("name"))
        return []

    def _gone(self, event: dict[str, Any]) -> list[c.Command]:
        channel_id = event["channel"]["id"]
        leg = parse_leg(channel_id)
        if leg is not None:
            call_id, seat = leg
            answered = (event["channel"].get("state") or "") == "Up"
            return [c.SeatLegHungUp(call_id, seat, channel_id, hangup_cause(event), answered)]
        handoff = parse_handoff_leg(channel_id)
        if handoff is not None:
            return [c.AgencyLegGone(handoff[0], channel_id, str(event.get("cause_txt") or event.get("type")))]
        if self._is_inbound(channel_id):
            return [c.CallerHungUp(channel_id)]
        return []

    def _StasisEnd(self, event: dict[str, Any]) -> list[c.Command]:
        """A caller hanging up is announced by ChannelHangupRequest first, unless he hung up in the instant
        ``Stasis()`` started; a caller that only leaves was moved by the dialplan's watchdog (this controller did
        not answer in time) and lives on in the fallback queue. The room asks the switch which it was."""
        channel_id = event["channel"]["id"]
        if parse_leg(channel_id) is None and parse_handoff_leg(channel_id) is None and self._is_inbound(channel_id):
            return [c.CallerLeftApp(channel_id)]
        return self._gone(event)

    def _ChannelStateChange(self, event: dict[str, Any]) -> list[c.Command]:
        """A seat leg's phone ringing (its 180): the room times the ring from here."""
        channel = event["channel"]
        leg = parse_leg(channel["id"])
        if leg is None or channel.get("state") != "Ringing":
            return []
        return [c.SeatLegRinging(leg[0], leg[1], channel["id"])]

    def _ChannelHangupRequest(self, event: dict[str, Any]) -> list[c.Command]:
        """A caller's or an agency leg's end; a seat leg's end is taken from its ``StasisEnd`` or
        ``ChannelDestroyed`` instead. Asterisk publishes the hang-up request from the SIP thread that took the
        phone's BYE (or its refusal), with the channel as it was at that moment, while the channel's own thread
        reads the answer queued before it: a phone that answers and hangs up at once has its BYE right behind its
        200 OK, and under load the request came first, the leg still "Ringing" and with no cause, then "Up" and
        ``StasisStart`` (CI classed that drop ``unknown``). ``StasisEnd`` follows ``StasisStart`` on the
        application's own path and ``ChannelDestroyed`` is the channel's last word: both come after the answer
        was read, so the room has seen it, and ``ChannelDestroyed`` carries the refusal's cause as well (17 for
        486). ``tests/unit/test_seat_leg_endings.py`` replays each order."""
        if parse_leg(event["channel"]["id"]) is not None:
            return []
        return self._gone(event)

    # The first of these for a channel does the work; the room ignores the repeats.
    _ChannelDestroyed = _gone

    def _PlaybackFinished(self, event: dict[str, Any]) -> list[c.Command]:
        playback = event["playback"]
        target = str(playback.get("target_uri", ""))
        if not target.startswith("channel:"):
            return []
        channel_id = target[len("channel:") :]
        if self._current_playback(channel_id) != playback.get("id"):
            return []  # an earlier prompt that was cut short by a newer one
        return [c.PromptsFinished(channel_id)] if self._is_inbound(channel_id) else []

    def _EndpointStateChange(self, event: dict[str, Any]) -> list[c.Command]:
        endpoint = event["endpoint"]
        if endpoint.get("technology") != "PJSIP" or endpoint.get("resource") not in self.seats:
            return []
        return [c.SeatRegistration(endpoint["resource"], endpoint.get("state") == "online")]

    def _DeviceStateChanged(self, event: dict[str, Any]) -> list[c.Command]:
        state = event["device_state"]
        name = str(state.get("name", ""))
        if not name.startswith("PJSIP/") or name[6:] not in self.seats:
            return []
        return [c.SeatDeviceInUse(name[6:], state.get("state") in IN_USE_DEVICE_STATES)]
