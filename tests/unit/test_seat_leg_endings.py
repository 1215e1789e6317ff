"""A seat leg's end, in every order Asterisk delivers its events: the translator and the room, no Asterisk run.

Asterisk publishes a seat leg's events from two threads. The SIP thread that takes the phone's answer queues it to
the channel and, when the BYE follows at once, publishes ``ChannelHangupRequest`` with the channel as it is at that
moment; the channel's own thread reads the answer (``ChannelStateChange`` "Up"), sends ``StasisStart`` and, once it
leaves the application, ``StasisEnd``, then ``ChannelDestroyed``. So a phone that answers and hangs up at once
("dropped") can have its hang-up request before or after its answer: under load in CI it came first, the leg still
"Ringing" and with no cause, and the drop was classed ``unknown``. The channel's events also come twice when its
endpoint is subscribed too. Whatever the order, the room must tell the same story of the same phone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from padang112.domain import effects as fx
from padang112.domain.naming import parse_leg
from padang112.telephony.stasis import StasisTranslator
from tests.unit.test_room import Desk, call_moves, desk, failures, of

RECORDED_RACE = Path(__file__).resolve().parent.parent / "fixtures" / "ari" / "seat_drop_race.jsonl"


def ev(kind: str, state: str, cause: int | None = None) -> tuple[str, str, int | None]:
    return (kind, state, cause)


RINGING = ev("ChannelStateChange", "Ringing")
UP = ev("ChannelStateChange", "Up")
START = ev("StasisStart", "Up")
END = ev("StasisEnd", "Up")
REQUEST_RINGING = ev("ChannelHangupRequest", "Ringing")  # a BYE taken before the answer was read: no cause
REQUEST_UP = ev("ChannelHangupRequest", "Up")
DESTROYED_UP = ev("ChannelDestroyed", "Up", 0)  # as recorded: a dropped leg's destruction carries cause 0

DROPPED = ["offered->connected", "connected->queued", "queued->offered"]  # put back first in line, next seat
REFUSED = ["offered->queued", "queued->offered"]


def twice(*events: tuple[str, str, int | None]) -> list[tuple[str, str, int | None]]:
    """The channel's events as the application gets them with its seats' endpoints subscribed too: each one twice
    (Stasis' own messages once)."""
    return [e for event in events for e in ([event] if event[0].startswith("Stasis") else [event, event])]


ORDERS: dict[str, tuple[list[tuple[str, str, int | None]], str, int | None, list[str]]] = {
    # name: (the leg's events, the failure's kind and cause, the call's moves)
    "answer, StasisStart, then the BYE (calm machine)": (
        [RINGING, UP, START, REQUEST_UP, END, DESTROYED_UP],
        "dropped",
        None,
        DROPPED,
    ),
    "the BYE's hang-up request before the answer was read (CI under load)": (
        [RINGING, REQUEST_RINGING, UP, START, END, DESTROYED_UP],
        "dropped",
        None,
        DROPPED,
    ),
    "the hang-up request between the answer and StasisStart": (
        [RINGING, UP, REQUEST_UP, START, END, DESTROYED_UP],
        "dropped",
        None,
        DROPPED,
    ),
    "destroyed before StasisEnd": (
        [RINGING, UP, START, REQUEST_UP, DESTROYED_UP, END],
        "dropped",
        None,
        DROPPED,
    ),
    "each channel event twice, the hang-up request first": (
        twice(RINGING, REQUEST_RINGING, UP, START, END, DESTROYED_UP),
        "dropped",
        None,
        DROPPED,
    ),
    "answered, but gone before it entered the application": (
        [RINGING, REQUEST_RINGING, UP, DESTROYED_UP],
        "dropped",
        None,
        REFUSED,  # never bridged: straight back to the head of the line
    ),
    "486 Busy Here, twice over": (
        twice(ev("ChannelHangupRequest", "Down", 17), ev("ChannelDestroyed", "Down", 17)),
        "busy",
        17,
        REFUSED,
    ),
    "603 Decline, the cause only on the destruction": (
        [RINGING, REQUEST_RINGING, ev("ChannelDestroyed", "Ringing", 21)],
        "rejected",
        21,
        REFUSED,
    ),
    "ended unanswered and the switch gives no cause": (
        [RINGING, REQUEST_RINGING, ev("ChannelDestroyed", "Ringing", 0)],
        "unknown",
        None,
        REFUSED,
    ),
}


def leg_event(leg: str, call_id: str, seat: str, event: tuple[str, str, int | None]) -> dict[str, Any]:
    kind, state, cause = event
    message: dict[str, Any] = {"type": kind, "channel": {"id": leg, "state": state}}
    if kind == "StasisStart":
        message["args"] = ["seat", call_id, seat]
    if cause is not None:
        message["cause"] = cause
    return message


def play(d: Desk, events: list[dict[str, Any]]) -> list:
    """Each ARI event through the translator, each command into the room, in order: the decisions."""
    translator = StasisTranslator("padang112", set(d.room.seats), set().__contains__, {}.get)
    return [d.do(command, after_s=0.01) for event in events for command in translator.translate(event)]


@pytest.mark.parametrize(("events", "kind", "cause", "moves"), list(ORDERS.values()), ids=list(ORDERS))
def test_a_seat_legs_end_tells_the_same_story_in_every_order_asterisk_delivers_it(events, kind, cause, moves):
    d = desk("seat01", "seat02")
    d.arrive("c1")
    leg = d.leg("c1")
    decisions = play(d, [leg_event(leg, "c1", "seat01", e) for e in events])
    failed = [f for out in decisions for f in failures(out)]
    assert [(f.seat, f.kind, f.cause, f.failures, f.paused) for f in failed] == [("seat01", kind, cause, 1, False)]
    assert [f"{a}->{b}" for out in decisions for a, b in call_moves(out, "c1")] == moves
    assert d.call("c1").seat == "seat02" and d.seat("seat01").resting  # the next seat rings, this one rests
    assert not [h for out in decisions for h in of(out, fx.Hangup) if h.reason == "stale_offer"]


def test_the_recorded_race_a_drop_whose_hang_up_request_came_before_its_answer_is_a_drop():
    """The dropping phone of ``tests/chaos/test_seat_phone_faults.py`` as the controller's own application got it
    (so with ``StasisStart``/``StasisEnd``, the channel's events twice) on a loaded machine: the hang-up request
    "Ringing" with no cause, then "Up", ``StasisStart``, ``StasisEnd``, ``ChannelDestroyed`` with cause 0."""
    lines = RECORDED_RACE.read_text().splitlines()
    recorded_leg = json.loads(lines[0])["channel"]["id"]
    call_id, seat = parse_leg(recorded_leg) or ("", "")
    d = desk(seat, "seat03")
    d.arrive(call_id)
    events = [json.loads(line.replace(recorded_leg, d.leg(call_id))) for line in lines]
    order = [(e["type"], e["channel"]["state"]) for e in events if e["type"] != "ChannelVarset"]
    assert order.index(("ChannelHangupRequest", "Ringing")) < order.index(("ChannelStateChange", "Up"))
    decisions = play(d, events)
    assert [(f.seat, f.kind) for out in decisions for f in failures(out)] == [(seat, "dropped")]
    assert [f"{a}->{b}" for out in decisions for a, b in call_moves(out, call_id)] == DROPPED
