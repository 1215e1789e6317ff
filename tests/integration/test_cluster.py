"""``padang112 cluster up|down|status`` (issue 13): the whole redundant room started by the command itself, then its
leader killed with callers waiting on both nodes.

The module's world is the command's: its own settings file (the slot's ports, ``[cluster]``, two ``[[nodes]]``, the
edge on ``127.0.4.<1 + slot>``), run through the real CLI in a subprocess, as an operator would. Nothing of the
session's switch or controller is used. The last test stops it with ``cluster down`` and checks nothing is left.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112 import config
from padang112.cluster import command, local
from padang112.cluster.postgres import Server
from padang112.pbx import chroot
from padang112.pbx.layout import layout
from padang112.simulator import fleet
from padang112.storage.db import create_engine
from padang112.storage.repository import Repository
from tests.chaos.crowd import Crowd, all_stored_ended
from tests.chaos.test_standby_takeover import offered_twice
from tests.fixtures.controller import eventually
from tests.fixtures.nodes import nodes_toml
from tests.integration.test_call_path import call_of
from tests.slot import SLOT

pytestmark = pytest.mark.live

SHIFT = 100 * SLOT
TAKEOVER_S = 5.0
# Fixed per slot, so a killed session's cluster is found (pid files) and stopped by the next one; the postgres account
# must reach its data directory (not under pytest's 0700 temporary directories).
STATE = Path(f"/tmp/padang112-cluster-slot{SLOT}")
PG_DIR = Path(f"/tmp/padang112-cluster-pg-slot{SLOT}")


def _toml(state: Path) -> str:
    nodes = nodes_toml(("n1", "n2"), ari_port=8084 + SHIFT, sip_port=5086 + SHIFT)
    return f"""
state_dir = "{state}"
recordings_dir = "{state / "recordings"}"
log_level = "DEBUG"

[cluster]
enabled = true
postgres_port = {5492 + SHIFT}
postgres_dir = "{PG_DIR}"
standby_web_port = {8087 + SHIFT}

[asterisk]
instance = "cluster{SLOT}"
rtp_start = {40000 + 1000 * SLOT}
rtp_end = {40999 + 1000 * SLOT}

[edge]
enabled = true
address = "127.0.4.{1 + SLOT}"
port = {5090 + SHIFT}
run_dir = "/tmp/padang112-edge-cluster-slot{SLOT}"

[calls]
seat_count = 2
ring_timeout_s = 4.0
wrap_up_s = 0.5
min_talk_s = 0.25
position_announce_s = 30.0

[web]
port = {8086 + SHIFT}
insecure_http = true
{nodes}"""


@dataclass
class Cluster:
    settings: config.Settings
    engine: AsyncEngine
    repo: Repository

    def cli(self, action: str) -> subprocess.CompletedProcess[str]:
        return _cli(self.settings, action)

    def roles(self) -> dict[str, str | None]:
        return {c.name: command._role(command.readiness(self.settings, c)) for c in local.controllers(self.settings)}

    def pid(self, controller: str) -> int:
        path = self.settings.state_dir / "cluster" / "run" / f"controller-{controller}.pid"
        return int(path.read_text())


def _cli(settings: config.Settings, action: str) -> subprocess.CompletedProcess[str]:
    """``padang112 --config <file> cluster <action>`` as an operator runs it."""
    argv = [sys.executable, "-m", "padang112.cli", "--config", str(settings.config_path), "cluster", action]
    return subprocess.run(argv, capture_output=True, text=True, timeout=180)


def _remove(settings: config.Settings) -> None:
    """Whatever of the slot's cluster still runs stopped (by the command itself), its state and database removed."""
    _cli(settings, "down")
    for node in settings.nodes:  # fresh fallback notes and queue members, as the session's switch has
        lay = layout(local.node_settings(settings, node))
        (lay.host(lay.lib) / "astdb.sqlite3").unlink(missing_ok=True)
    Server(PG_DIR, settings.cluster.postgres_port).stop("immediate")
    shutil.rmtree(PG_DIR, ignore_errors=True)
    shutil.rmtree(STATE, ignore_errors=True)


@pytest.fixture(scope="module")
async def cluster(artefacts_dir: Path) -> AsyncIterator[Cluster]:
    toml = STATE / "padang112.toml"
    if toml.exists():  # a killed session's
        _remove(config.load(toml, environ={}))
    (STATE / "recordings").mkdir(parents=True)
    toml.write_text(_toml(STATE))
    settings = config.load(toml, environ={})
    engine = create_engine(settings.db_url)
    world = Cluster(settings, engine, Repository(engine))
    try:
        started = time.monotonic()
        up = world.cli("up")
        (artefacts_dir / "cluster-up.log").write_text(up.stdout + up.stderr)
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        print(f"\n[cluster] `cluster up` from nothing (initdb included): {time.monotonic() - started:.1f} s")
        yield world
    finally:
        await engine.dispose()
        for log in (STATE / "cluster" / "log").glob("*.log"):
            shutil.copy(log, artefacts_dir / f"cluster-{log.name}")
        _remove(settings)


def test_up_starts_every_part_and_status_names_one_leader_and_one_standby(cluster: Cluster) -> None:
    status = cluster.cli("status")
    assert status.returncode == 0, status.stdout
    lines = status.stdout.splitlines()
    assert sum("running" in line for line in lines) == 6, status.stdout  # postgresql, n1, n2, edge, a, b
    assert re.search(r"controller-a .* leader, epoch 1", status.stdout), status.stdout
    assert re.search(r"controller-b .* standby", status.stdout), status.stdout
    assert re.search(r"edge .*n\d aktif / active, n\d aktif / active", status.stdout), status.stdout
    # idempotent: nothing started twice
    again = cluster.cli("up")
    assert again.returncode == 0 and again.stdout.count("sudah berjalan / already running") == 4, again.stdout


async def test_the_leader_killed_with_callers_waiting_on_both_nodes(
    cluster: Cluster, simulator: Any, tmp_path: Path
) -> None:
    """One seat, callers waiting on both nodes; SIGKILL of the leader. The standby leads within 5 s, every waiting
    caller is put through in arrival order across the two nodes, no call is offered twice at once, and ``cluster
    up`` brings the killed controller back as the standby."""
    settings = cluster.settings
    (seat,) = settings.seats[:1]
    await fleet.start_seats(settings, [seat], simulator, answer_after=0.3, tone_hz=1000, hangup_after=3.0)

    async def seat_available() -> bool:
        state = (await cluster.repo.seat_states()).get(seat)
        return state is not None and state.state == "available"

    await eventually(seat_available, 20, what="the seat available through the edge")
    crowd = Crowd(simulator, settings, tmp_path, carrier="xl")
    numbers = {f"c{i}": f"+62817{SLOT}30000{i}" for i in range(1, 6)}
    try:
        await crowd.call("c1", numbers["c1"])
        await eventually(lambda: call_of(cluster.repo, numbers["c1"], "connected"), 15, what="c1 connected")
        for name in ("c2", "c3", "c4", "c5"):
            await crowd.call(name, numbers[name])
            await eventually(lambda n=name: call_of(cluster.repo, numbers[n], "queued"), 10, what=f"{name} queued")
            await asyncio.sleep(0.3)  # a defined arrival order
        waiting = {name: await call_of(cluster.repo, numbers[name]) for name in ("c2", "c3", "c4", "c5")}
        nodes = {name: call.node for name, call in waiting.items() if call is not None}
        assert set(nodes.values()) == {"n1", "n2"}, f"the edge did not spread the waiting callers: {nodes}"

        leader = next(name for name, role in cluster.roles().items() if role == "leader")
        os.kill(cluster.pid(leader), signal.SIGKILL)
        killed = time.monotonic()

        async def new_leader() -> str | None:
            roles = await asyncio.to_thread(cluster.roles)
            return next((name for name, role in roles.items() if role == "leader" and name != leader), None)

        await eventually(new_leader, TAKEOVER_S + 5, 0.05, what="the standby leading")
        took_over = time.monotonic() - killed
        for name in numbers:
            await crowd.wait(name, "DISCONNECTED", 60)
    finally:
        await crowd.close()

    served = {name: c.served for name, c in crowd.callers.items()}
    print(
        f"\n[cluster sigkill] waiting callers by node {nodes}; kill -> standby leads {took_over:.2f} s; "
        f"put through after the kill: { {n: round(s - killed, 2) if s else None for n, s in served.items()} }"
    )
    assert took_over <= TAKEOVER_S, took_over
    assert all(served[n] is not None for n in numbers), f"callers never put through: {served}"
    order = sorted(numbers, key=lambda n: served[n] or 0)
    assert order == list(numbers), f"not served in arrival order: {order} (nodes {nodes})"
    await all_stored_ended(cluster.repo, numbers, 30, "every call stored as ended (fallback calls imported)")
    assert await offered_twice(cluster.engine) == [], "a call was offered again before its offer ended"

    up = cluster.cli("up")
    assert up.returncode == 0, up.stdout + up.stderr
    assert f"controller-{leader}: standby" in up.stdout, up.stdout


def test_up_starts_a_killed_node_again_and_returns_once_the_edge_and_the_leader_use_it(cluster: Cluster) -> None:
    settings = cluster.settings
    n2 = local.node_settings(settings, settings.nodes[1])
    pid = chroot.pid(n2)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    while chroot.is_running(n2):
        time.sleep(0.05)
    down = cluster.cli("status")
    assert down.returncode == command.EXIT_SOMETHING_DOWN and re.search(r"asterisk n2 +MATI / DOWN", down.stdout)
    up = cluster.cli("up")
    assert up.returncode == 0, up.stdout + up.stderr
    assert re.search(r"edge .*n\d aktif / active, n\d aktif / active", up.stdout), up.stdout  # its closing status
    answers = [command.readiness(settings, c) for c in local.controllers(settings)]
    assert [a.get("nodes_down") for a in answers if a and a.get("role") == "leader"] == [[]], answers


def test_down_stops_every_part_and_keeps_the_data(cluster: Cluster) -> None:
    settings = cluster.settings
    pids = [cluster.pid(c.name) for c in local.controllers(settings)]
    down = cluster.cli("down")
    assert down.returncode == 0, down.stdout + down.stderr
    status = cluster.cli("status")
    assert status.returncode == command.EXIT_SOMETHING_DOWN, status.stdout
    assert "berjalan / running" not in status.stdout, status.stdout
    assert not any(Path(f"/proc/{pid}").exists() for pid in pids)
    assert not any(chroot.is_running(local.node_settings(settings, node)) for node in settings.nodes)
    server = Server(PG_DIR, settings.cluster.postgres_port)
    assert not server.running() and server.initialised  # stopped, its data kept for the next `up`
