"""What every node says of the seats' phones, merged into the one view the room decides on (several nodes).

Each node qualifies each seat's phone by itself (its static contact through the edge) and reports its own device
states. A seat leg is placed on its caller's node, so a seat is reachable for the room only when every node the
controller holds reaches it (a node that has not qualified it yet would refuse the leg: "Allocation failed"), and
its device is in use when it is in use on any node (a fallback-queue call there). A lost node's view is forgotten:
what it said no longer holds a seat back. With one node the merged view is that node's, as before.
"""

from __future__ import annotations

from collections.abc import Iterable


class SeatViews:
    def __init__(self) -> None:
        self._reached: dict[str, set[str]] = {}  # node -> seats it reaches
        self._in_use: dict[str, set[str]] = {}  # node -> seats whose device it reports in use

    def reached(self, node: str, seat: str, registered: bool) -> bool:
        """``node`` reports the seat reachable or not: whether the room may count it reachable."""
        _mark(self._reached.setdefault(node, set()), seat, registered)
        return self.reachable(seat)

    def in_use(self, node: str, seat: str, used: bool) -> bool:
        _mark(self._in_use.setdefault(node, set()), seat, used)
        return any(seat in seats for seats in self._in_use.values())

    def rebuilt(self, node: str, registered: Iterable[str], in_use: Iterable[str]) -> tuple[tuple[str, ...], ...]:
        """``node``'s snapshot (a reconcile): the seats reachable and in use over every node, sorted."""
        self._reached[node], self._in_use[node] = set(registered), set(in_use)
        reachable = set.intersection(*self._reached.values())
        used = set.union(*self._in_use.values())
        return tuple(sorted(reachable)), tuple(sorted(used))

    def reachable(self, seat: str) -> bool:
        return bool(self._reached) and all(seat in seats for seats in self._reached.values())

    def forget(self, node: str, seats: Iterable[str]) -> list[tuple[str, bool, bool]]:
        """The node is lost: (seat, reachable, in use) for each of ``seats`` as the other nodes see them."""
        self._reached.pop(node, None)
        self._in_use.pop(node, None)
        return [(s, self.reachable(s), any(s in used for used in self._in_use.values())) for s in seats]


def _mark(seats: set[str], seat: str, on: bool) -> None:
    if on:
        seats.add(seat)
    else:
        seats.discard(seat)
