"""A caller put through twice keeps both recordings: one file per bridged segment, none overwritten.

The controller is killed while a caller talks with a seat, and the call taker hangs up during the outage. The
restart is quicker than the heartbeat goes stale (the test keeps the heartbeat fresh meanwhile, as a restart
within 2 s would), so the dialplan's watchdog leaves the caller in the application: the new controller finds the
caller alone in its old bridge and puts it through again. Before, that second bridge recorded over the first
(``call-<id>.wav``, ``ifExists=overwrite``); now each segment has its own file, row and seal.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import pytest

from padang112.simulator import fleet, tones
from padang112.telephony import heartbeat
from padang112.telephony.ari import AriClient
from tests.fixtures.controller import eventually
from tests.integration.test_call_path import call_of

pytestmark = pytest.mark.live


async def _keep_heartbeat_fresh(ari: AriClient) -> None:
    while True:
        await ari.post("/asterisk/variable", variable=heartbeat.VARIABLE, value=str(int(time.time())))
        await asyncio.sleep(0.5)


async def test_a_caller_put_through_again_after_a_restart_keeps_both_recordings_with_audio(
    asterisk, controller, repo, seat_phones, simulator, seat_pool, live_settings, ari_credentials, tmp_path: Path
):
    (seat,) = seat_pool(1)
    await seat_phones([seat], answer_after=0.3, hangup_after=4.0, tone_hz=1000)
    citizen = await simulator("citizen")
    caller = "+6281400000031"
    await citizen.call(
        "s1",
        fleet.target_uri(live_settings),
        bind=fleet.carrier_address(live_settings, "telkomsel"),
        caller=caller,
        tone_hz=440,
        record=tmp_path / "s1.wav",
    )
    call = await eventually(lambda: call_of(repo, caller, "connected"), 15, what="the caller put through")
    ari = AriClient(str(ari_credentials["url"]).removesuffix("/ari"), "padang112", str(ari_credentials["password"]), "")
    await ari.open()
    fresh = asyncio.create_task(_keep_heartbeat_fresh(ari))
    try:
        controller.stop(kill=True)  # the seat hangs up 4 s after its answer, while nobody listens
        await asyncio.sleep(5.0)
        await controller.start()
    finally:
        fresh.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await fresh
        await ari.close()
    await citizen.wait_call_state("s1", "DISCONNECTED", 30)  # the second call taker hangs up after 4 s too

    ended = await eventually(lambda: call_of(repo, caller, "ended"), 15, what="the call stored as ended")
    assert ended.id == call.id and ended.via == "controller"

    async def both_finished():
        rows = await repo.recordings(call.id)
        return rows if len(rows) == 2 and all(r.finished_at is not None for r in rows) else None

    first, second = await eventually(both_finished, 10, what="two recordings, both finished")
    assert first.name != second.name and ended.recording == second.name
    for row in (first, second):
        assert row.name.startswith(f"call-{call.id}-{seat}-"), row.name
        path = live_settings.recordings_dir / f"{row.name}.wav"
        assert path.stat().st_size > 16000, f"{path}: {path.stat().st_size} bytes"  # > 1 s of 8 kHz audio
        assert tones.contains_tone(path, 440) and tones.contains_tone(path, 1000), f"{path} lacks a side"
    print(
        f"\n[recording segments] {first.name}: {(live_settings.recordings_dir / f'{first.name}.wav').stat().st_size} B,"
        f" {second.name}: {(live_settings.recordings_dir / f'{second.name}.wav').stat().st_size} B"
    )
