"""The fallback notes the dialplan leaves in the switch's database, read back into the call's story."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from padang112.domain.calls import ALLOWED, CallState
from padang112.domain.events import CallTransition, RecordingStarted
from padang112.telephony.fallback_import import fallback_events, parse_fallback_calls


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
