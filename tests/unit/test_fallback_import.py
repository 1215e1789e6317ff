"""The fallback notes the dialplan leaves in the switch's database, read back into the call's story."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from padang112.domain.calls import ALLOWED, CallState
from padang112.domain.events import CallTransition, RecordingStarted
from padang112.storage import Repository
from padang112.telephony.fallback_import import (
    FORGET_AT_ONCE,
    fallback_events,
    import_fallback_calls,
    parse_fallback_calls,
)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


START = {
    "1796.1": f"1796250800|xl|{b64('+6281700000112')}|{b64('')}|112|1796.1",
    "1796.2": f"1796250801|xl|{b64('+6281700000113')}|{b64('Ani | Budi')}|112|1796.2|early",
    "1796.3": f"1796250802|telkomsel|{b64('081300000001')}|{b64('')}|112|1796.3",
}
END = {"1796.1": "1796250860|COMPLETED|seat02|1796250810", "1796.2": "1796250801|EARLY||"}


def test_a_caller_gone_before_the_room_had_him_is_received_then_abandoned_without_a_recording() -> None:
    calls = {c.uniqueid: c for c in parse_fallback_calls(START, END)}
    assert set(calls) == {"1796.1", "1796.2"}  # 1796.3 is still in the queue
    early = calls["1796.2"]
    assert early.early and not calls["1796.1"].early
    assert (early.caller_number, early.caller_name, early.carrier) == ("+6281700000113", "Ani | Budi", "xl")
    events = fallback_events(early, "/rec")
    assert [(e.from_state, e.to_state) for e in events if isinstance(e, CallTransition)] == [
        (None, "received"),
        ("received", "abandoned"),
    ]
    assert CallState.ABANDONED in ALLOWED[CallState.RECEIVED]
    assert not [e for e in events if isinstance(e, RecordingStarted)]
    received, gave_up = events
    assert isinstance(received, CallTransition) and received.data["via"] == "early"
    assert received.at == datetime.fromtimestamp(1796250801, UTC)
    assert isinstance(gave_up, CallTransition) and gave_up.data["disposition"] == "abandoned"


def test_a_fallback_call_still_has_its_queue_and_recording() -> None:
    (answered,) = [c for c in parse_fallback_calls(START, END) if c.uniqueid == "1796.1"]
    events = fallback_events(answered, "/rec")
    assert [e.to_state for e in events if isinstance(e, CallTransition)] == [
        "received",
        "queued",
        "offered",
        "connected",
        "ended",
    ]
    assert any(isinstance(e, RecordingStarted) for e in events)


def test_a_fallback_call_cut_off_by_a_crash_ends_when_the_switch_started_again() -> None:
    start = {
        "9.1": f"1796250700|indosat|{b64('085377')}|{b64('')}|112|9.1",  # talking to seat04 when Asterisk died
        "9.2": f"1796250710|indosat|{b64('085378')}|{b64('')}|112|9.2",  # waiting in the queue then
        "9.3": f"1796250799|indosat|{b64('085379')}|{b64('')}|112|9.3",  # arrived after the restart: in progress
    }
    answered = {"9.1": "1796250705|seat04"}
    restarted = datetime.fromtimestamp(1796250790.5, UTC)
    assert parse_fallback_calls(start, {}, answered) == []  # without the switch's start nothing is assumed
    calls = {c.uniqueid: c for c in parse_fallback_calls(start, {}, answered, restarted)}
    assert set(calls) == {"9.1", "9.2"}
    talking, waiting = calls["9.1"], calls["9.2"]
    assert (talking.seat, talking.answered) == ("seat04", datetime.fromtimestamp(1796250705, UTC))
    assert talking.end == waiting.end == datetime.fromtimestamp(1796250790, UTC)
    assert [e.to_state for e in fallback_events(talking, "/rec") if isinstance(e, CallTransition)][-1] == "ended"
    assert [e.to_state for e in fallback_events(waiting, "/rec") if isinstance(e, CallTransition)][-1] == "abandoned"


class SwitchNotes:
    """The switch's database as AMI's DBGetTree reads it (families of key -> value), and a clean-up that fails for
    some calls as a switch under load does."""

    def __init__(self, notes: dict[str, dict[str, str]], failing: set[str]) -> None:
        self.notes = notes
        self.failing = failing
        self.at_once = self.most_at_once = 0

    async def db_tree(self, family: str) -> dict[str, str]:
        return dict(self.notes.get(family, {}))

    async def forget(self, uniqueid: str) -> None:
        self.at_once += 1
        self.most_at_once = max(self.most_at_once, self.at_once)
        await asyncio.sleep(0.01)
        self.at_once -= 1
        if uniqueid in self.failing:
            raise ConnectionError("409 channel fbforget-... already exists")
        for family in self.notes.values():
            family.pop(uniqueid, None)


async def test_a_clean_up_that_fails_for_one_call_neither_stops_the_others_nor_loses_that_one(
    engine: AsyncEngine,
) -> None:
    """40 callers the fallback queue let go during a surge; deleting the notes of the 3rd fails twice."""
    uids = [f"1796.{n}" for n in range(1, 41)]
    start = {u: f"17962508{n:02d}|xl|{b64(f'+62817000{n:04d}')}|{b64('')}|112|{u}" for n, u in enumerate(uids)}
    end = {u: f"17962509{n:02d}|TIMEOUT||" for n, u in enumerate(uids)}
    switch = SwitchNotes({"p112fb": start, "p112fb_end": end}, failing={uids[2]})
    repo = Repository(engine)

    async def round_() -> int:
        return await import_fallback_calls(switch, repo, "/rec", switch.forget)  # type: ignore[arg-type]

    assert await round_() == 40  # every call stored (on the call-back list), the failed clean-up notwithstanding
    assert set(switch.notes["p112fb"]) == {uids[2]} and switch.most_at_once == FORGET_AT_ONCE
    assert await round_() == 0  # the notes left are a no-op to import again
    switch.failing.clear()
    assert await round_() == 0 and switch.notes["p112fb"] == {}
    stored = [await repo.get_call(u) for u in uids]
    assert all(c is not None and c.state == "abandoned" for c in stored)
