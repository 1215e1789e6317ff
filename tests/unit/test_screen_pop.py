"""The screen-pop travels with the ``offered`` event: the caller's earlier calls and prank score come from the
controller's memory (no query), and the stored event gives the call taker the same screen the live one did."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from padang112.accounts.users import UserRecord
from padang112.desk import Refused
from padang112.domain import commands as c
from padang112.domain.caller_history import SHOWN, CallerHistory, EarlierCall
from padang112.domain.events import CallAnnotated, CallTransition, DomainEvent
from padang112.domain.prank import PrankScores
from padang112.storage.repository import Repository
from padang112.web.live import Client, Hub
from tests.unit.test_controller_inbox import CALL, SEAT, arrival, room  # noqa: F401 (fixture)

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
NUMBER = "+6281400000002"


def received(call_id: str, minutes_ago: float, number: str = NUMBER) -> CallTransition:
    at = NOW - timedelta(minutes=minutes_ago)
    return CallTransition(call_id, at, None, "received", data={"caller_number": number, "carrier": "xl"})


def moved(call_id: str, to: str, seat: str | None = None, **data: str) -> CallTransition:
    return CallTransition(call_id, NOW, "x", to, seat=seat, data=dict(data))


def follow(events: list[DomainEvent]) -> CallerHistory:
    history = CallerHistory()
    for event in events:
        history.observe(event)
    return history


def test_the_profile_lists_the_numbers_other_calls_newest_first_as_their_rows_say() -> None:
    history = follow(
        [
            received("a", 120),
            moved("a", "offered", "seat01"),
            moved("a", "ended"),
            CallAnnotated("a", NOW, "disposition", "rina", {"disposition": "emergency"}),
            received("b", 60),
            moved("b", "abandoned", disposition="abandoned"),
            received("other", 30, number="+6281399999999"),
            received("now", 0),
        ]
    )
    profile = history.profile(NUMBER, "now", NOW, PrankScores())
    assert [(e.id, e.state, e.disposition, e.seat) for e in profile.earlier] == [
        ("b", "abandoned", "abandoned", None),
        ("a", "ended", "emergency", "seat01"),
    ]
    assert (profile.prank_count, profile.prank_score, profile.prank_cleared_at) == (0, 0.0, None)


def test_prank_calls_count_since_the_last_clearance_and_old_calls_are_gone() -> None:
    pranks = PrankScores()
    history = CallerHistory()
    history.load(
        [
            EarlierCall("old", NUMBER, NOW - timedelta(days=31), "ended", "prank"),  # outside the 30 days
            EarlierCall("p1", NUMBER, NOW - timedelta(days=3), "ended", "prank"),  # before the clearance
            EarlierCall("p2", NUMBER, NOW - timedelta(hours=2), "ended", "silent"),
        ]
    )
    pranks.clear(NUMBER, NOW - timedelta(days=1))
    pranks.mark(NUMBER, NOW - timedelta(hours=2), "p2")
    profile = history.profile(NUMBER, "now", NOW, pranks)
    assert [e.id for e in profile.earlier] == ["p2", "p1"]
    assert profile.prank_count == 1 and profile.prank_score > 0.9
    assert profile.prank_cleared_at == NOW - timedelta(days=1)
    history.observe(received("new", 0))  # a new call prunes what left the window
    assert "old" not in {e.id for e in history.profile(NUMBER, "x", NOW + timedelta(days=40), pranks).earlier}


def test_the_pop_shows_twenty_calls_but_counts_every_prank() -> None:
    history = CallerHistory()
    history.load(EarlierCall(f"k{i}", NUMBER, NOW - timedelta(hours=i + 1), "ended", "prank") for i in range(25))
    profile = history.profile(NUMBER, "now", NOW, PrankScores())
    assert len(profile.earlier) == SHOWN and profile.prank_count == 25 and profile.earlier[0].id == "k0"


def test_an_imported_call_without_a_number_joins_its_number_once_one_is_known() -> None:
    history = follow(
        [
            CallTransition("f", NOW - timedelta(minutes=5), None, "received", data={"via": "fallback"}),
            moved("f", "abandoned", caller_number=NUMBER),
        ]
    )
    assert [e.id for e in history.profile(NUMBER, "now", NOW, PrankScores()).earlier] == ["f"]


async def test_the_offer_carries_the_pop_the_call_taker_gets_and_the_stored_event_replays_it(room, engine) -> None:
    controller, desk, published = room
    for event in (received("earlier-1", 90), moved("earlier-1", "ended", disposition="prank")):
        controller.history.observe(event)  # an earlier call from the number, marked as a prank
    controller.pranks.mark(NUMBER, datetime.now(UTC) - timedelta(minutes=80), "earlier-1")
    hub = Hub(desk)
    rina = Client(UserRecord(1, "rina", "Rina", "call_taker", None, False, 0, NOW, NOW))
    hub.clients.add(rina)
    for event in arrival():
        controller._on_ari_event(event)
    assert await desk.do(c.SeatSignIn("seat99", "rina")) == Refused("no_seat")  # decided after the caller arrived
    offer = next(e for e in published if isinstance(e, CallTransition) and e.to_state == "offered")
    pop = offer.data["screen_pop"]
    assert pop["call"]["id"] == CALL and pop["call"]["caller_number"] == NUMBER
    assert (pop["call"]["carrier"], pop["call"]["state"], pop["call"]["seat"]) == ("telkomsel", "offered", SEAT)
    assert [e["id"] for e in pop["history"]["calls"]] == ["earlier-1"]
    assert pop["history"]["prank_count"] == 1 and pop["history"]["prank_score"] > 0.9
    sent = []
    while not rina.queue.empty():
        sent.append(rina.queue.get_nowait())
    assert [m for m in sent if m["type"] == "screen_pop"] == [{"type": "screen_pop", **pop}]  # the offer's own data
    await asyncio.gather(*controller._writes)  # each returns once its events are committed
    stored = [e for e in await Repository(engine).call_events(CALL) if e.to_state == "offered"]
    assert [e.data["screen_pop"] for e in stored] == [pop]  # the stored event replays the same screen
    await hub.close()
