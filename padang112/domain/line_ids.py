"""A line's ids name the node its call was placed on (issue 13, "no single machine").

The room's call ids start with ``<node>-`` because Asterisk makes them (each node's systemname). The lines (duty
phones, call-backs: ``telephony/lines.py``) name their own channels, so they name the node too: a duty call placed on
``n2`` is ``n2-duty-…``, a call-back's legs and bridge ``n2-cb-…`` and ``n2-bridge-cb-…``. ``nodes.node_of`` then
sends every later request on them (answer, play, bridge, hang-up) to the node the call was placed on, with no table
to keep, also after a controller restart. On the single box the node is ``""`` and the ids are as they always were.
"""

from __future__ import annotations


def on_node(node: str, local: str) -> str:
    """The id ``local`` (as the line names it, ``duty-…``) on ``node``; ``local`` itself on the single box."""
    return f"{node}-{local}" if node else local


def split(channel: str, prefix: str) -> tuple[str, str] | None:
    """``[<node>-]<prefix>…`` -> (its node or "", the id as the line names it); None for any other channel (another
    line's, the room's: a node name has no ``-``, so what follows a call id's first ``-`` is never a line's prefix)."""
    if channel.startswith(prefix):
        return "", channel
    node, _, local = channel.partition("-")
    return (node, local) if node and local.startswith(prefix) else None
