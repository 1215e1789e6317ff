"""Identifiers the controller chooses, so that every ARI event is routed without look-ups.

A seat leg is ``leg-<call id>-<seat>-<boot><n>``: ``boot`` is random per controller process, so a leg id
never repeats after a restart and a late event about an old leg cannot be taken for a new one. A recording is
named after the seat leg whose answer started it (``call-<call id>-<seat>-<boot><n>``): one file per bridged
segment, never reused (a caller put through twice, e.g. across a controller restart, keeps both), and a
restarted controller finds the name of a recording still running from the live leg alone.
"""

from __future__ import annotations


def leg_id(call_id: str, seat: str, boot: str, n: int) -> str:
    return f"leg-{call_id}-{seat}-{boot}{n}"


def parse_leg(channel_id: str) -> tuple[str, str] | None:
    """``leg-<call>-<seat>-<suffix>`` -> (call id, seat); None for any other channel."""
    if not channel_id.startswith("leg-"):
        return None
    parts = channel_id[4:].rsplit("-", 2)
    if len(parts) != 3 or not all(parts):
        return None
    return parts[0], parts[1]


def bridge_id(call_id: str) -> str:
    return f"bridge-{call_id}"


def recording_name(leg: str) -> str:
    """The recording of the segment that the seat leg ``leg`` (``leg-<call>-<seat>-<suffix>``) talks in."""
    return "call-" + leg.removeprefix("leg-")


def handoff_leg_id(call_id: str, agency: str, boot: str, n: int) -> str:
    """An agency duty phone's leg in a warm hand-off: ``hoff-<call>-<agency>-<boot><n>``."""
    return f"hoff-{call_id}-{agency}-{boot}{n}"


def parse_handoff_leg(channel_id: str) -> tuple[str, str] | None:
    """``hoff-<call>-<agency>-<suffix>`` -> (call id, agency); None for any other channel."""
    if not channel_id.startswith("hoff-"):
        return None
    parts = channel_id[5:].rsplit("-", 2)
    if len(parts) != 3 or not all(parts):
        return None
    return parts[0], parts[1]
