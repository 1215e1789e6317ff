"""With the controller down, Asterisk still answers 112; when it is back, it knows every live call.

These tests stop and restart the session's controller; each leaves it running again.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest
from sqlalchemy import select

from padang112.cluster.fence import UNFENCED
from padang112.simulator import fleet, tones
from padang112.storage.models import CallbackRow
from padang112.telephony.ami import AmiLink
from padang112.telephony.fallback_import import fallback_notes
from tests.fixtures.controller import eventually
from tests.integration.test_call_path import call_of

pytestmark = pytest.mark.live


async def test_with_the_controller_stopped_a_seat_answers_through_the_fallback_queue_and_the_call_is_imported(
    asterisk, ami_credentials, controller, repo, seat_phones, simulator, seat_pool, live_settings, tmp_path: Path
):
    (seat,) = seat_pool(1)
    await seat_phones([seat], answer_after=0.3, tone_hz=1000, hangup_after=2.0)
    queue = live_settings.calls.fallback_queue

    async def in_fallback_queue() -> bool:
        return f"(PJSIP/{seat})" in asterisk.rx(f"queue show {queue}")

    await eventually(in_fallback_queue, 10, what=f"{seat} signed in to the fallback queue")
    log_sizes = asterisk.log_sizes()
    controller.stop()
    try:
        await asyncio.sleep(0.5)  # the app stays listed after its WebSocket closes, but inactive
        citizen = await simulator("citizen")
        caller = "+6281400000001"
        await citizen.call(
            "f1",
            fleet.target_uri(live_settings),
            bind=fleet.carrier_address(live_settings, "telkom"),
            caller=caller,
            tone_hz=440,
            record=tmp_path / "f1.wav",
        )
        ended = await citizen.wait_call_state("f1", "DISCONNECTED", 30)
        assert ended["code"] == 200
        assert tones.contains_tone(tmp_path / "f1.wav", 1000), "the fallback queue did not connect a seat"
        noted = asterisk.db("p112fb")
        assert noted, "the fallback dialplan did not note the call"
        await _one_note_is_read_alone(ami_credentials, live_settings, next(iter(noted)))
        logged = asterisk.logged_since(log_sizes)  # no queue_log ENTERQUEUE with the caller ID (SECURITY.md)
        assert not [name for name, text in logged.items() if caller.lstrip("+") in text], "caller in the switch's log"
    finally:
        await controller.start()
    call = await eventually(lambda: call_of(repo, caller, "ended"), 20, what="the fallback call imported")
    assert call.via == "fallback" and call.seat == seat and call.carrier == "telkom"
    assert (live_settings.recordings_dir / f"fallback-{call.id}.wav").exists()
    await eventually(lambda: _db_empty(asterisk), 10, what="fallback notes deleted after import")


async def _one_note_is_read_alone(ami_credentials, live_settings, uniqueid: str) -> None:
    """What a controller reads for one caller who left its application: that caller's note only (an AMI
    DBGetTree narrowed by key), not a prefix of another unique id, and nothing for an unknown one."""
    c = ami_credentials
    ami = AmiLink(c["host"], c["port"], c["username"], c["secret"], live_settings.calls.fallback_queue, UNFENCED)
    await ami.start()
    try:
        assert ami.connected, "AMI login"
        assert await fallback_notes(ami, uniqueid) == {uniqueid}
        assert await fallback_notes(ami, uniqueid[:-1]) == set()  # a prefix of it is another call's id
        assert await fallback_notes(ami, "1.0") == set()
    finally:
        ami.close()


async def _db_empty(asterisk) -> bool:
    return not asterisk.db("p112fb") and not asterisk.db("p112fb_end")


async def test_a_connected_call_survives_a_controller_restart_and_is_reconciled(
    asterisk, controller, repo, seat_phones, simulator, seat_pool, live_settings, tmp_path: Path
):
    (seat,) = seat_pool(1)
    await seat_phones([seat], answer_after=0.3)
    citizen = await simulator("citizen")
    caller = "+6281400000002"
    await citizen.call(
        "k1", fleet.target_uri(live_settings), bind=fleet.carrier_address(live_settings, "telkomsel"), caller=caller
    )
    await citizen.wait_call_state("k1", "CONFIRMED", 10)
    call = await eventually(lambda: call_of(repo, caller, "connected"), 10, what="call connected")
    controller.stop()
    await asyncio.sleep(1.0)
    await controller.start()
    await asyncio.sleep(1.0)
    assert not citizen.events(pred=lambda e: e.get("call") == "k1" and e.get("state") == "DISCONNECTED"), (
        "the restart dropped a connected caller"
    )
    assert (await repo.get_call(call.id)).state == "connected"
    await citizen.hangup("k1")
    ended = await eventually(lambda: call_of(repo, caller, "ended"), 10, what="call ended after the restart")
    assert ended.id == call.id and ended.seat == seat and ended.ended_by == "caller"
    seat_states = [e.to_state for e in await repo.seat_events(seat)]
    assert seat_states[-1] in ("wrap_up", "available")


async def test_when_the_controller_shuts_down_a_waiting_caller_is_handed_to_the_fallback_queue_not_stranded(
    asterisk, controller, repo, simulator, live_settings
):
    citizen = await simulator("citizen")
    caller = "+6281400000003"
    await citizen.call(
        "h1", fleet.target_uri(live_settings), bind=fleet.carrier_address(live_settings, "xl"), caller=caller
    )
    call = await eventually(lambda: call_of(repo, caller, "queued"), 10, what="caller waiting (no seat ready)")
    controller.stop()
    try:
        assert call.id in asterisk.db("p112fb"), "the waiting caller was not sent to the fallback queue"
        assert (await repo.get_call(call.id)).state == "handed_over"
        await asyncio.sleep(1.0)
        assert not citizen.events(pred=lambda e: e.get("call") == "h1" and e.get("state") == "DISCONNECTED"), (
            "the caller was dropped at shutdown"
        )
        await citizen.hangup("h1")
        await citizen.wait_call_state("h1", "DISCONNECTED", 10)
    finally:
        await controller.start()

    async def imported():
        stored = await repo.get_call(call.id)
        return stored if stored and stored.state == "abandoned" else None

    stored = await eventually(imported, 20, what="the handed-over call imported from the fallback queue")
    assert stored.via == "fallback" and stored.caller_number == caller
    assert [e.to_state for e in await repo.call_events(call.id)][:3] == ["received", "queued", "handed_over"]

    async def listed():  # abandoned in the fallback queue: still a caller to call back (SQLite or PostgreSQL)
        query = select(CallbackRow.carrier, CallbackRow.state, CallbackRow.last_call_id).where(
            CallbackRow.number == caller
        )
        async with repo.read_sessions() as session:
            row = (await session.execute(query)).first()
        return None if row is None else tuple(row)

    assert await eventually(listed, 10, what="callback item for the caller abandoned in the fallback") == (
        "xl",
        "open",
        call.id,
    )


async def test_ctrl_c_then_sigterm_during_shutdown_hands_callers_over_and_the_controller_exits_cleanly(
    asterisk, controller, repo, simulator, live_settings
):
    citizen = await simulator("citizen")
    caller = "+6281400000004"
    await citizen.call(
        "s1", fleet.target_uri(live_settings), bind=fleet.carrier_address(live_settings, "indosat"), caller=caller
    )
    call = await eventually(lambda: call_of(repo, caller, "queued"), 10, what="caller waiting")
    proc = controller.proc
    assert proc is not None
    try:
        proc.send_signal(signal.SIGINT)  # a Ctrl-C reaches the whole process group...
        await asyncio.sleep(0.2)
        proc.send_signal(signal.SIGTERM)  # ...and the supervisor's SIGTERM follows
        code = await asyncio.to_thread(proc.wait, 15)
        assert code == 0, f"controller exited with {code}"
        assert (await repo.get_call(call.id)).state == "handed_over"
    finally:
        controller.stop()
        await controller.start()
    await citizen.hangup("s1")
