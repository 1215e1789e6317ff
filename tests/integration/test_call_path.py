"""A citizen's 112 call through a carrier trunk to a call taker's seat, on the real switch."""

from __future__ import annotations

from pathlib import Path

import pytest

from padang112.simulator import fleet, tones
from padang112.storage.repository import Repository
from tests.fixtures.controller import eventually, seat_is

pytestmark = pytest.mark.live


async def call_of(repo: Repository, caller: str, state: str | None = None):
    """The newest stored call from ``caller`` (in ``state`` if given), or None."""
    for call in await repo.recent_calls(200):
        if call.caller_number == caller and (state is None or call.state == state):
            return call
    return None


async def test_a_112_call_reaches_a_seat_with_audio_both_ways_and_is_recorded_and_stored(
    asterisk, controller, repo, seat_phones, simulator, seat_pool, live_settings, tmp_path: Path
):
    (seat,) = seat_pool(1)
    phones = await seat_phones([seat], answer_after=0.3, tone_hz=1000, record_dir=tmp_path)
    citizen = await simulator("citizen")
    caller = "+6281200000001"
    await citizen.call(
        "c1",
        fleet.target_uri(live_settings),
        bind=fleet.carrier_address(live_settings, "telkomsel"),
        caller=caller,
        tone_hz=440,
        record=tmp_path / "citizen.wav",
        hangup_after=4,
    )
    ring = await phones[seat].wait_event(lambda e: e.get("event") == "seat_ringing", 10)
    ended = await citizen.wait_call_state("c1", "DISCONNECTED", 20)
    seat_end = await phones[seat].wait_event(lambda e: e.get("event") == "seat_call_ended", 10)
    assert ended["code"] == 200 and ring["t"] > 0

    assert tones.contains_tone(tmp_path / "citizen.wav", 1000), "the caller did not hear the call taker"
    assert tones.contains_tone(seat_end["recording"], 440), "the call taker did not hear the caller"

    call = await eventually(lambda: call_of(repo, caller, "ended"), 10, what="the call stored as ended")
    assert call.carrier == "telkomsel" and call.dialed == "112" and call.seat == seat and call.via == "controller"
    moves = [(e.from_state, e.to_state) for e in await repo.call_events(call.id)]
    assert moves == [
        (None, "received"),
        ("received", "queued"),
        ("queued", "offered"),
        ("offered", "connected"),
        ("connected", "ended"),
    ]
    recording = live_settings.recordings_dir / f"{call.recording}.wav"
    await eventually(lambda: _exists(recording), 5, what=f"{recording}")
    assert tones.contains_tone(recording, 440) and tones.contains_tone(recording, 1000)
    (stored,) = await repo.recordings(call.id)
    assert stored.name == call.recording and stored.name.startswith(f"call-{call.id}-{seat}-")
    assert stored.finished_at is not None
    states = [e.to_state for e in await repo.seat_events(seat)]
    assert states[:4] == ["available", "offered", "busy", "wrap_up"]


async def _connected(repo: Repository, caller: str):
    call = await call_of(repo, caller)
    return call if call is not None and call.connected_at is not None else None


async def _exists(path: Path) -> bool:
    return path.exists() and path.stat().st_size > 1000


async def test_with_one_seat_three_callers_are_served_in_arrival_order_and_a_caller_who_gives_up_is_abandoned(
    asterisk, controller, repo, seat_phones, simulator, seat_pool, live_settings, tmp_path: Path
):
    (seat,) = seat_pool(1)
    await seat_phones([seat], answer_after=0.3, hangup_after=2.0)
    citizen = await simulator("citizens")
    target = fleet.target_uri(live_settings)
    callers = ["+6281200000011", "+6281200000012", "+6281200000013"]
    for i, caller in enumerate(callers):
        hang = 6 if i < 2 else None
        await citizen.call(
            f"q{i}",
            target,
            bind=fleet.carrier_address(live_settings, "xl"),
            caller=caller,
            record=tmp_path / f"q{i}.wav",
            hangup_after=hang,
        )
        await eventually(lambda c=caller: call_of(repo, c), 10, what=f"caller {i + 1} arrived")  # arrival order
    # the third caller gives up while the first two are served
    await eventually(lambda: _connected(repo, callers[0]), 15, what="the first caller served")
    await citizen.hangup("q2")
    first = await eventually(lambda: call_of(repo, callers[0], "ended"), 20, what="first call ended")
    second = await eventually(lambda: call_of(repo, callers[1], "ended"), 20, what="second call ended")
    third = await eventually(lambda: call_of(repo, callers[2], "abandoned"), 10, what="third abandoned")
    assert first.connected_at < second.connected_at, "callers were not served in arrival order"
    assert third.connected_at is None and third.disposition == "abandoned"
    await citizen.wait_call_state("q1", "DISCONNECTED", 20)
    # the second caller heard the greeting and the queue before the call taker answered
    assert not tones.is_silent(tmp_path / "q1.wav")


async def test_a_seat_that_lets_a_call_ring_out_is_paused_and_the_next_seat_gets_the_call(
    asterisk, controller, repo, seat_phones, simulator, seat_pool, live_settings, tmp_path: Path
):
    sleepy, awake = seat_pool(2)
    await seat_phones([sleepy], answer_after=None)  # registered first: idle longest, rung first
    await eventually(lambda: seat_is(repo, sleepy, "available"), 10, what=f"{sleepy} ready")
    await seat_phones([awake], answer_after=0.3, hangup_after=1.5)
    citizen = await simulator("citizen")
    caller = "+6281200000021"
    await citizen.call(
        "r1", fleet.target_uri(live_settings), bind=fleet.carrier_address(live_settings, "indosat"), caller=caller
    )
    call = await eventually(lambda: call_of(repo, caller, "ended"), 25, what="call answered by the next seat")
    assert call.seat == awake
    sleepy_events = await repo.seat_events(sleepy)
    assert ("offered", "paused", "not_responding") in [(e.from_state, e.to_state, e.reason) for e in sleepy_events]
    offers = [e.seat for e in await repo.call_events(call.id) if e.to_state == "offered"]
    assert offers == [sleepy, awake], "the call must be offered to one seat at a time, in turn"


async def test_an_unregistered_seat_is_never_offered_a_call(
    asterisk, controller, repo, seat_phones, simulator, seat_pool, live_settings
):
    gone, here = seat_pool(2)
    phones = await seat_phones([gone], answer_after=0.3)
    await phones[gone].unregister(gone)
    await eventually(lambda: seat_is(repo, gone, "offline"), 10, what=f"{gone} offline")
    await seat_phones([here], answer_after=0.3, hangup_after=1.0)
    citizen = await simulator("citizen")
    caller = "+6281200000031"
    await citizen.call(
        "u1", fleet.target_uri(live_settings), bind=fleet.carrier_address(live_settings, "three"), caller=caller
    )
    call = await eventually(lambda: call_of(repo, caller, "ended"), 15, what="call ended")
    assert call.seat == here
    assert "offered" not in [e.to_state for e in await repo.seat_events(gone)]
