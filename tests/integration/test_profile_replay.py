"""``padang112 simulate --profile``: a day profile's callers replayed on the real switch, compressed in time."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from padang112.planning import profile
from padang112.simulator.replay import Replay
from padang112.stats import queries
from tests.fixtures.controller import eventually

pytestmark = pytest.mark.live


async def test_every_replayed_caller_reaches_the_room_and_is_answered_or_gives_up(
    controller, repo, live_settings, seat_pool
):
    """An hour of the weekday profile (14:00 WIB) at 120x: every caller of the script who stays on the line for at
    least a real second has a call row (one who hangs up sooner may be gone before the switch hands the call to the
    controller, as on any switch), the callers a seat answered are connected, the others abandoned; silent callers
    are answered like anyone else."""
    weekday = profile.load("padang-weekday")
    seats = seat_pool(2)
    began = datetime.now(UTC)
    replay = Replay(live_settings, weekday, seed=4, speed=120, start_hour=14, hours=1, seats=seats, say=print)
    t0 = time.monotonic()
    await replay.run()
    print(f"\nreplayed {len(replay.callers)} callers in {time.monotonic() - t0:.1f} s: {dict(replay.stats)}")
    numbers = [c.number for c in replay.callers]
    states: list[str] = []

    async def all_closed() -> list | None:
        """Our calls once each is ended or abandoned (the last hang-ups reach the database a moment after the
        replay's callers are done)."""
        rows = await queries.calls_between(repo, began, datetime.now(UTC) + timedelta(seconds=1))
        ours = [c for c in rows if c.caller_number in numbers]
        states[:] = [c.state for c in ours]
        return ours if all(c.state in ("ended", "abandoned") for c in ours) else None

    try:
        ours = await eventually(all_closed, 10, 0.5, "every replayed call ended or abandoned")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {states}") from None
    assert replay.stats["placed"] == len(replay.callers) > 3
    stayed = [c for c in replay.callers if c.patience_s / 120 >= 1.0]
    assert len(stayed) <= len(ours) <= len(replay.callers)
    assert sum(1 for c in ours if c.connected_at) >= replay.stats["answered"] > 0
    silent = {c.number for c in replay.callers if c.cls == "silent"}
    assert all(c.connected_at for c in ours if c.caller_number in silent and c.state == "ended")
