"""What every node says of the seats' phones, merged into what the room decides on (several nodes).

Each node qualifies each seat's phone by itself (its static contact through the edge) and reports its own device
states. A seat's phone is online when some node reaches it; a seat leg is placed on its caller's node, so the room
also learns which nodes do not reach it (``Seat.unreachable``) and gives it no caller of theirs: a node that has not
qualified the phone yet would refuse the leg ("Allocation failed"), and a node cut off from the edge must not keep
the other nodes' callers from the seats. A device is in use when it is in use on any node (a fallback-queue call
there). A lost node's view is forgotten. With one node all of it is that node's word, as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class SeatView:
    online: bool  # some node reaches the phone
    unreachable: frozenset[str]  # nodes that do not
    in_use: bool  # its device is in use on some node


class SeatViews:
    def __init__(self) -> None:
        self._reached: dict[str, set[str]] = {}  # node -> seats it reaches
        self._in_use: dict[str, set[str]] = {}  # node -> seats whose device it reports in use

    def reached(self, node: str, seat: str, registered: bool) -> SeatView:
        """``node`` reports the seat's phone reachable or not."""
        _mark(self._reached.setdefault(node, set()), seat, registered)
        return self.view(seat)

    def in_use(self, node: str, seat: str, used: bool) -> SeatView:
        _mark(self._in_use.setdefault(node, set()), seat, used)
        return self.view(seat)

    def rebuilt(self, node: str, registered: Iterable[str], in_use: Iterable[str]) -> None:
        """``node``'s snapshot (its reconcile) replaces what it said before."""
        self._reached[node], self._in_use[node] = set(registered), set(in_use)

    def forget(self, node: str) -> None:
        """The node is lost: its word no longer counts."""
        self._reached.pop(node, None)
        self._in_use.pop(node, None)

    def view(self, seat: str) -> SeatView:
        away = frozenset(node for node, seats in self._reached.items() if seat not in seats)
        return SeatView(len(away) < len(self._reached), away, any(seat in seats for seats in self._in_use.values()))


def _mark(seats: set[str], seat: str, on: bool) -> None:
    if on:
        seats.add(seat)
    else:
        seats.discard(seat)
