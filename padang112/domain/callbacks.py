"""The callback list's rules: which abandoned callers get an item, and what an attempt's end means.

An item is ``open`` until a call taker takes it (``dialing``: their phone rings, then the caller's), ``connected``
once the caller answers, and ``done`` when that call ends. An attempt that does not reach the caller puts it
back to ``open`` with the outcome. A number that calls 112 again while its item is open is noted on the item;
once that new call is answered the item is ``matched`` (the caller reached the room; nobody needs to call back),
if it is abandoned too, the item counts one more abandoned call. Plain values and functions, no I/O.
"""

from __future__ import annotations

import enum
import re
from datetime import timedelta

from padang112.domain.calls import NODE_LOST
from padang112.domain.events import CallTransition

NUMBER_RE = re.compile(r"^\+?[0-9]{3,20}$")  # what gets an item; which of them are dialled: domain/numbering.py
DAILY_CAP_WINDOW = timedelta(hours=24)  # rolling, so a cap cannot be doubled around midnight


class CallbackState(str, enum.Enum):
    OPEN = "open"
    DIALING = "dialing"
    CONNECTED = "connected"
    DONE = "done"
    MATCHED = "matched"


ACTIVE = frozenset({CallbackState.OPEN, CallbackState.DIALING, CallbackState.CONNECTED})
TAKEABLE = frozenset({CallbackState.OPEN})

# outcome of one attempt -> shown to the call taker
OUTCOMES = ("reached", "no_answer", "busy", "unreachable", "seat_no_answer", "failed")

# Q.850 causes Asterisk reports when an outgoing leg ends before it is answered
_BUSY_CAUSES = frozenset({17})
_NO_ANSWER_CAUSES = frozenset({18, 19, 16})


def callable_number(number: str | None) -> bool:
    return bool(number) and NUMBER_RE.match(number or "") is not None


def lost_caller(event: CallTransition) -> bool:
    """A caller to call back: who hung up before anyone had the call, or whose call died with its Asterisk node
    (waiting or talking: ``NODE_LOST``)."""
    return event.to_state == "abandoned" or (event.to_state == "ended" and event.data.get("ended_by") == NODE_LOST)


def over_daily_cap(attempts_in_window: int, cap: int) -> bool:
    """Another attempt would exceed ``cap`` call-backs to one number within ``DAILY_CAP_WINDOW``."""
    return attempts_in_window >= cap


def outcome_of_cause(cause: int | None) -> str:
    """What an unanswered call-back leg's hang-up cause means for the caller's item."""
    if cause in _BUSY_CAUSES:
        return "busy"
    if cause in _NO_ANSWER_CAUSES:
        return "no_answer"
    return "unreachable"
