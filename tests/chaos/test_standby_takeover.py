"""Two ``padang112 serve`` processes on one PostgreSQL database (issue 13): one leads, the other waits and takes over.

Both are real processes under the restart-on-death supervisor (systemd's ``Restart=always`` stand-in), on the
slot's Asterisk and the session's PostgreSQL 15. The first one (``a``) reaches ARI through a relay that counts the
HTTP requests it forwards, so "the fenced ex-leader sent nothing" is read on the wire, not from its own log.

- SIGKILL of the leader with callers waiting: a standby leads within 5 s (``b``, or ``a`` restarted 1 s after
  its death: whichever takes the expired lease first), every caller is put through, in arrival order; a caller
  after the takeover is served by the new leader.
- The fencing attack: the leader is paused (SIGSTOP) until the standby has taken over and callers wait on the new
  leader; woken (SIGCONT), the old leader sends not one ARI request, exits with code 4, and no call was offered
  twice at once.
"""

from __future__ import annotations

import asyncio
import signal
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
from padang112.cluster.leadership import EXIT_LEADERSHIP_LOST
from padang112.storage.db import create_engine
from padang112.storage.repository import Repository
from tests.chaos.crowd import Crowd, all_stored_ended
from tests.chaos.relay import FreezableRelay
from tests.chaos.supervisor import Supervisor
from tests.fixtures.controller import eventually
from tests.integration.test_call_path import call_of

pytestmark = pytest.mark.live

TAKEOVER_S = 5.0
STANDBY_PORT_SHIFT = 4  # the standby's console: beside the slot's (8090 + 100 x slot), free in every slot


@dataclass
class Pair:
    a: Supervisor  # leads first; reaches ARI through ``relay``
    b: Supervisor  # the standby
    relay: FreezableRelay
    engine: AsyncEngine
    repo: Repository


@pytest.fixture
async def pair(
    pg_room_url: str, live_settings: config.Settings, ari_relay: FreezableRelay, artefacts_dir: Path
) -> AsyncIterator[Pair]:
    url = pg_room_url
    standby_port = live_settings.web.port + STANDBY_PORT_SHIFT
    a = Supervisor(
        replace(live_settings, database_url=url),
        artefacts_dir / "leader-a.log",
        env={"PADANG112_DATABASE_URL": url, "PADANG112_ASTERISK__HTTP_PORT": str(ari_relay.port)},
    )
    b = Supervisor(
        replace(live_settings, database_url=url, web=replace(live_settings.web, port=standby_port)),
        artefacts_dir / "leader-b.log",
        env={"PADANG112_DATABASE_URL": url, "PADANG112_WEB__PORT": str(standby_port)},
    )
    engine = create_engine(url)
    try:
        await a.start()
        await b.start(until=503)  # /readyz red: "siaga"
        yield Pair(a, b, ari_relay, engine, Repository(engine))
    finally:
        await b.stop()
        await a.stop()
        await engine.dispose()


async def _seat_ready(pair: Pair, seat: str) -> None:
    async def ready() -> bool:
        state = (await pair.repo.seat_states()).get(seat)
        return state is not None and state[0] == "available"

    await eventually(ready, 15, what=f"{seat} available")


async def _queue_callers(crowd: Crowd, pair: Pair, numbers: dict[str, str]) -> None:
    """c1 talks with the one seat, c2 and c3 wait behind it, in that order."""
    await crowd.call("c1", numbers["c1"])
    await eventually(lambda: call_of(pair.repo, numbers["c1"], "connected"), 15, what="c1 connected")
    await crowd.call("c2", numbers["c2"])
    await eventually(lambda: call_of(pair.repo, numbers["c2"], "queued"), 10, what="c2 queued")
    await asyncio.sleep(0.3)  # two INVITEs a millisecond apart have no defined arrival order
    await crowd.call("c3", numbers["c3"])
    await eventually(lambda: call_of(pair.repo, numbers["c3"], "queued"), 10, what="c3 queued")


async def _one_seat(pair: Pair, seat_pool: Any, seat_phones: Any, hangup_after: float) -> str:
    """One seat whose phone answers after 0.3 s with a tone and hangs up after ``hangup_after``, ready."""
    (seat,) = seat_pool(1)
    await seat_phones([seat], answer_after=0.3, hangup_after=hangup_after, tone_hz=1000)
    await _seat_ready(pair, seat)
    return str(seat)


def _numbers(prefix: str) -> dict[str, str]:
    return {f"c{i}": f"+62813{prefix}000{i:02d}" for i in range(1, 5)}


async def test_the_standby_leads_within_5_s_when_the_leader_is_killed(
    pair: Pair, seat_phones: Any, simulator: Any, seat_pool: Any, live_settings: config.Settings, tmp_path: Path
) -> None:
    seat = await _one_seat(pair, seat_pool, seat_phones, hangup_after=2.0)
    crowd = Crowd(simulator, live_settings, tmp_path)
    numbers = _numbers("21")
    try:
        await _queue_callers(crowd, pair, numbers)
        pair.a.signal(signal.SIGKILL)
        killed = time.monotonic()
        took_over = await _one_ready(pair, TAKEOVER_S + 5) - killed
        for name in ("c1", "c2", "c3"):
            await crowd.wait(name, "DISCONNECTED", 60)
        await crowd.call("c4", numbers["c4"])  # after the takeover: the new leader's caller
        await crowd.all_ended(30)
    finally:
        await crowd.close()

    served = {name: c.served for name, c in crowd.callers.items()}
    first_waiting = min(served[n] or float("inf") for n in ("c2", "c3")) - killed
    leads = "b (the standby)" if await pair.b.readyz() == 200 else "a (restarted 1 s after its death)"
    print(
        f"\n[standby sigkill] kill -> a controller ready {took_over:.2f} s ({leads} took the lease); kill -> first "
        f"waiting caller put through {first_waiting:.2f} s; c4 after the takeover put through "
        f"{(served['c4'] or float('inf')) - killed:.2f} s after the kill"
    )
    assert took_over <= TAKEOVER_S, took_over
    assert all(served[n] is not None for n in crowd.callers), f"callers never put through: {served}"
    order = sorted(("c1", "c2", "c3"), key=lambda n: served[n] or 0)
    assert order == ["c1", "c2", "c3"], f"not served in arrival order: {order}"
    stored = await all_stored_ended(pair.repo, numbers, 30, "every call stored as ended (fallback calls imported)")
    assert all(call.seat == seat for call in stored.values()), stored
    # one leads, the other is the standby: b, or a restarted by the supervisor 1 s after its death, whichever
    # of the two took the expired lease first
    assert sorted([await pair.a.readyz(), await pair.b.readyz()]) == [200, 503]


async def test_a_paused_leader_woken_after_the_takeover_sends_no_ari_request_and_exits(
    pair: Pair, seat_phones: Any, simulator: Any, seat_pool: Any, live_settings: config.Settings, tmp_path: Path
) -> None:
    await _one_seat(pair, seat_pool, seat_phones, hangup_after=3.0)
    pair.a.signal(signal.SIGSTOP)
    paused = time.monotonic()
    took_over = await pair.b.wait_ready(TAKEOVER_S + 5) - paused
    assert await _readiness(pair.b) == {"role": "leader", "epoch": 2}
    crowd = Crowd(simulator, live_settings, tmp_path)
    numbers = _numbers("22")
    try:
        await _queue_callers(crowd, pair, numbers)  # the new leader's callers, waiting for the busy seat
        sent_before = len(pair.relay.requests)
        pair.a.signal(signal.SIGCONT)
        woke = time.monotonic()
        await eventually(lambda: _true(bool(pair.a.exits)), 5, 0.05, what="the woken ex-leader exits")
        exited = time.monotonic() - woke
        await crowd.all_ended(60)
    finally:
        await crowd.close()

    sent_after = pair.relay.requests[sent_before:]
    print(
        f"\n[standby fencing] pause -> standby ready {took_over:.2f} s; woken ex-leader exited "
        f"{exited:.2f} s after SIGCONT with {pair.a.exits}; its ARI requests after waking: {len(sent_after)}"
    )
    assert took_over <= TAKEOVER_S, took_over
    assert pair.a.exits[0] == EXIT_LEADERSHIP_LOST
    assert sent_after == [], f"the fenced ex-leader sent {len(sent_after)} ARI requests"
    assert "leadership lost" in (pair.a.log_path.read_text(errors="replace"))
    served = {name: c.served for name, c in crowd.callers.items()}
    assert all(served[n] is not None for n in served), served
    assert sorted(served, key=lambda n: served[n] or 0) == ["c1", "c2", "c3"], served
    await all_stored_ended(pair.repo, {n: numbers[n] for n in ("c1", "c2", "c3")}, 30, "every call stored ended")
    assert await offered_twice(pair.engine) == [], "a call was offered again before its offer ended"


async def _one_ready(pair: Pair, timeout: float) -> float:
    """Monotonic time the first of the two answered /readyz 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if 200 in await asyncio.gather(pair.a.readyz(), pair.b.readyz()):
            return time.monotonic()
        await asyncio.sleep(0.05)
    raise AssertionError(f"no controller ready within {timeout} s")


async def _readiness(sup: Supervisor) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.get(sup.url + "/readyz") as answer:
        body = await answer.json()
    return {key: body.get(key) for key in ("role", "epoch")}


async def _true(value: bool) -> bool:
    return value


async def offered_twice(engine: AsyncEngine) -> list[str]:
    """Calls whose stored story has an offer directly after an offer (two seats ringing for one caller)."""
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT call_id, to_state FROM call_events ORDER BY id"))).all()
    last: dict[str, str] = {}
    twice = []
    for call_id, state in rows:
        if state == "offered" and last.get(call_id) == "offered":
            twice.append(call_id)
        last[call_id] = state
    return twice
