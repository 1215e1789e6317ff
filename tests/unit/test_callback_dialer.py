"""The call-back dialer against a recording effect runner (no Asterisk): taking an item pauses the seat at once and
gives it back when refused; an attempt's ARI events drive seat -> caller -> bridge and record -> outcome; after a
restart an attempt still talking on the switch is adopted and anything less is closed cleanly."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from padang112.callbacks.store import CallbackError, CallbackStore
from padang112.domain import commands as c
from padang112.domain.room import Policy, Room
from padang112.domain.seats import SeatState
from padang112.telephony import callback_dialer
from padang112.telephony.callback_dialer import CallbackDialer
from padang112.telephony.dial_policy import DialPolicy
from padang112.telephony.lines import translate
from padang112.telephony.snapshot import PlacedChannel, Snapshot
from tests.unit.conftest import FakeClock


class Desk:
    """Just enough of the controller: its room and its inbox, where nothing else waits here, so ``ask`` and
    ``post`` are decided at once (``posted`` keeps what was posted without waiting for an answer)."""

    def __init__(self) -> None:
        self.room = Room(["seat01"], Policy(), "/tmp")
        self.repo = None
        self.posted: list[c.Command] = []
        self.decide(c.SeatRegistration("seat01", True))

    def decide(self, cmd: c.Command) -> str | None:
        return self.room.handle(cmd, datetime.now(UTC)).refused

    async def ask(self, cmd: c.Command) -> str | None:
        return self.decide(cmd)

    def post(self, cmd: c.Command) -> None:
        self.posted.append(cmd)
        self.decide(cmd)


class NoAri:
    async def perform(self, effect):  # pragma: no cover - must not be reached when refused
        raise AssertionError("nothing may be dialled")

    perform_quietly = perform


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
        desk.decide(c.SeatPause("seat01", "break"))
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


class Recorder:
    """The effect runner's two entry points, recording what the dialer asks for."""

    def __init__(self) -> None:
        self.done: list[object] = []

    async def perform(self, effect) -> None:
        self.done.append(effect)

    perform_quietly = perform


def kinds(effects: list[object]) -> list[str]:
    return [type(e).__name__ for e in effects]


async def _taken(engine, clock):
    store = CallbackStore(engine, clock)
    item = await store.abandoned("c1", "+6281234500009", "xl", 300)
    runner, desk = Recorder(), Desk()
    dialer = CallbackDialer(runner, DialPolicy({}, {"xl"}, always), store, desk, lambda m: None, 300, 30, "/rec")
    await dialer.place(item.id, "rina", "seat01")
    return store, item, runner, desk, dialer


def stasis(kind: str, channel: str, **extra) -> dict:
    return {"type": kind, "channel": {"id": channel}, **extra}


async def feed(line, event: dict) -> None:
    """An ARI event as the controller hands it to a line: translated, then taken (here: at once, in order)."""
    for fact in translate(event):
        await line._on(fact)


async def test_an_attempt_rings_the_seat_then_dials_the_caller_then_bridges_records_and_closes(
    engine, clock: FakeClock
) -> None:
    store, item, runner, desk, dialer = await _taken(engine, clock)
    seat_leg = runner.done[0].channel
    assert kinds(runner.done) == ["Originate"] and runner.done[0].endpoint == "PJSIP/seat01"
    assert desk.room.seats["seat01"].reason == "callback"
    await feed(dialer, stasis("StasisStart", seat_leg))
    caller_leg = runner.done[-1].channel
    assert kinds(runner.done[1:]) == ["Ringing", "Originate"] and caller_leg.startswith(f"cb-{item.id}-caller-")
    assert runner.done[-1].endpoint == "PJSIP/+6281234500009@xl"
    await feed(dialer, stasis("StasisStart", caller_leg))
    assert kinds(runner.done[3:]) == ["Ringing", "Bridge", "StartRecording"]
    assert runner.done[4].channels == (seat_leg, caller_leg) and runner.done[5].name == f"callback-{item.id}-1"
    assert (await store.get(item.id)).state.value == "connected"
    await feed(dialer, stasis("ChannelDestroyed", caller_leg, cause=16))
    await feed(dialer, stasis("ChannelDestroyed", seat_leg))  # the second leg's end changes nothing more
    assert kinds(runner.done[6:]) == ["Hangup", "Hangup", "DestroyBridge"]
    assert (await store.get(item.id)).state.value == "done"
    assert desk.room.seats["seat01"].state is SeatState.AVAILABLE


class NotingStore(CallbackStore):
    """The store, noting in a trail shared with the desk when an attempt's outcome is committed; ``hold`` (if
    given) keeps that write waiting, as a database that does not answer."""

    def __init__(self, engine, clock, trail: list[str], hold: asyncio.Event | None = None) -> None:
        super().__init__(engine, clock)
        self.trail, self.hold = trail, hold

    async def attempt_ended(self, callback_id: int, outcome: str):
        if self.hold is not None:
            await self.hold.wait()
        item = await super().attempt_ended(callback_id, outcome)
        self.trail.append(f"item {item.state.value}")
        return item


class NotingDesk(Desk):
    def __init__(self, trail: list[str]) -> None:
        super().__init__()
        self.trail = trail

    def post(self, cmd: c.Command) -> None:
        self.trail.append(f"seat {type(cmd).__name__}")
        super().post(cmd)


async def _connected(store: CallbackStore, desk: Desk) -> tuple[CallbackDialer, Recorder, str, str]:
    """An attempt of ``store``'s first item, its two legs up and bridged: the dialer, its runner and the legs."""
    item = await store.abandoned("c1", "+6281234500009", "xl", 300)
    runner = Recorder()
    dialer = CallbackDialer(runner, DialPolicy({}, {"xl"}, always), store, desk, lambda m: None, 300, 30, "/rec")
    await dialer.place(item.id, "rina", "seat01")
    seat_leg = runner.done[0].channel
    await feed(dialer, stasis("StasisStart", seat_leg))
    caller_leg = runner.done[-1].channel
    await feed(dialer, stasis("StasisStart", caller_leg))
    return dialer, runner, seat_leg, caller_leg


@pytest.mark.parametrize("ended", ["caller", "seat"])
async def test_an_ended_call_back_is_finished_on_the_list_before_its_seat_is_given_back(
    engine, clock: FakeClock, ended: str
) -> None:
    """A supervisor never sees the seat free (``Siap``) while its call-back is still ``Tersambung``: the item's
    outcome is committed first (the live restart test read the item in between, 10-60 ms under load)."""
    trail: list[str] = []
    dialer, runner, seat_leg, caller_leg = await _connected(NotingStore(engine, clock, trail), NotingDesk(trail))
    trail.clear()
    await feed(dialer, stasis("ChannelDestroyed", caller_leg if ended == "caller" else seat_leg, cause=16))
    assert trail == ["item done", "seat SeatReady"]


async def test_a_database_slow_to_take_the_outcome_keeps_the_seat_out_of_the_queue_only_so_long(
    engine, clock: FakeClock, monkeypatch
) -> None:
    monkeypatch.setattr(callback_dialer, "SEAT_BACK_WITHIN_S", 0.05)
    trail: list[str] = []
    hold = asyncio.Event()
    store = NotingStore(engine, clock, trail, hold)
    hold.set()  # the attempt is made normally
    desk = NotingDesk(trail)
    dialer, runner, seat_leg, caller_leg = await _connected(store, desk)
    hold.clear()  # then the database stops answering
    trail.clear()
    closing = asyncio.create_task(feed(dialer, stasis("ChannelDestroyed", caller_leg, cause=16)))
    await asyncio.sleep(0.2)
    assert trail == ["seat SeatReady"] and desk.room.seats["seat01"].state is SeatState.AVAILABLE
    hold.set()  # it answers again: the outcome is stored after all
    await closing
    assert trail == ["seat SeatReady", "item done"]


async def test_a_busy_caller_puts_the_item_back_with_its_outcome(engine, clock: FakeClock) -> None:
    store, item, runner, desk, dialer = await _taken(engine, clock)
    seat_leg = runner.done[0].channel
    await feed(dialer, stasis("StasisStart", seat_leg))
    await feed(dialer, stasis("ChannelDestroyed", runner.done[-1].channel, cause=17))
    stored = await store.get(item.id)
    assert (stored.state.value, stored.last_outcome) == ("open", "busy")
    assert desk.room.seats["seat01"].state is SeatState.AVAILABLE


def snapshot(*channels: tuple[str, bool, str | None], bridges: tuple[str, ...] = ()) -> Snapshot:
    return Snapshot(placed=tuple(PlacedChannel(*ch) for ch in channels), bridges=bridges)


async def test_after_a_restart_a_call_back_still_talking_is_adopted_and_ends_normally(engine, clock: FakeClock) -> None:
    store, item, runner, desk, dialer = await _taken(engine, clock)
    await store.connected(item.id, "/rec/callback-1-1.wav")
    fresh = CallbackDialer(Recorder(), DialPolicy({}, {"xl"}, always), store, desk, lambda m: None, 300, 30, "/rec")
    legs = f"cb-{item.id}-seat-ab1", f"cb-{item.id}-caller-ab1"
    bridge = f"bridge-cb-{item.id}-ab1"
    await fresh._reconcile(snapshot((legs[0], True, bridge), (legs[1], True, bridge), bridges=(bridge,)), {})
    assert fresh.runner.done == [] and desk.posted == []  # nothing touched: the two talk on
    assert desk.room.seats["seat01"].reason == "callback"  # the seat stays out of the queue (the room kept it)
    await feed(fresh, stasis("StasisEnd", legs[0]))
    assert kinds(fresh.runner.done) == ["Hangup", "Hangup", "DestroyBridge"]
    assert (await store.get(item.id)).state.value == "done"


async def test_after_a_restart_a_half_made_call_back_is_closed_and_the_seat_given_back(
    engine, clock: FakeClock
) -> None:
    store, item, runner, desk, dialer = await _taken(engine, clock)
    fresh = CallbackDialer(Recorder(), DialPolicy({}, {"xl"}, always), store, desk, lambda m: None, 300, 30, "/rec")
    seat_leg, stray = f"cb-{item.id}-seat-ab1", "bridge-cb-77-zz9"
    await fresh._reconcile(
        snapshot((seat_leg, True, None), ("some-other", True, None), bridges=(stray,)), {"seat01": "callback"}
    )
    assert [(type(e).__name__, getattr(e, "channel", getattr(e, "bridge", None))) for e in fresh.runner.done] == [
        ("Hangup", seat_leg),
        ("DestroyBridge", f"bridge-cb-{item.id}-ab1"),
        ("DestroyBridge", stray),
    ]
    stored = await store.get(item.id)
    assert (stored.state.value, stored.last_outcome) == ("open", "failed")
    assert desk.posted == [c.SeatReady("seat01")]


async def test_a_call_back_ended_between_the_snapshot_and_the_reconcile_is_not_adopted(
    engine, clock: FakeClock
) -> None:
    """The caller hangs up while the restarted controller reconciles: the end of the leg reaches the line before its
    reconcile, whose snapshot still shows the two legs talking. Adopted, the call-back would stay ``connected`` and
    its seat paused for good (nothing more is reported of a leg already gone)."""
    store, item, runner, desk, dialer = await _taken(engine, clock)
    await store.connected(item.id, "/rec/callback-1-1.wav")
    fresh = CallbackDialer(Recorder(), DialPolicy({}, {"xl"}, always), store, desk, lambda m: None, 300, 30, "/rec")
    legs = f"cb-{item.id}-seat-ab1", f"cb-{item.id}-caller-ab1"
    bridge = f"bridge-cb-{item.id}-ab1"
    await feed(fresh, stasis("ChannelDestroyed", legs[1], cause=16))  # before the reconcile: no attempt yet
    await fresh._reconcile(
        snapshot((legs[0], True, bridge), (legs[1], True, bridge), bridges=(bridge,)), {"seat01": "callback"}
    )
    assert [(type(e).__name__, getattr(e, "channel", getattr(e, "bridge", None))) for e in fresh.runner.done] == [
        ("Hangup", legs[0]),
        ("DestroyBridge", bridge),
    ]
    assert (await store.get(item.id)).state.value == "done"  # the caller was reached
    assert desk.room.seats["seat01"].state is SeatState.AVAILABLE


class FailingStore(CallbackStore):
    async def active(self):
        raise OSError("database unreachable")


async def test_a_reconcile_that_fails_gives_the_call_back_seats_back(engine, clock: FakeClock) -> None:
    """The room keeps a seat paused ``callback`` across a restart for the call-back line to decide; a line that
    cannot (its list unreadable) gives it back rather than leave it out of the queue."""
    desk = Desk()
    desk.decide(c.SeatReserve("seat01", "callback"))
    store = FailingStore(engine, clock)
    fresh = CallbackDialer(Recorder(), DialPolicy({}, {"xl"}, always), store, desk, lambda m: None, 300, 30, "/rec")
    with pytest.raises(OSError):
        await fresh._reconcile(snapshot(), {"seat01": "callback"})
    assert desk.posted == [c.SeatReady("seat01")] and desk.room.seats["seat01"].state is SeatState.AVAILABLE
