"""The effect runner against a fake ARI client that records requests: the one place ARI requests are written."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from padang112.domain import commands as c
from padang112.domain import effects as fx
from padang112.telephony.ari import AriError, subscribe
from padang112.telephony.executor import ChannelMedia, EffectRunner, seat_legs_first


class FakeAri:
    app = "padang112"

    def __init__(self, fail: str = "") -> None:
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self.fail = fail

    async def _request(self, method: str, path: str, params: dict[str, Any]) -> None:
        self.requests.append((method, path, params))
        if self.fail and path.startswith(self.fail):
            raise AriError(method, path, 404, "Channel not found")

    async def post(self, path: str, **params: Any) -> None:
        await self._request("POST", path, params)

    async def delete(self, path: str, **params: Any) -> None:
        await self._request("DELETE", path, params)


async def no_membership(seat: str, member: bool, paused: bool) -> None:
    return None


def runner(ari: FakeAri, posted: list[c.Command] | None = None, noted: frozenset[str] = frozenset()) -> EffectRunner:
    sink = posted if posted is not None else []

    async def notes(uniqueid: str) -> frozenset[str]:
        return noted & {uniqueid}

    return EffectRunner(ari, sink.append, ChannelMedia(), no_membership, lambda agency: f"PJSIP/duty_{agency}", notes)  # type: ignore[arg-type]


async def test_originate_names_the_channel_and_passes_the_app_arguments() -> None:
    ari = FakeAri()
    await runner(ari).perform(fx.Originate("x", "cb-1-seat-a1", "PJSIP/seat01", "callback,seat,1", "<112>", 30))
    assert ari.requests == [
        (
            "POST",
            "/channels/cb-1-seat-a1",
            {
                "endpoint": "PJSIP/seat01",
                "app": "padang112",
                "appArgs": "callback,seat,1",
                "callerId": "<112>",
                "timeout": 30,
            },
        )
    ]


async def test_bridge_and_record_is_one_sequence_for_every_line() -> None:
    ari = FakeAri()
    r = runner(ari)
    await r.perform(fx.Bridge("b", "bridge-b", ("one", "two")))
    await r.perform(fx.StartRecording("b", "bridge-b", "callback-1-1"))
    assert [(m, p) for m, p, _ in ari.requests] == [
        ("DELETE", "/playbacks/greet-one"),  # a greeting a dead controller started would play over the seat
        ("DELETE", "/channels/one/moh"),
        ("POST", "/bridges/bridge-b"),
        ("POST", "/bridges/bridge-b/addChannel"),
        ("POST", "/bridges/bridge-b/record"),
    ]
    assert ari.requests[3][2] == {"channel": "one,two"}
    assert ari.requests[4][2]["name"] == "callback-1-1" and ari.requests[4][2]["format"] == "wav"
    assert ari.requests[4][2]["ifExists"] == "fail"  # a name is never reused: nothing recorded is written over


async def test_ringing_play_and_stop_playback() -> None:
    ari = FakeAri()
    r = runner(ari)
    await r.perform(fx.Ringing("x", "ch", on=True))
    await r.perform(fx.Ringing("x", "ch", on=False))
    await r.perform(fx.Play("x", "ch", "pb-1", "sound:a,sound:b"))
    await r.perform(fx.StopPlayback("x", "pb-1"))
    assert [(m, p) for m, p, _ in ari.requests] == [
        ("POST", "/channels/ch/ring"),
        ("DELETE", "/channels/ch/ring"),
        ("POST", "/channels/ch/play/pb-1"),
        ("DELETE", "/playbacks/pb-1"),
    ]
    assert ari.requests[2][2] == {"media": "sound:a,sound:b", "lang": "id"}


async def test_perform_raises_and_perform_quietly_does_not() -> None:
    r = runner(FakeAri(fail="/channels/gone"))
    with pytest.raises(AriError):
        await r.perform(fx.Hangup("x", "gone"))
    await r.perform_quietly(fx.Hangup("x", "gone"))


async def test_a_seat_leg_that_cannot_be_placed_is_reported_back_to_the_room_and_the_lane_goes_on() -> None:
    posted: list[c.Command] = []
    ari = FakeAri(fail="/channels/leg-")
    r = runner(ari, posted)
    r.submit(fx.RingSeat("call1", "seat01", "leg-call1-seat01-a1", "0812", "Budi", 15))
    r.submit(fx.Hangup("call1", "call1"))
    await r.drain(timeout=2)
    assert [type(cmd).__name__ for cmd in posted] == ["SeatLegFailed"]
    assert ari.requests[-1][:2] == ("DELETE", "/channels/call1")


async def test_a_timer_posts_its_command_and_a_cancelled_one_does_not() -> None:
    posted: list[c.Command] = []
    r = runner(FakeAri(), posted)
    r.submit(fx.StartTimer("a", 0.01, c.WrapUpDone("seat01")))
    r.submit(fx.StartTimer("b", 0.01, c.WrapUpDone("seat02")))
    r.submit(fx.CancelTimer("b"))
    await asyncio.sleep(0.1)
    assert posted == [c.WrapUpDone("seat01")]
    await r.close()


async def test_hundreds_of_event_sources_are_subscribed_in_requests_asterisk_accepts():
    ari = FakeAri()
    sources = [f"endpoint:PJSIP/seat{n:03d}" for n in range(1, 201)] + ["deviceState:PJSIP/seat001"]
    await subscribe(ari, "padang112", sources)  # type: ignore[arg-type]
    sent = [params["eventSource"].split(",") for _, _, params in ari.requests]
    assert all(len(batch) < 128 for batch in sent)
    assert [s for batch in sent for s in batch] == sources


class SwitchWithCaller(FakeAri):
    """GET /channels/<id> answers with each of ``views`` in turn (None: 404, the channel is gone)."""

    def __init__(self, *views: dict[str, Any] | None) -> None:
        super().__init__()
        self.views = list(views)

    async def get(self, path: str, **params: Any) -> Any:
        await self._request("GET", path, params)
        view = self.views.pop(0) if len(self.views) > 1 else self.views[0]
        if view is None:
            raise AriError("GET", path, 404, "Channel not found")
        return {"id": "c1", "dialplan": view}


IN_STASIS = {"context": "emergency", "exten": "s", "priority": 13, "app_name": "Stasis"}
IN_FALLBACK = {"context": "p112-fallback-enter", "exten": "s", "priority": 1, "app_name": "Set"}
IN_HANGUP_HANDLER = {"context": "p112-early-hangup", "exten": "s", "priority": 1, "app_name": "GotoIf"}


MOVED, GONE = c.CallerMoved("c1"), c.CallerHungUp("c1")


@pytest.mark.parametrize(
    ("views", "noted", "found", "asked"),
    [
        ((None,), False, GONE, 1),  # gone, never in the fallback: he hung up as Stasis() started
        ((IN_HANGUP_HANDLER,), False, GONE, 1),  # in his hang-up handler: on his way out
        ((IN_FALLBACK,), False, MOVED, 1),  # the watchdog moved him: not noted yet, in the fallback already
        ((None,), True, MOVED, 1),  # moved, and his fallback call ended while this controller was stopped
        ((IN_STASIS, IN_STASIS, IN_FALLBACK), False, MOVED, 3),  # the switch had not moved on yet
        ((IN_STASIS, None), False, GONE, 2),
        ((IN_STASIS,), False, GONE, 20),  # never moves on: not left waiting for ever
    ],
)
async def test_a_caller_who_left_the_app_is_found_moved_or_gone(monkeypatch, views, noted, found, asked) -> None:
    monkeypatch.setattr("padang112.telephony.executor.FIND_CALLER_PAUSE_S", 0)
    ari, posted = SwitchWithCaller(*views), []
    notes = frozenset({"c1"} if noted else set())
    await runner(ari, posted, notes).perform(fx.FindCaller("c1", "c1"))
    assert posted == [found] and len(ari.requests) == asked


async def test_a_failed_look_for_a_caller_decides_nothing_the_reconcile_settles_it() -> None:
    ari, posted = FakeAri(), []

    async def unreachable(path: str, **params: Any) -> Any:
        raise AriError("GET", path, 503, "Service Unavailable")

    ari.get = unreachable  # type: ignore[method-assign]
    with pytest.raises(AriError):
        await runner(ari, posted).perform(fx.FindCaller("c1", "c1"))
    assert posted == []


class SlowAnswer(FakeAri):
    """Answering the caller takes a while (a busy switch): placing the seat's leg must not wait for it."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def _request(self, method: str, path: str, params: dict[str, Any]) -> None:
        self.requests.append((method, path, params))
        if path.endswith("/answer"):
            await self.release.wait()


async def test_ringing_a_seat_does_not_wait_behind_the_callers_answer_and_greeting() -> None:
    ari = SlowAnswer()
    r = runner(ari)
    leg = "leg-c1-seat01-1"
    for effect in (
        fx.Answer("c1", "c1"),
        fx.RingSeat("c1", "seat01", leg, "0812", "", 15.0),
        fx.PlayPrompts("c1", "c1", ("padang112/greeting",)),
    ):
        r.submit(effect)
    await asyncio.sleep(0.01)
    assert [p for _, p, _ in ari.requests] == ["/channels/c1/answer", f"/channels/{leg}"]  # greeting waits its turn
    r.submit(fx.Hangup("c1", leg, "caller_gone"))  # the leg's own lane: after its placing, whatever the caller's
    await asyncio.sleep(0.01)
    assert ari.requests[-1][:2] == ("DELETE", f"/channels/{leg}")
    ari.release.set()
    await r.drain(1.0)
    assert ari.requests[-1][1] == "/channels/c1/play/greet-c1"


async def test_a_decisions_seat_leg_is_placed_before_the_callers_answer_and_greeting_are_written() -> None:
    """Issue 15: one decision's effects (a caller's arrival: answer, ring, greeting), the seat's originate first;
    each lane in its own order."""
    ari = FakeAri()
    r = runner(ari)
    leg = "leg-c1-seat01-1"
    for effect in seat_legs_first(
        [
            fx.Answer("c1", "c1"),
            fx.RingSeat("c1", "seat01", leg, "0812", "", 15.0),
            fx.StartTimer("ring:" + leg, 15.0, c.RingTimeout("c1", "seat01", leg)),
            fx.PlayPrompts("c1", "c1", ("padang112/greeting",)),
            fx.Hangup("c1", leg, "caller_gone"),
        ]
    ):
        r.submit(effect)
    await r.drain(1.0)
    assert [(m, p) for m, p, _ in ari.requests] == [
        ("POST", f"/channels/{leg}"),
        ("DELETE", f"/channels/{leg}"),  # the leg's lane in its own order
        ("POST", "/channels/c1/answer"),
        ("POST", "/channels/c1/play/greet-c1"),
    ]
    await r.close()
