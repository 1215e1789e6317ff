"""The screen-pop: what a call taker's screen shows when a call rings at their seat, carried by its ``offered`` event.

The controller adds it to the room's ``offered`` transition (``data["screen_pop"]``) from what it knows at that
moment: the call (caller, carrier, dialled number, arrival, prank flag) and the caller's profile (earlier calls,
prank count and score, :mod:`padang112.domain.caller_history`). The console shows it as it is, without a query, and
the stored event replays the same screen. The switch reports no caller location, so the pop has none.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from padang112.domain.caller_history import CallerProfile
from padang112.domain.calls import Call
from padang112.wib import iso_or_none as wib


def call_view(call: Call, now: datetime, position: int | None = None) -> dict[str, Any]:
    """The JSON view of a live call (the room's rows, the desk's answers and the screen-pop)."""
    return {
        "id": call.id,
        "state": call.state.value,
        "caller_number": call.caller_number,
        "caller_name": call.caller_name,
        "carrier": call.carrier,
        "dialed": call.dialed,
        "seat": call.seat,
        "received_at": wib(call.received_at),
        "waiting_s": int((now - call.received_at).total_seconds()),
        "position": position,
        "flagged": call.flagged,
        "agency": call.agency if call.agency_joined else None,
    }  # an agency's duty phone in the call


def screen_pop(call: Call, at: datetime, profile: CallerProfile) -> dict[str, Any]:
    """Plain JSON values only: the pop is stored with the event (``call_events.data``)."""
    return {
        "call": call_view(call, at),
        "history": {
            "call_id": call.id,
            "prank_count": profile.prank_count,
            "prank_score": profile.prank_score,
            "prank_cleared_at": wib(profile.prank_cleared_at),
            "calls": [
                {
                    "id": c.id,
                    "received_at": wib(c.received_at),
                    "state": c.state,
                    "disposition": c.disposition,
                    "seat": c.seat,
                }
                for c in profile.earlier
            ],
        },
    }
