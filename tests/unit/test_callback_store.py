"""Callback list storage: one open item per number, one taker, outcomes, repeat calls."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112.callbacks.store import CallbackError, CallbackStore
from padang112.domain.callbacks import CallbackState, callable_number, outcome_of_cause
from padang112.storage.paging import Window
from tests.unit.conftest import FakeClock

pytestmark = pytest.mark.engines("sqlite", "postgresql")  # the storage contract, on both engines

NUMBER = "+6281234500001"


@pytest.fixture
def store(engine: AsyncEngine, clock: FakeClock) -> CallbackStore:
    return CallbackStore(engine, clock)


async def test_an_abandoned_call_opens_one_item_per_number_with_a_deadline(
    store: CallbackStore, clock: FakeClock
) -> None:
    first = await store.abandoned("c1", NUMBER, "telkomsel", 300)
    again = await store.abandoned("c2", NUMBER, "telkomsel", 300)
    assert (again.id, again.abandoned_calls, again.last_call_id) == (first.id, 2, "c2")
    assert first.deadline == clock.now + timedelta(seconds=300) and first.state is CallbackState.OPEN
    assert [i.id for i in await store.active()] == [first.id]


async def test_only_one_call_taker_can_take_an_item_and_a_failed_attempt_reopens_it(store: CallbackStore) -> None:
    item = await store.abandoned("c1", NUMBER, "xl", 300)
    taken = await store.take(item.id, "rina", "seat03")
    assert (taken.state, taken.attempts, taken.seat) == (CallbackState.DIALING, 1, "seat03")
    with pytest.raises(CallbackError) as refused:
        await store.take(item.id, "budi", "seat04")
    assert refused.value.code == "not_open"
    reopened = await store.attempt_ended(item.id, "busy")
    assert (reopened.state, reopened.last_outcome) == (CallbackState.OPEN, "busy")
    await store.take(item.id, "rina", "seat03")
    await store.connected(item.id, "/rec/callback-1-2.wav")
    done = await store.attempt_ended(item.id, "reached")
    assert (done.state, done.last_outcome, done.attempts) == (CallbackState.DONE, "reached", 2)
    assert await store.active() == []
    kinds = [e["kind"] for e in await store.events(item.id)]
    assert kinds == ["created", "dialing", "attempt_failed", "dialing", "connected", "done"]


async def test_a_repeat_call_matches_the_item_only_once_it_is_answered(store: CallbackStore) -> None:
    item = await store.abandoned("c1", NUMBER, "xl", 300)
    assert (await store.arrived("c2", NUMBER)).matched_call_id == "c2"
    assert await store.answered("c-other") is None
    matched = await store.answered("c2")
    assert matched is not None and matched.state is CallbackState.MATCHED and matched.id == item.id
    assert await store.arrived("c3", NUMBER) is None  # nothing open any more
    with pytest.raises(CallbackError):
        await store.take(999, "rina", "seat01")


def test_what_can_be_called_back_and_what_a_failed_leg_means() -> None:
    assert callable_number("+6281234500001") and callable_number("0751123456")
    assert not any(callable_number(n) for n in ("", None, "anonymous", "12", "+62 812", "<script>", "1" * 21))
    assert (outcome_of_cause(17), outcome_of_cause(19), outcome_of_cause(34)) == ("busy", "no_answer", "unreachable")


async def test_after_a_surge_one_page_of_items_earliest_deadline_first_with_totals(
    store: CallbackStore, clock: FakeClock
) -> None:
    items = []
    for n in range(326):  # the earthquake: every abandoned number an item, a few of them five times
        items.append(await store.abandoned(f"c{n}", f"+62812345{n:05d}", "telkomsel", 300))
        clock.advance(seconds=0.05)
    for again in range(4):
        await store.abandoned(f"again{again}", items[7].number, "telkomsel", 300)
    await store.take(items[0].id, "rina", "seat01")
    clock.advance(seconds=290)  # the first items are now late
    page = await store.active_page(Window(10, 0))
    assert page.total == 326 and [i.id for i in page.items] == [i.id for i in items[:10]]
    assert page.items[7].abandoned_calls == 5  # one item with its count, not five rows
    last = await store.active_page(Window(10, 320))
    assert [i.id for i in last.items] == [i.id for i in items[320:]]
    counts = await store.active_counts()
    assert (counts["open"], counts["dialing"], counts["connected"]) == (325, 1, 0)
    assert 0 < counts["overdue"] < 326
    with pytest.raises(ValueError):
        Window(0, 0)
