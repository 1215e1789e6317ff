"""The adapters replayed against transcripts of a real Asterisk 22 (``tests/fixtures/ari/*.jsonl``), no Asterisk run.

The transcripts were recorded from the live test instance with ``scripts/ari-transcript.py`` (an ARI listener with
``subscribeAll``) while the live suite made an inbound call, a call-back and a duty-phone alert. Such a listener
is not sent ``StasisStart``, which only the channel's own application gets: the replay adds it where Asterisk sends
it, when the channel enters the application (an originated channel when it answers, an inbound one when the
dialplan runs ``Stasis``), carrying the recorded channel and the application arguments.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from padang112.callbacks.store import CallbackStore
from padang112.domain import callback_attempt as ca
from padang112.domain import commands as c
from padang112.domain import duty_alerts as da
from padang112.domain.legs import KeyPressed, LegGone, LegUp, PlaybackDone
from padang112.domain.seats import SeatState
from padang112.telephony.callback_dialer import CallbackDialer
from padang112.telephony.dial_policy import DialPolicy
from padang112.telephony.duty_caller import DutyCaller
from padang112.telephony.lines import translate
from padang112.telephony.stasis import StasisTranslator
from tests.unit.conftest import FakeClock
from tests.unit.test_callback_dialer import Desk, Recorder, always, feed, kinds

TRANSCRIPTS = Path(__file__).resolve().parent.parent / "fixtures" / "ari"


def replay(name: str, args: dict[str, list[str]], rename: tuple[str, str] = ("", "")) -> list[dict[str, Any]]:
    """The recorded events (``rename``: a text replacement, e.g. the item id), with each channel's StasisStart."""
    events: list[dict[str, Any]] = []
    started: set[str] = set()
    for line in (TRANSCRIPTS / f"{name}.jsonl").read_text().splitlines():
        event = json.loads(line.replace(*rename) if rename[0] else line)
        channel = event.get("channel") or {}
        enters = (event["type"] == "ChannelStateChange" and channel.get("state") == "Up") or (
            event["type"] == "ChannelDialplan" and event.get("dialplan_app") == "Stasis"
        )
        if enters and channel.get("id") in args and channel["id"] not in started:
            started.add(channel["id"])
            events.append({"type": "StasisStart", "application": "padang112", "args": args[channel["id"]]})
            events[-1]["channel"] = channel
        events.append(event)
    return events


async def test_a_recorded_call_back_drives_the_attempt_to_bridge_record_and_close(engine, clock: FakeClock) -> None:
    store = CallbackStore(engine, clock)
    item = await store.abandoned("c1", "+6281277000001", "telkomsel", 300)
    runner, desk = Recorder(), Desk()
    policy = DialPolicy({}, {"telkomsel"}, always)
    dialer = CallbackDialer(runner, policy, store, desk, lambda m: None, 300, 8, "/rec")
    desk.decide(c.SeatReserve("seat01", "callback"))
    taken = await store.take(item.id, "rina", "seat01")
    dialer._track(ca.Attempt(ca.Legs(item.id, "1dae251"), "seat01"), taken)  # the recorded attempt's token
    seat_leg, caller_leg = f"cb-{item.id}-seat-1dae251", f"cb-{item.id}-caller-1dae251"
    events = replay(
        "callback_attempt",
        {seat_leg: ["callback", "seat", str(item.id)], caller_leg: ["callback", "caller", str(item.id)]},
        rename=("cb-3-", f"cb-{item.id}-"),
    )
    for event in events:
        await feed(dialer, event)
    assert kinds(runner.done) == [
        "Ringing",  # the seat answered: the call taker hears ringing
        "Originate",  # and the caller is dialled over the carrier
        "Ringing",  # the caller answered: ringing off,
        "Bridge",  # both legs bridged
        "StartRecording",  # and recorded
        "Hangup",  # the caller hung up first: the seat's leg is hung up,
        "Hangup",
        "DestroyBridge",  # and the bridge destroyed
    ]
    assert runner.done[1].endpoint == "PJSIP/+6281277000001@telkomsel" and runner.done[1].channel == caller_leg
    assert runner.done[3].channels == (seat_leg, caller_leg)
    stored = await store.get(item.id)
    assert (stored.state.value, stored.last_outcome) == ("done", "reached")
    assert desk.room.seats["seat01"].state is SeatState.AVAILABLE


class Incidents:
    def __init__(self) -> None:
        self.acknowledged: list[tuple[int, str, str]] = []
        self.attempts: list[tuple[int, str, int, str]] = []

    async def set_task_state(self, incident_id: int, agency: str, to: Any, by: str, note: str = "", reason=None):
        self.acknowledged.append((incident_id, agency, getattr(to, "value", to)))
        return {}

    async def record_duty_call(self, incident_id: int, agency: str, attempt: int, outcome: str) -> None:
        self.attempts.append((incident_id, agency, attempt, outcome))


async def test_a_recorded_duty_call_is_acknowledged_by_key_1_thanked_and_hung_up() -> None:
    runner, incidents = Recorder(), Incidents()
    channel = "duty-1-pupr-c8125e2"
    duty = DutyCaller(runner, DialPolicy({"pupr": "duty_pupr"}, set(), always), incidents, 2.0, 8.0)  # type: ignore[arg-type]
    duty.alerts = da.DutyAlerts(2.0, lambda incident, agency: channel)
    await duty._carry_out(duty.alerts.sync({(1, "pupr")}, datetime.now(UTC)))
    for event in replay("duty_call", {channel: ["duty", "1", "pupr"]}):
        await feed(duty, event)
    assert kinds(runner.done) == ["Originate", "Play", "StopPlayback", "Play", "Hangup"]
    assert runner.done[0].endpoint == "PJSIP/duty_pupr" and runner.done[0].app_args == "duty,1,pupr"
    assert runner.done[1].playback == "pb-duty-1-pupr-c8125e2-notice"  # the ids the recorded switch played
    assert runner.done[3].playback == "pb-duty-1-pupr-c8125e2-thanks"
    assert incidents.acknowledged == [(1, "pupr", "acknowledged")] and incidents.attempts == []
    assert duty.alerts.alerts[(1, "pupr")].state is da.AlertState.DONE


async def test_a_duty_call_that_rang_out_is_placed_again_by_the_controllers_tick_once_its_retry_is_due() -> None:
    runner, incidents = Recorder(), Incidents()
    start = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)
    policy = DialPolicy({"pupr": "duty_pupr"}, set(), always)
    duty = DutyCaller(runner, policy, incidents, 2.0, 8.0, clock=lambda: start)  # type: ignore[arg-type]
    await duty._carry_out(duty.alerts.sync({(1, "pupr")}, start))
    await duty._on(LegGone(runner.done[0].channel, 19))  # rang out: no answer
    for at, placed in ((start + timedelta(seconds=1), 1), (start + timedelta(seconds=2.5), 2)):
        duty.tick(at)
        await duty._queue.get_nowait()()  # the job the tick queued, as run() takes it
        assert kinds(runner.done).count("Originate") == placed
    assert incidents.attempts == [(1, "pupr", 1, "no_answer")]


def test_a_recorded_inbound_call_and_its_seat_leg_translate_to_the_rooms_commands() -> None:
    call, leg = "1796235370.23", "leg-1796235370.23-seat06-a428ec1"
    events = replay("inbound_call", {call: ["inbound", "telkomsel", "112"], leg: ["seat", call, "seat06"]})
    prompt = next(e["playback"]["id"] for e in events if e["type"] == "PlaybackStarted")
    translator = StasisTranslator("padang112", {"seat06"}, {call}.__contains__, {call: prompt}.get)
    commands = [command for event in events for command in translator.translate(event)]
    assert commands == [
        c.CallArrived(call, call, "+6281400000002", "", "telkomsel", "112"),
        c.SeatLegRinging(call, "seat06", leg),  # its 180: the ring is timed from here
        c.SeatLegAnswered(call, "seat06", leg),
        c.PromptsFinished(call),
        c.CallerHungUp(call),  # the caller hung up; the repeats are ignored by the room
        c.CallerHungUp(call),
        c.CallerHungUp(call),
        # the room hung the (answered) leg up itself (ARI DELETE, cause 32): a seat leg's hang-up request says
        # nothing (it may come before the answer, test_seat_leg_endings.py); its destruction: cleared
        c.SeatLegHungUp(call, "seat06", leg, 16, answered=True),
    ]


def test_the_recorded_call_back_and_duty_call_translate_to_their_lines_commands() -> None:
    seat_leg, caller_leg = "cb-3-seat-1dae251", "cb-3-caller-1dae251"
    callback = replay(
        "callback_attempt", {seat_leg: ["callback", "seat", "3"], caller_leg: ["callback", "caller", "3"]}
    )
    assert [f for e in callback for f in translate(e)] == [
        LegUp(seat_leg),  # the call taker answered
        LegUp(caller_leg),  # the caller answered
        LegGone(caller_leg),  # the caller hung up (a hang-up request from the phone carries no cause),
        LegGone(caller_leg, 16),  # then the channel is destroyed: normal clearing (the attempt acts on the first)
        LegGone(seat_leg, 32),  # the dialer hung up the seat's leg
        LegGone(seat_leg, 16),
    ]
    duty = "duty-1-pupr-c8125e2"
    assert [f for e in replay("duty_call", {duty: ["duty", "1", "pupr"]}) for f in translate(e)] == [
        LegUp(duty),
        KeyPressed(duty, "1"),
        PlaybackDone(duty, f"pb-{duty}-notice"),
        PlaybackDone(duty, f"pb-{duty}-thanks"),
        LegGone(duty, 32),
        LegGone(duty, 16),
    ]


@pytest.mark.parametrize(
    ("cause", "read"), [(17, 17), (21, 21), (0, None), (None, None), ("17", None), (True, None), (999, None)]
)
def test_a_seat_legs_hang_up_cause_reaches_the_room_only_as_a_q850_number(cause: object, read: int | None) -> None:
    leg = "leg-1796235370.23-seat06-a428ec1"
    event = {"type": "ChannelDestroyed", "cause": cause, "channel": {"id": leg}}
    translator = StasisTranslator("padang112", {"seat06"}, set().__contains__, {}.get)
    assert translator.translate(event) == [c.SeatLegHungUp("1796235370.23", "seat06", leg, read)]
