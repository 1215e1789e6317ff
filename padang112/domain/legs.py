"""What the switch reports about a channel placed for a line (a duty call, a call-back leg): the lines' commands.

``telephony/lines.py:translate`` turns an ARI event into these (Asterisk vocabulary stops there); the duty caller
and the call-back dialer decide on them with their pure state machines (``duty_alerts``, ``callback_attempt``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LegUp:
    """The channel answered: it entered the application."""

    channel: str


@dataclass(frozen=True)
class LegGone:
    """The channel hangs up or left the application (repeated: a line acts on the first)."""

    channel: str
    cause: int | None = None  # the hang-up cause (Q.850), when the switch gives one


@dataclass(frozen=True)
class KeyPressed:
    channel: str
    digit: str


@dataclass(frozen=True)
class PlaybackDone:
    channel: str
    playback: str  # the playback's id


LegFact = LegUp | LegGone | KeyPressed | PlaybackDone
