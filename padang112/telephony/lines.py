"""The controller's contract for a line: a kind of call it places besides the room's (duty alerts, call-backs).

A line's channel ids start with its ``prefix``; the controller takes the ARI events of those channels from the one
inbox in order, translates each (:func:`translate`, pure) into the line's commands (``domain/legs.py``) and hands
them to the line; after every (re)connection it gives each line the switch's snapshot to reconcile its channels, and
its timer is the controller's tick, taken from the same inbox.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from padang112.domain.legs import KeyPressed, LegFact, LegGone, LegUp, PlaybackDone
from padang112.telephony.snapshot import Snapshot
from padang112.telephony.stasis import hangup_cause

GONE = frozenset({"ChannelHangupRequest", "StasisEnd", "ChannelDestroyed"})


class Line(Protocol):
    """A kind of call the controller places outside the room; its channel ids start with ``prefix``."""

    prefix: str

    def take(self, fact: LegFact) -> None:
        """What the switch reported about one of the line's channels (must not block)."""

    def reconcile(self, snapshot: Snapshot, paused: dict[str, str]) -> None:
        """After each (re)connection: the switch's channels and bridges, and the stored seat pauses."""

    def tick(self, at: datetime) -> None:
        """About once a second, from the inbox in its turn: carry out what has fallen due by ``at``."""


def event_channel(event: dict[str, Any]) -> str:
    """The channel an ARI event is about ("" if none): its channel, or the channel a playback played on."""
    channel = event.get("channel")
    if isinstance(channel, dict):
        return str(channel.get("id", ""))
    playback = event.get("playback")
    if isinstance(playback, dict):
        return str(playback.get("target_uri", "")).removeprefix("channel:")
    return ""


def translate(event: dict[str, Any]) -> list[LegFact]:
    """An ARI event about a line's channel as the line's command (pure; [] for what no line acts on)."""
    channel, kind = event_channel(event), event.get("type")
    if not channel:
        return []
    if kind == "StasisStart":
        return [LegUp(channel)]
    if kind in GONE:
        return [LegGone(channel, hangup_cause(event))]
    if kind == "ChannelDtmfReceived":
        return [KeyPressed(channel, str(event.get("digit", "")))]
    if kind == "PlaybackFinished":
        return [PlaybackDone(channel, str(event["playback"].get("id", "")))]
    return []
