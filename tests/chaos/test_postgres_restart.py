"""PostgreSQL crashes and comes back while the room runs on it (issue 13, "no single machine").

One ``padang112 serve`` under the restart-on-death supervisor (alone, then with a standby ``serve`` on the same
database), on a database of the session's PostgreSQL 15, the slot's Asterisk, two seats whose phones play a tone.
The server is stopped as by a crash (``pg_ctl -m immediate``) while c1 and c2 talk and c3 waits. "restart": down
``OUTAGE_S``; c4 calls 1 s after the crash (the controller still holds a valid lease: it takes the call, its events
wait in the writer) and c5 4.5 s after (the lease lapsed: the dialplan's fallback queue answers). "blip": down 1 s,
c4 calls 0.3 s after the crash; the controller never stops acting. Once the controller is ready again one more
caller calls. Asserted:

- ``/readyz`` is red within 1 s of the crash and green within 5 s of the server accepting connections again;
- every caller is answered and put through to a call taker, none hears more than 2 s of silence while waiting;
- the caller after the return is the controller's (not the fallback queue's); every call went to the room's seats;
  after a blip every call is the controller's and it was never suspended;
- every domain event the controller published (its log: one line per event) is stored, in the same order per
  call and per seat; the call-event hash chain is intact;
- the controller never restarted and leads with its first epoch: suspended while the database was away, it resumed
  its own lease (nobody took it); the standby, if any, is still the standby (the lease's grace after the database's
  start, ``cluster/leadership.py``).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112 import config
from padang112.integrity.verify import verify
from padang112.storage.db import create_engine
from padang112.storage.repository import Repository
from tests.chaos.crowd import Crowd, all_stored_ended
from tests.chaos.supervisor import Supervisor
from tests.chaos.test_standby_takeover import STANDBY_PORT_SHIFT
from tests.chaos.watch import readyz_sampler
from tests.fixtures.controller import eventually
from tests.fixtures.postgres import Cluster
from tests.integration.test_call_path import call_of

pytestmark = pytest.mark.live

OUTAGE_S = 8.0  # longer than the lease (3 s): the leader cannot renew it and must stop acting meanwhile
RED_WITHIN_S = 1.0
GREEN_WITHIN_S = 5.0
TALK_S = 6.0  # c1 and c2 still talk when c3 calls, whatever the machine's load (c3 must wait)
CALL_LINE = re.compile(r" padang112\.calls .*?(call|seat) (\S+): (\S+) -> (\S+)")


@dataclass
class Room:
    leader: Supervisor
    standby: Supervisor | None
    engine: AsyncEngine


@pytest.fixture(params=["alone", "with-standby"])
async def room(
    request: pytest.FixtureRequest, pg_room_url: str, live_settings: config.Settings, artefacts_dir: Path
) -> AsyncIterator[Room]:
    """The leader, alone or with a standby ``serve`` on the same database (the deployment of issue 13)."""
    log_path = artefacts_dir / f"postgres-restart-{request.param}.log"
    log_path.unlink(missing_ok=True)  # the events are read back from this process's log
    leader = Supervisor(
        replace(live_settings, database_url=pg_room_url), log_path, env={"PADANG112_DATABASE_URL": pg_room_url}
    )
    standby = None
    if request.param == "with-standby":
        port = live_settings.web.port + STANDBY_PORT_SHIFT
        standby = Supervisor(
            replace(live_settings, database_url=pg_room_url, web=replace(live_settings.web, port=port)),
            artefacts_dir / "postgres-restart-standby.log",
            env={"PADANG112_DATABASE_URL": pg_room_url, "PADANG112_WEB__PORT": str(port)},
        )
    engine = create_engine(pg_room_url)
    try:
        await leader.start()
        if standby is not None:
            await standby.start(until=503)  # "siaga"
        yield Room(leader, standby, engine)
    finally:
        if standby is not None:
            await standby.stop()
        await leader.stop()
        await engine.dispose()


@dataclass(frozen=True)
class Outage:
    down_s: float
    during: tuple[tuple[str, float], ...]  # callers placed meanwhile: name, seconds after the crash
    suspends: bool  # longer than the lease's validity (2.5 s): the leader must stop acting meanwhile


OUTAGES = {
    # c4 while the lease is still valid (the controller's caller), c5 once it lapsed (the fallback queue's)
    "restart": Outage(OUTAGE_S, (("c4", 1.0), ("c5", 4.5)), suspends=True),
    # a blip shorter than the lease: the controller never stops; c4 is its caller, its events wait in the writer
    "blip": Outage(1.0, (("c4", 0.3),), suspends=False),
}


@pytest.mark.parametrize("outage", OUTAGES)
async def test_postgres_crash_and_restart_loses_no_call_and_no_event(
    outage: str,
    room: Room,
    pg_cluster: Cluster,
    seat_phones: Any,
    simulator: Any,
    seat_pool: Any,
    live_settings: config.Settings,
    tmp_path: Path,
) -> None:
    down = OUTAGES[outage]
    sup, engine = room.leader, room.engine
    repo = Repository(engine)
    seats = seat_pool(2)
    await seat_phones(seats, answer_after=0.3, hangup_after=TALK_S, tone_hz=1000)

    async def seats_ready() -> bool:
        states = await repo.seat_states()
        return all(states.get(s) and states[s][0] == "available" for s in seats)

    await eventually(seats_ready, 15, what="both seats available")
    crowd = Crowd(simulator, live_settings, tmp_path, reuse_lines=False)
    after = f"c{len(down.during) + 4}"  # the first caller after the return
    numbers = {f"c{i}": f"+6281313{len(down.during)}000{i:02d}" for i in range(1, len(down.during) + 5)}
    readiness = readyz_sampler(sup, 0.1)
    try:
        await crowd.call("c1", numbers["c1"])
        await eventually(lambda: call_of(repo, numbers["c1"], "connected"), 15, what="c1 connected")
        await crowd.call("c2", numbers["c2"])
        await eventually(lambda: call_of(repo, numbers["c2"], "connected"), 15, what="c2 connected")
        await crowd.call("c3", numbers["c3"])
        await eventually(lambda: call_of(repo, numbers["c3"], "queued"), 10, what="c3 queued")
        await asyncio.to_thread(pg_cluster.crash)
        crashed = time.monotonic()
        for name, at in down.during:
            await asyncio.sleep(max(0.0, crashed + at - time.monotonic()))
            await crowd.call(name, numbers[name])
        await asyncio.sleep(max(0.0, crashed + down.down_s - time.monotonic()))
        await asyncio.to_thread(pg_cluster.restart)
        back = time.monotonic()
        green = await sup.wait_ready(GREEN_WITHIN_S + 25) - back
        await crowd.call(after, numbers[after])  # after the return: the controller's seats again
        await crowd.all_ended(90)
    finally:
        await crowd.close()
        await readiness.stop()

    red = readiness.first_after(crashed, lambda status: status != 200)
    red_after = float("inf") if red is None else red - crashed
    callers = crowd.callers
    gaps = {name: round(c.worst_gap(), 2) for name, c in callers.items()}
    served = {name: c.served for name, c in callers.items()}
    try:
        stored = await all_stored_ended(repo, numbers, 30, "every call stored as ended (fallback calls imported)")
    except AssertionError:
        print({name: await call_of(repo, number) for name, number in numbers.items()})
        raise
    published, kept = _published_events(sup.log_path), await _stored_events(engine)
    missing = {key: seq for key, seq in published.items() if kept.get(key, [])[: len(seq)] != seq}
    report = await verify(engine, live_settings.recordings_dir)
    suspended = "leadership suspended" in sup.log_path.read_text(errors="replace")
    print(
        f"\n[postgres {outage}, {'with a standby' if room.standby else 'alone'}] down {down.down_s:.0f} s; crash -> "
        f"/readyz red {red_after:.2f} s; server back -> green {green:.2f} s; suspended {suspended}; callers answered "
        f"{sum(c.answered is not None for c in callers.values())}/{len(callers)}, put through "
        f"{sum(s is not None for s in served.values())}/{len(callers)}; worst silent gap {gaps}; via "
        f"{ ({n: c.via for n, c in stored.items()}) }; events published {sum(map(len, published.values()))}, "
        f"missing or out of order {sum(map(len, missing.values()))}; restarts {len(sup.starts) - 1}"
    )
    assert red_after <= RED_WITHIN_S, red_after
    assert green <= GREEN_WITHIN_S, green
    assert all(c.answered is not None for c in callers.values()), {n: c.states for n, c in callers.items()}
    assert all(served[n] is not None for n in callers), f"callers never put through: {served}"
    assert max(gaps.values()) <= 2.0, gaps
    assert all(call.seat in seats for call in stored.values()), stored
    assert stored[after].via != "fallback", stored[after]
    if not down.suspends:  # nobody noticed but the database's readers: the controller served everyone
        assert not suspended and all(call.via != "fallback" for call in stored.values()), stored
    assert missing == {}, f"published but not stored in that order: {missing}"
    assert report.breaks == [], report.breaks
    assert sup.exits == [], f"the controller exited: {sup.exits}"
    assert (await _body(sup))["epoch"] == 1, "the leader did not keep (or resume) its own lease"
    if room.standby is not None:
        assert await room.standby.readyz() == 503 and room.standby.exits == [], "the standby took over"


async def _body(sup: Supervisor) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.get(sup.url + "/readyz") as answer:
        return dict(await answer.json())


def _published_events(log_path: Path) -> dict[str, list[tuple[str, str]]]:
    """('call' or 'seat', id) -> the transitions the controller logged for it, in order (one line per event)."""
    published: dict[str, list[tuple[str, str]]] = {}
    for line in log_path.read_text(errors="replace").splitlines():
        found = CALL_LINE.search(line)
        if found:
            kind, key, before, after = found.groups()
            published.setdefault(f"{kind} {key.rstrip(':')}", []).append((before, after))
    return published


async def _stored_events(engine: AsyncEngine) -> dict[str, list[tuple[str, str]]]:
    """The same, from the database: call and seat transitions in id order."""
    stored: dict[str, list[tuple[str, str]]] = {}
    queries = (
        ("call", "SELECT call_id, from_state, to_state FROM call_events WHERE kind = 'transition' ORDER BY id"),
        ("seat", "SELECT seat_id, from_state, to_state FROM seat_events ORDER BY id"),
    )
    async with engine.connect() as conn:
        for kind, query in queries:
            for key, before, after in (await conn.execute(text(query))).all():
                stored.setdefault(f"{kind} {key}", []).append((before or "-", after))
    return stored
