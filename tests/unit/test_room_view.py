"""The supervisor's room view at earthquake volume: the first callers in line, the total and the oldest wait."""

from __future__ import annotations

from datetime import timedelta

from padang112.domain import commands as c
from padang112.domain.room import Room
from padang112.views import WAITING_ROWS, room_view
from tests.unit.test_room import POLICY, REC, T0


def test_four_hundred_waiting_callers_are_ten_rows_a_total_and_the_oldest_wait() -> None:
    room = Room(["seat01"], POLICY, REC)
    for n in range(400):
        room.handle(c.CallArrived(f"c{n}", f"chan-c{n}", f"0812{n:08d}", None, "telkomsel", "112"), T0)
    view = room_view(room, T0 + timedelta(seconds=16))
    assert view["waiting_total"] == 400 and len(view["waiting"]) == WAITING_ROWS
    assert [w["position"] for w in view["waiting"]] == list(range(1, WAITING_ROWS + 1))
    assert view["oldest_wait_s"] == 16
    assert len(room_view(room, T0, waiting_rows=200)["waiting"]) == 200
    assert room_view(Room(["seat01"], POLICY, REC), T0)["oldest_wait_s"] == 0
