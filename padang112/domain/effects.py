"""Outputs of the room: what the telephony adapter must do. Plain values, so the room is tested as tables."""

from __future__ import annotations

from dataclasses import dataclass

from padang112.domain import commands


@dataclass(frozen=True)
class Answer:
    call_id: str
    channel: str


@dataclass(frozen=True)
class PlayPrompts:
    """Stop hold music, play the prompts in order; the room is told with PromptsFinished."""

    call_id: str
    channel: str
    prompts: tuple[str, ...]


@dataclass(frozen=True)
class StartHoldMusic:
    call_id: str
    channel: str


@dataclass(frozen=True)
class RingSeat:
    """Place the seat leg with our own channel id, so its StasisStart is routed without look-ups."""

    call_id: str
    seat: str
    leg: str
    caller_number: str
    caller_name: str
    timeout_s: float


@dataclass(frozen=True)
class Bridge:
    call_id: str
    bridge: str
    channels: tuple[str, ...]


@dataclass(frozen=True)
class StartRecording:
    call_id: str
    bridge: str
    name: str


@dataclass(frozen=True)
class DestroyBridge:
    call_id: str
    bridge: str


@dataclass(frozen=True)
class Hangup:
    call_id: str
    channel: str
    reason: str = "normal"


@dataclass(frozen=True)
class ContinueToFallback:
    """Send the caller back to the dialplan's fallback queue (answered, recorded, never dropped)."""

    call_id: str
    channel: str


@dataclass(frozen=True)
class FindCaller:
    """Ask the switch where a caller who left our application went: ``CallerMoved`` back if the fallback queue
    has him, ``CallerHungUp`` if his channel is gone."""

    call_id: str
    channel: str


@dataclass(frozen=True)
class DialAgency:
    """Place a leg to the agency's duty phone (via the dial policy), showing the caller's number."""

    call_id: str
    agency: str
    leg: str
    caller_number: str


@dataclass(frozen=True)
class AddToBridge:
    call_id: str
    bridge: str
    channel: str


@dataclass(frozen=True)
class Originate:
    """Place a call the controller makes besides the room's seat legs (a duty phone, a call-back leg), with our own
    channel id; ``endpoint`` comes from the dial policy."""

    call_id: str
    channel: str
    endpoint: str
    app_args: str
    caller_id: str
    timeout_s: float


@dataclass(frozen=True)
class Ringing:
    """Indicate ringing on a channel (``on``) or stop it."""

    call_id: str
    channel: str
    on: bool


@dataclass(frozen=True)
class Play:
    """Play media on a channel under a playback id chosen by the caller (to recognise its PlaybackFinished)."""

    call_id: str
    channel: str
    playback: str
    media: str


@dataclass(frozen=True)
class StopPlayback:
    call_id: str
    playback: str


@dataclass(frozen=True)
class StartTimer:
    key: str
    delay_s: float
    command: commands.Command


@dataclass(frozen=True)
class CancelTimer:
    key: str


@dataclass(frozen=True)
class FallbackMembership:
    """Mirror a seat into Asterisk's own fallback queue (used when the controller is down)."""

    seat: str
    member: bool
    paused: bool


Effect = (
    Answer
    | PlayPrompts
    | StartHoldMusic
    | RingSeat
    | FindCaller
    | Bridge
    | StartRecording
    | DestroyBridge
    | Hangup
    | ContinueToFallback
    | StartTimer
    | CancelTimer
    | FallbackMembership
    | DialAgency
    | AddToBridge
    | Originate
    | Ringing
    | Play
    | StopPlayback
)
