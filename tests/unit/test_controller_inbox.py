"""One order of decisions: console requests wait in the controller's one inbox with the ARI events (no Asterisk).

A real :class:`Controller` runs its room loop; the ARI events are a recorded Asterisk 22 inbound call
(``tests/fixtures/ari/inbound_call.jsonl``) handed to the listener's callback, the console's requests go through the
desk, and the effect runner is replaced by a recorder. Whichever came first is decided first, whoever sent it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112 import config
from padang112.callbacks.store import CallbackError
from padang112.cluster.fence import Suspended
from padang112.controller import STOPPING, SUSPENDED, Controller
from padang112.desk import Accepted, Desk, Refused
from padang112.domain import commands as c
from padang112.domain import effects as fx
from padang112.domain.events import CallAnnotated, CallTransition, DomainEvent, SeatTransition
from padang112.storage.repository import EventWriter, Repository
from tests.unit.conftest import NoCallbacks
from tests.unit.test_ari_transcripts import replay

CALL = "1796235370.23"
SEAT = "seat06"


class Runner:
    """The effect runner's entry point, recording (nothing reaches a switch)."""

    def __init__(self) -> None:
        self.effects: list[fx.Effect] = []

    def submit(self, effect: fx.Effect) -> None:
        self.effects.append(effect)


@pytest.fixture
async def room(
    settings: config.Settings, engine: AsyncEngine, writer: EventWriter
) -> AsyncIterator[tuple[Controller, Desk, list[DomainEvent]]]:
    """A controller with its room loop running and seat06 ready for rina; the events it publishes."""
    controller = Controller(settings, writer, Repository(engine))
    controller.runner = Runner()  # type: ignore[assignment]
    published: list[DomainEvent] = []
    loop = asyncio.create_task(controller._room_loop())
    desk = Desk(controller, NoCallbacks())
    desk.subscribe(published.append)
    controller.post(c.SeatRegistration(SEAT, True))
    assert await desk.do(c.SeatSignIn(SEAT, "rina")) == Accepted()
    assert desk.signed_in() == 1 and desk.seat_of("rina") == SEAT
    published.clear()
    yield controller, desk, published
    loop.cancel()
    await asyncio.gather(loop, return_exceptions=True)


def arrival() -> list[dict[str, Any]]:
    """The recorded inbound call up to its StasisStart (the moment the room hears of it)."""
    events = replay("inbound_call", {CALL: ["inbound", "telkomsel", "112"]})
    end = next(i for i, e in enumerate(events) if e["type"] == "StasisStart")
    return events[: end + 1]


def story(events: list[DomainEvent]) -> list[str]:
    out = []
    for e in events:
        if isinstance(e, CallTransition):
            out.append(f"call {e.from_state}->{e.to_state}")
        elif isinstance(e, SeatTransition):
            out.append(f"seat {e.from_state}->{e.to_state}" + (f" [{e.reason}]" if e.reason else ""))
    return out


async def test_a_pause_asked_after_the_caller_arrived_is_decided_after_the_offer(room) -> None:
    controller, desk, published = room
    for event in arrival():
        controller._on_ari_event(event)  # the listener's callback: queued, not decided yet
    pause = asyncio.ensure_future(desk.do(c.SeatPause(SEAT, "break")))  # behind the caller in the one inbox
    assert await pause == Accepted()
    assert story(published) == [
        "call None->received",
        "call received->queued",
        "call queued->offered",  # the caller came first: offered to the ready seat
        "seat available->offered",
        "seat offered->paused [break]",  # then the pause: the offer is taken back,
        "call offered->queued",  # and the caller waits for the next seat
    ]
    assert [type(e).__name__ for e in controller.runner.effects].count("RingSeat") == 1  # type: ignore[attr-defined]


async def test_a_pause_asked_before_the_caller_arrived_is_decided_first_and_the_seat_is_never_rung(room) -> None:
    controller, desk, published = room
    pause = asyncio.ensure_future(desk.do(c.SeatPause(SEAT, "break")))
    await asyncio.sleep(0)  # the request enters the inbox before the switch's events
    for event in arrival():
        controller._on_ari_event(event)
    assert await pause == Accepted()
    answered = asyncio.ensure_future(desk.do(c.SeatReady(SEAT)))  # queued behind the caller: decided after it
    assert await answered == Accepted()
    assert story(published) == [
        "seat available->paused [break]",
        "call None->received",
        "call received->queued",  # no seat ready: the caller waits
        "seat paused->available",
        "call queued->offered",
        "seat available->offered",
    ]


async def test_the_rooms_refusal_reaches_the_console_and_a_stopped_controller_refuses(room) -> None:
    controller, desk, published = room
    for event in arrival():
        controller._on_ari_event(event)
    assert await desk.do(c.SeatSignIn("seat99", "rina")) == Refused("no_seat")  # decided after the caller arrived
    leg = next(e.leg for e in controller.runner.effects if isinstance(e, fx.RingSeat))  # type: ignore[attr-defined]
    controller._on_ari_event(
        {"type": "StasisStart", "application": "padang112", "args": ["seat", CALL, SEAT], "channel": {"id": leg}}
    )
    assert await desk.do(c.SeatPause(SEAT, "break")) == Refused("busy")  # decided after the seat answered
    disposition = CallAnnotated(CALL, datetime.now(UTC), "disposition", "rina", {"disposition": "prank"})
    assert await desk.dispose(disposition, "+6281400000002", prank=True) == Accepted()
    assert published[-1] == disposition and desk.pranks.score("+6281400000002", datetime.now(UTC)) > 0
    controller._closed = True  # as after stop(): nothing would ever take the request
    assert await desk.do(c.SeatReady(SEAT)) == Refused(STOPPING)


async def test_a_call_back_is_taken_through_the_desk_from_the_call_takers_own_seat(room) -> None:
    _, desk, _ = room
    with pytest.raises(CallbackError) as refused:
        await desk.call_back(7, "budi")  # signed in to no seat
    assert refused.value.code == "not_signed_in"
    with pytest.raises(CallbackError) as unknown:
        await desk.call_back(7, "rina")  # seat06's call taker: the line is asked (here: it knows no item 7)
    assert unknown.value.code == "no_callback"


class SwitchedFence:
    """A lease that lapses and comes back (the database away, then back: ``cluster/leadership.py``)."""

    application_name = "padang112-leader-1"

    def __init__(self) -> None:
        self.ok = True

    def valid(self) -> bool:
        return self.ok

    def check(self) -> None:
        if not self.ok:
            raise Suspended("not acting now: test")

    async def check_stored(self, session: Any) -> None:
        self.check()


async def test_a_suspended_controller_decides_nothing_and_takes_the_reconcile_first_when_it_may_act_again(
    settings: config.Settings, engine: AsyncEngine, writer: EventWriter
) -> None:
    fence = SwitchedFence()
    controller = Controller(settings, writer, Repository(engine), fence)
    controller.runner = Runner()  # type: ignore[assignment]
    published: list[DomainEvent] = []
    loop = asyncio.create_task(controller._room_loop())
    desk = Desk(controller, NoCallbacks())
    desk.subscribe(published.append)
    try:
        controller.post(c.SeatRegistration(SEAT, True))
        assert await desk.do(c.SeatSignIn(SEAT, "rina")) == Accepted()
        published.clear()

        fence.ok = False  # the lease lapsed: the database is away
        for event in arrival():
            controller._on_ari_event(event)  # a caller arrives on the link about to be dropped
        controller.post(c.SeatPause(SEAT, "break"))  # a command already on its way (a timer, a line)
        assert await desk.do(c.SeatReady(SEAT)) == Refused(SUSPENDED)  # the console is told at once
        await asyncio.sleep(0.05)
        assert published == [], "a suspended controller decided something"

        fence.ok = True  # the lease resumed; the reconnection's reconcile: the caller is gone from the switch
        controller.post(c.Reconcile((), registered=(SEAT,)))
        await asyncio.sleep(0.05)
    finally:
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)
    assert story(published) == ["seat available->paused [break]"], story(published)  # the held command, after it
    assert controller.reconciled and not any(isinstance(e, CallTransition) for e in published)
