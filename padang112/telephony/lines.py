"""The controller's contract for a line: a kind of call it places besides the room's (duty alerts, call-backs).

A line's channel ids start with its ``prefix``; the controller hands it the ARI events of those channels, taken
from the one inbox in order, and after every (re)connection the switch's snapshot to reconcile its own channels.
"""

from __future__ import annotations

from typing import Any, Protocol

from padang112.telephony.snapshot import Snapshot


class Line(Protocol):
    """A kind of call the controller places outside the room; its channel ids start with ``prefix``."""

    prefix: str

    def on_ari_event(self, event: dict[str, Any]) -> None:
        """An ARI event about one of the line's channels (must not block)."""

    def reconcile(self, snapshot: Snapshot, paused: dict[str, str]) -> None:
        """After each (re)connection: the switch's channels and bridges, and the stored seat pauses."""


def event_channel(event: dict[str, Any]) -> str:
    """The channel an ARI event is about ("" if none): its channel, or the channel a playback played on."""
    channel = event.get("channel")
    if isinstance(channel, dict):
        return str(channel.get("id", ""))
    playback = event.get("playback")
    if isinstance(playback, dict):
        return str(playback.get("target_uri", "")).removeprefix("channel:")
    return ""
