"""Two Asterisk nodes behind the SIP edge, one controller working both (issue 13, "no single machine").

The module starts its own small world, apart from the session's switch and controller: two Asterisk instances of
the shared chroot (``n1``, ``n2``: their own ports, systemnames and astdb), Kamailio in front of them (its own
address, ``127.0.3.<1 + slot>``, every seat registered there) and one ``padang112 serve`` with both as
``[[nodes]]``. Carriers' calls reach the edge, which spreads them over the nodes; seats are reached by each node
through the edge, and each caller's seat leg is placed on the caller's own node.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import statistics
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from padang112 import config
from padang112.callbacks.store import CallbackStore
from padang112.simulator import fleet, tones
from padang112.storage.db import create_engine
from padang112.storage.records import CallRecord
from padang112.storage.repository import Repository
from tests.fixtures.asterisk import AsteriskHandle, running_asterisk
from tests.fixtures.controller import ControllerProcess, eventually
from tests.fixtures.edge import EdgeHandle, running_edge
from tests.slot import SLOT

pytestmark = pytest.mark.live

NAMES = ("n1", "n2")
SEATS = 4
SHIFT = 100 * SLOT


@dataclasses.dataclass
class World:
    settings: config.Settings  # the controller's (its [asterisk] is n1's)
    nodes: dict[str, AsteriskHandle]
    edge: EdgeHandle
    controller: ControllerProcess
    repo: Repository
    callbacks: CallbackStore

    async def calls(self, *numbers: str) -> dict[str, CallRecord]:
        """The newest stored call of each number that has one."""
        found: dict[str, CallRecord] = {}
        for call in await self.repo.recent_calls(500):
            if call.caller_number in numbers and call.caller_number not in found:
                found[call.caller_number or ""] = call
        return found


def _toml(state: Path) -> str:
    nodes = "".join(
        f"""
[[nodes]]
name = "{name}"
ari_url = "http://127.0.0.1:{8081 + i + SHIFT}"
ami_host = "127.0.0.1"
ami_port = {5081 + 2 * i + SHIFT}
sip = "127.0.0.1:{5080 + 2 * i + SHIFT}"
"""
        for i, name in enumerate(NAMES)
    )
    return f"""
state_dir = "{state}"
recordings_dir = "{state / "recordings"}"
log_level = "DEBUG"

[asterisk]
instance = "nodes{SLOT}n1"
systemname = "n1"
sip_port = {5080 + SHIFT}
ami_port = {5081 + SHIFT}
http_port = {8081 + SHIFT}
rtp_start = {50000 + 1000 * SLOT}
rtp_end = {50499 + 1000 * SLOT}

[edge]
enabled = true
address = "127.0.3.{1 + SLOT}"
port = {5085 + SHIFT}
run_dir = "/tmp/padang112-edge-nodes-slot{SLOT}"

[calls]
seat_count = {SEATS}
ring_timeout_s = 4.0
wrap_up_s = 0.5
min_talk_s = 0.25
position_announce_s = 30.0

[web]
port = {8083 + SHIFT}
insecure_http = true
{nodes}"""


def _node_settings(world: config.Settings, i: int) -> config.Settings:
    """The world's settings as node ``i``'s Asterisk is rendered from: its instance, ports and systemname."""
    ast = world.asterisk
    rtp = ast.rtp_start + 500 * i
    node = dataclasses.replace(
        ast,
        instance=f"nodes{SLOT}{NAMES[i]}",
        systemname=NAMES[i],
        sip_port=5080 + 2 * i + SHIFT,
        ami_port=5081 + 2 * i + SHIFT,
        http_port=8081 + i + SHIFT,
        rtp_start=rtp,
        rtp_end=rtp + 499,
    )
    return dataclasses.replace(world, asterisk=node)


@pytest.fixture(scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory, artefacts_dir: Path) -> AsyncIterator[World]:
    state = tmp_path_factory.mktemp("nodes")
    (state / "recordings").mkdir()
    toml = state / "padang112.toml"
    toml.write_text(_toml(state))
    settings = config.load(toml, environ={})
    cli = [sys.executable, "-m", "padang112.cli", "--config", str(toml)]
    with contextlib.ExitStack() as stack:
        nodes = {
            name: stack.enter_context(running_asterisk(_node_settings(settings, i))) for i, name in enumerate(NAMES)
        }
        edge = stack.enter_context(running_edge(settings, [*cli, "edge", "run"], artefacts_dir / "edge-nodes.log"))
        controller = ControllerProcess(settings, artefacts_dir / "controller-nodes.log")
        await controller.start(timeout=30)
        engine = create_engine(settings.db_url)
        try:
            yield World(
                settings, nodes, edge, controller, Repository(engine), CallbackStore(engine, lambda: datetime.now(UTC))
            )
        finally:
            controller.stop()
            await engine.dispose()


def _number(i: int, tag: int) -> str:
    return f"08131{tag:02d}{i:05d}"


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 3) if values else float("nan")


async def test_carriers_calls_through_the_edge_reach_seats_on_both_nodes_with_audio_both_ways(
    world: World, simulator: Any, tmp_path: Path
) -> None:
    seats = world.settings.seats
    phones = await fleet.start_seats(
        world.settings, seats, simulator, answer_after=0.2, tone_hz=1000, record_dir=tmp_path, hangup_after=2.5
    )
    await eventually(
        lambda: _all_available(world, seats), 20, what="every seat available through the edge on both nodes"
    )
    citizens = [await simulator("citizens1"), await simulator("citizens2")]
    carrier = fleet.carrier_address(world.settings, "telkomsel")
    numbers = [_number(i, 1) for i in range(4)]
    placed = {}
    for i, number in enumerate(numbers):
        placed[number] = await citizens[i % 2].call(
            f"c{i}",
            world.edge.target_uri(),
            bind=carrier,
            caller=number,
            tone_hz=440,
            record=tmp_path / f"c{i}.wav",
            hangup_after=3,
        )
        await asyncio.sleep(0.3)
    for i in range(len(numbers)):
        ended = await citizens[i % 2].wait_call_state(f"c{i}", "DISCONNECTED", 30)
        assert ended["code"] == 200, ended
    calls = await eventually(lambda: _all_ended(world, numbers), 20, what="the four calls stored as ended")
    assert {call.node for call in calls.values()} == set(NAMES), {n: c.node for n, c in calls.items()}
    for number, call in calls.items():
        assert call.id.startswith(f"{call.node}-") and call.seat in seats and call.connected_at is not None
    for i in range(len(numbers)):
        assert tones.contains_tone(tmp_path / f"c{i}.wav", 1000), f"caller {i} did not hear the call taker"
    recordings = [
        e["recording"] for sim in set(phones.values()) for e in sim.events() if e["event"] == "seat_call_ended"
    ]
    assert recordings and all(tones.contains_tone(r, 440) for r in recordings), "a call taker did not hear the caller"

    # time to the seat's ring: through the edge (above) and straight to one node
    rings = _ring_times(phones, placed, calls)
    direct = {}
    n1 = world.nodes["n1"]
    for i in range(4):
        number = _number(i, 2)
        direct[number] = await citizens[i % 2].call(
            f"d{i}", f"sip:112@{n1.sip_host}:{n1.sip_port}", bind=carrier, caller=number, hangup_after=1
        )
        await asyncio.sleep(0.3)
    straight = await eventually(lambda: _all_ended(world, list(direct)), 30, what="the direct calls ended")
    direct_rings = _ring_times(phones, direct, straight)
    print(
        f"\n[nodes] calls by node {sorted(c.node or '' for c in calls.values())}; time to the seat's ring: "
        f"through the edge median {_median(rings)} s {rings}, straight to n1 median {_median(direct_rings)} s "
        f"{direct_rings}"
    )


async def _all_available(world: World, seats: list[str]) -> bool:
    states = await world.repo.seat_states()
    return all(states.get(seat) is not None and states[seat].state == "available" for seat in seats)


async def _all_ended(world: World, numbers: list[str]) -> dict[str, CallRecord] | None:
    calls = await world.calls(*numbers)
    done = len(calls) == len(numbers) and all(c.state == "ended" for c in calls.values())
    return calls if done else None


def _ring_times(phones: dict[str, Any], placed: dict[str, dict[str, Any]], calls: dict[str, CallRecord]) -> list[float]:
    """Per call: the seat's ``seat_ringing`` (its first for that call) minus the INVITE's sending, in seconds."""
    out = []
    for number, sent in placed.items():
        call = calls[number]
        rings = [
            e["t"]
            for e in phones[call.seat or ""].events()
            if e["event"] == "seat_ringing" and e["seat"] == call.seat and number in str(e.get("remote"))
        ]
        if rings:
            out.append(round(min(rings) - sent["t"], 3))
    return sorted(out)
