"""Taking a callback item: the seat is paused at once and given back when the call-back is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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


async def always(number: str, carrier: str) -> bool:
    return True


async def test_an_international_number_is_refused_and_the_refusal_is_on_the_items_trail(
    engine, clock: FakeClock
) -> None:
    store = CallbackStore(engine, clock)
    item = await store.abandoned("c2", "+8821234567", "telkomsel", 300)
    published: list[dict] = []
    policy = DialPolicy({}, {"telkomsel"}, always)
    dialer = CallbackDialer(NoAri(), policy, store, Desk(), published.append, 300, 30, "/tmp")
    with pytest.raises(CallbackError) as refused:
        await dialer.place(item.id, "rina", "seat01")
    assert refused.value.code == "international_number"
    trail = await store.events(item.id)
    assert [(e["kind"], e["by"], e["data"]) for e in trail][-1] == (
        "refused",
        "rina",
        {"seat": "seat01", "reason": "international_number"},
    )
    assert published[-1]["callback"]["last_outcome"] == "refused"
    assert published[-1]["callback"]["refusal"] == "international_number"


async def test_the_daily_cap_counts_attempts_to_the_number_across_its_items(engine, clock: FakeClock) -> None:
    store = CallbackStore(engine, clock)
    number = "+6281234500010"
    for n in range(3):  # three attempts, each on a new item (the number abandoned, was matched, abandoned again)
        item = await store.abandoned(f"c{n}", number, "xl", 300)
        await store.take(item.id, "rina", "seat01")
        await store.attempt_ended(item.id, "no_answer")
        await store.arrived(f"m{n}", number)
        await store.answered(f"m{n}")
    dialer = CallbackDialer(NoAri(), DialPolicy({}, {"xl"}, always), store, Desk(), lambda m: None, 300, 30, "/tmp")
    item = await store.abandoned("c9", number, "xl", 300)
    with pytest.raises(CallbackError) as capped:
        await dialer.place(item.id, "rina", "seat01")
    assert capped.value.code == "daily_cap"
    assert await store.attempts_within(number, timedelta(hours=24)) == 3
    clock.advance(hours=24, seconds=1)  # a day later the number may be called back again
    assert await store.attempts_within(number, timedelta(hours=24)) == 0
