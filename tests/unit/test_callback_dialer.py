"""Taking a callback item: the seat is paused at once and given back when the call-back is refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from padang112.callbacks.store import CallbackError, CallbackStore
from padang112.domain import commands as c
from padang112.domain.room import Policy, Room
from padang112.domain.seats import SeatState
from padang112.telephony.callback_dialer import CallbackDialer
from padang112.telephony.dial_policy import DialPolicy
from tests.unit.conftest import FakeClock


class Desk:
    """Just enough of the controller: its room, applied at once."""

    def __init__(self) -> None:
        self.room = Room(["seat01"], Policy(), "/tmp")
        self.repo = None
        self.command(c.SeatRegistration("seat01", True))

    def command(self, cmd: c.Command) -> None:
        self.room.handle(cmd, datetime.now(UTC))


class NoAri:
    app = "padang112"

    async def post(self, *args, **kwargs):  # pragma: no cover - must not be reached when refused
        raise AssertionError("nothing may be dialled")


async def never(number: str, carrier: str) -> bool:
    return False


async def test_a_refused_call_back_dials_nothing_and_gives_the_seat_back(engine, clock: FakeClock) -> None:
    store = CallbackStore(engine, clock)
    item = await store.abandoned("c1", "+6281234500009", "xl", 300)
    desk = Desk()
    dialer = CallbackDialer(NoAri(), DialPolicy({}, {"xl"}, never), store, desk, lambda m: None, 300, 30, "/tmp")
    with pytest.raises(CallbackError) as refused:
        await dialer.place(item.id, "rina", "seat01")
    assert refused.value.code == "never_called"
    assert desk.room.seats["seat01"].state is SeatState.AVAILABLE
    assert (await store.get(item.id)).state.value == "open"  # not taken: still on the list
    with pytest.raises(CallbackError) as busy:
        desk.command(c.SeatPause("seat01", "break"))
        await dialer.place(item.id, "rina", "seat01")
    assert busy.value.code == "seat_not_ready"
