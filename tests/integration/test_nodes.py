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
import re
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from padang112 import config
from padang112.callbacks.store import CallbackStore
from padang112.cluster import local
from padang112.edge import topology
from padang112.incidents.model import IncidentDraft
from padang112.incidents.store import IncidentStore
from padang112.pbx import chroot
from padang112.pbx.render import ARI_USER
from padang112.simulator import fleet, tones
from padang112.storage.db import create_engine
from padang112.storage.records import CallRecord
from padang112.storage.repository import Repository
from padang112.telephony import heartbeat
from tests.fixtures.asterisk import AsteriskHandle, SippResult, finish_sipp, running_asterisk, start_sipp
from tests.fixtures.controller import ControllerProcess, eventually
from tests.fixtures.edge import EdgeHandle, running_edge
from tests.fixtures.nodes import nodes_toml
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
    nodes = nodes_toml(NAMES, ari_port=8081 + SHIFT, sip_port=5080 + SHIFT)
    return f"""
state_dir = "{state}"
recordings_dir = "{state / "recordings"}"
log_level = "DEBUG"

[asterisk]
instance = "nodes{SLOT}"  # the nodes' instances: nodes<slot>-n1, nodes<slot>-n2 (cluster/local.py)
systemname = "n1"
sip_port = {5080 + SHIFT}
ami_port = {5081 + SHIFT}
http_port = {8081 + SHIFT}
rtp_start = {50000 + 1000 * SLOT}
rtp_end = {50999 + 1000 * SLOT}  # shared out: 500 ports a node

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
            node.name: stack.enter_context(running_asterisk(local.node_settings(settings, node)))
            for node in settings.nodes
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
    await eventually(lambda: _all_available(world, seats), 20, what="every seat available through the edge")
    await eventually(lambda: _reached_by_both(world, seats), 20, what="every seat qualified by both nodes")
    citizens = [await simulator("citizens1"), await simulator("citizens2")]
    carriers = [carrier.name for carrier in world.settings.carriers]  # one call from each of the six
    numbers = [_number(i, 1) for i in range(len(carriers))]
    placed = {}
    for wave in (range(0, 3), range(3, 6)):  # fewer calls than seats at a time: the ring is never a wait for a seat
        await eventually(lambda: _all_available(world, seats), 10, what="every seat available (wrap-up over)")
        for i in wave:
            placed[numbers[i]] = await citizens[i % 2].call(
                f"c{i}",
                world.edge.target_uri(),
                bind=fleet.carrier_address(world.settings, carriers[i]),
                caller=numbers[i],
                tone_hz=440,
                record=tmp_path / f"c{i}.wav",
                hangup_after=3,
            )
            await asyncio.sleep(0.3)
        for i in wave:
            ended = await citizens[i % 2].wait_call_state(f"c{i}", "DISCONNECTED", 30)
            assert ended["code"] == 200, ended
    calls = await eventually(lambda: _all_ended(world, numbers), 20, what="the six calls stored as ended")
    assert {call.node for call in calls.values()} == set(NAMES), {n: c.node for n, c in calls.items()}
    assert [calls[number].carrier for number in numbers] == carriers  # named by the edge from the source address
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
            f"d{i}",
            f"sip:112@{n1.sip_host}:{n1.sip_port}",
            bind=fleet.carrier_address(world.settings, carriers[i]),
            caller=number,
            hangup_after=1,
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


async def _reached_by_both(world: World, seats: list[str]) -> bool:
    """Each node has each seat's static contact (through the edge) qualified as available."""
    for node in world.nodes.values():
        contacts = await asyncio.to_thread(node.rx, "pjsip show contacts")
        if not all(re.search(rf"{seat}/sip:\S+\s+\S+\s+Avail", contacts) for seat in seats):
            return False
    return True


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


RATE = 5.0  # calls a second, as a trunk's burst
BEFORE_S, AFTER_S = 2.0, 4.0  # calls placed before and after the kill
STAMP = re.compile(  # SIPp's -trace_msg: a dashed line with the time, "UDP message sent", a blank, the first line
    r"^-+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\n(UDP message (?:sent|received))[^\n]*\n\n(\S+ \S+)", re.M
)


@dataclasses.dataclass
class Caller:
    number: str
    started: float  # monotonic
    proc: subprocess.Popen[str]
    messages: Path
    result: SippResult | None = None

    def setup_s(self) -> float | None:
        """INVITE sent -> 200 received, from SIPp's own trace (None: never answered)."""
        sent = answered = None
        for stamp, kind, head in STAMP.findall(self.result.messages if self.result else ""):
            at = datetime.fromisoformat(stamp).timestamp()
            if sent is None and kind.endswith("sent") and head.startswith("INVITE"):
                sent = at
            if answered is None and kind.endswith("received") and head == "SIP/2.0 200":
                answered = at
        return round(answered - sent, 3) if sent is not None and answered is not None else None


async def test_a_killed_node_loses_no_new_call_and_its_callers_are_on_the_call_back_list_at_once(
    world: World, simulator: Any, tmp_path: Path
) -> None:
    """5 calls/s through the edge; n2 is SIGKILLed 2 s in. Every call placed after the kill is answered (by n1,
    the first ones through the edge's failure route until the dispatcher marks n2 inactive); every caller n2 held
    at the kill (talking or waiting) is on the call-back list; /readyz stays green and names n2 down."""
    seats = world.settings.seats[:2]
    await fleet.start_seats(world.settings, seats, simulator, answer_after=0.3, hangup_after=6)
    await eventually(lambda: _all_available(world, seats), 20, what="two seats available")
    await eventually(lambda: _reached_by_both(world, seats), 20, what="both seats qualified by both nodes")
    carriers = [c.address for c in world.settings.carriers]
    callers: list[Caller] = []
    killed = None  # when SIGKILL was sent; the calls go on meanwhile (kill() waits until the process is gone)
    listed: dict[str, float] = {}  # number -> when it was first seen on the call-back list
    watch = kill = None
    start = time.monotonic()
    i = 0
    while time.monotonic() - start < BEFORE_S + AFTER_S:
        if killed is None and time.monotonic() - start >= BEFORE_S:
            killed = time.monotonic()
            kill = asyncio.create_task(asyncio.to_thread(world.nodes["n2"].kill))
            watch = asyncio.create_task(_watch(world, listed))
        number = _number(i, 3)
        keys = {"caller": number, "caller_name": "burst"}
        proc, messages = start_sipp(
            world.edge, "carrier_invite.xml", tmp_path, carriers[i % len(carriers)], service="112", keys=keys,
            hold_ms=8000, timeout_s=20, tag=f"b{i}",
        )  # fmt: skip
        callers.append(Caller(number, time.monotonic(), proc, messages))
        i += 1
        await asyncio.sleep(max(0.0, start + i / RATE - time.monotonic()))
    assert killed is not None and kill is not None
    gone = await kill - killed

    # the dead node's callers: stored as n2's before the kill, each on the call-back list
    before = [c for c in callers if c.started < killed]
    stored = await world.calls(*(c.number for c in before))
    on_n2 = sorted(number for number, call in stored.items() if call.node == "n2")
    assert on_n2, {n: c.node for n, c in stored.items()}
    await eventually(lambda: _all_in(listed, on_n2), 10, what="n2's callers on the call-back list")
    assert watch is not None
    watch.cancel()
    listed_after = max(listed[number] for number in on_n2) - killed
    await eventually(lambda: _all_in(listed, ["I"]), 10, what="the edge's dispatcher marking n2 inactive")
    readyz = await _readyz(world)

    for caller in callers:
        caller.result = await asyncio.to_thread(finish_sipp, caller.proc, caller.messages, 40)
    after = [c for c in callers if c.started >= killed]
    failed = [c.number for c in after if c.result is None or c.result.final != 200]
    assert not failed, f"{len(failed)} of {len(after)} calls placed after the kill failed"
    landed = await world.calls(*(c.number for c in after))
    assert {call.node for call in landed.values()} == {"n1"} and len(landed) == len(after)
    setups = [(round(c.started - killed, 2), c.setup_s()) for c in after]
    slow = [s for s in setups if s[1] is None or s[1] > 2.0]
    assert not slow, f"calls after the kill answered later than 2 s: {slow}"
    assert readyz[0] == 200 and readyz[1].get("nodes_down") == ["n2"], readyz
    failed_over = [(at, s) for at, s in setups if s is not None and s > 1.0]  # the edge's failure route (1.5 s)
    last = max((at for at, _ in failed_over), default=None)
    print(
        f"\n[nodes sigkill] {len(callers)} calls at {RATE}/s, n2 killed after {BEFORE_S} s (gone {gone:.2f} s later); "
        f"{len(after)} placed after the kill, 0 failed, all on n1; INVITE->200 after the kill "
        f"{[s for _, s in setups]} ({len(failed_over)} through the edge's failure route, the last placed {last} s "
        f"after the kill); the edge had n2 trying {listed.get('T', listed['I']) - killed:.2f} s and inactive "
        f"{listed['I'] - killed:.2f} s after the kill; "
        f"n2's {len(on_n2)} callers (of {len(before)} before the kill) on the call-back list {listed_after:.2f} s "
        "after the kill; "
        f"/readyz {readyz[0]}, nodes down {readyz[1].get('nodes_down')}"
    )


async def _watch(world: World, listed: dict[str, float]) -> None:
    """Note when each number first appears on the call-back list, and when the edge's dispatcher first has n2 not
    active (key ``"T"``: trying, still picked by round robin; ``"I"``: inactive, skipped), every 50 ms."""
    n2 = topology.node_uri("127.0.0.1", world.nodes["n2"].sip_port)
    while True:
        for item in await world.callbacks.active():
            listed.setdefault(item.number, time.monotonic())
        flag = (await asyncio.to_thread(world.edge.node_flags)).get(n2, "")[:1]
        if flag in ("T", "I"):
            listed.setdefault(flag, time.monotonic())
        await asyncio.sleep(0.05)


async def _all_in(listed: dict[str, float], numbers: list[str]) -> bool:
    return set(numbers) <= set(listed)


async def _readyz(world: World) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session:
        async with session.get(world.controller.base_url + "/readyz") as answer:
            return answer.status, await answer.json()


async def test_a_controller_starting_while_a_node_is_dead_lists_that_nodes_callers(
    world: World, tmp_path: Path
) -> None:
    """The machine holding a controller and a node dies: the controller that starts (here the same one again) finds
    the node dead and lists the callers the database still holds open on it."""
    n2 = world.nodes["n2"]
    await asyncio.to_thread(n2.start)
    await eventually(lambda: _nodes_down(world, []), 30, what="n2 linked again")
    # and its dialplan hears the controller: a caller who arrives before the first heartbeat goes to the fallback
    # queue, and the callers after him join him there (one line), none of them waiting for the controller
    await eventually(lambda: _heartbeat_fresh(n2), 10, what="the controller's heartbeat on n2")
    await asyncio.to_thread(world.edge.rpc, "dispatcher.set_state", "ap", "1", _uri(world, "n2"))
    carriers = [c.address for c in world.settings.carriers]
    callers = []
    for i in range(4):  # no seat signed in: they wait, two on each node
        keys = {"caller": _number(i, 4), "caller_name": "stranded"}
        source = carriers[i % len(carriers)]
        callers.append(
            start_sipp(
                world.edge,
                "carrier_invite.xml",
                tmp_path,
                source,
                service="112",
                keys=keys,
                hold_ms=30000,
                timeout_s=40,
                tag=f"s{i}",
            )
        )
        await asyncio.sleep(0.2)
    numbers = [_number(i, 4) for i in range(4)]

    async def waiting_on_n2() -> list[str]:
        calls = await world.calls(*numbers)
        return sorted(n for n, c in calls.items() if c.node == "n2" and c.state == "queued") if len(calls) == 4 else []

    on_n2 = await eventually(waiting_on_n2, 15, what="callers waiting on n2")
    world.controller.stop(kill=True)
    await asyncio.to_thread(n2.kill)
    started = time.monotonic()
    await world.controller.start(timeout=30)
    listed: dict[str, float] = {}
    watch = asyncio.create_task(_watch(world, listed))
    try:
        await eventually(lambda: _all_in(listed, on_n2), 20, what="the dead node's callers on the call-back list")
    finally:
        watch.cancel()
    for proc, messages in callers:
        proc.kill()
        await asyncio.to_thread(finish_sipp, proc, messages, 10)
    print(
        f"\n[nodes dead at start] controller and n2 SIGKILLed together; the new controller listed n2's {len(on_n2)} "
        f"waiting callers {max(listed[n] for n in on_n2) - started:.2f} s after it was started"
    )


async def _heartbeat_fresh(node: AsteriskHandle) -> bool:
    globals_ = await asyncio.to_thread(node.rx, "dialplan show globals")  # ARI sets dialplan globals
    found = re.search(rf"{heartbeat.VARIABLE}=(\d+)", globals_)
    return found is not None and time.time() - int(found.group(1)) <= heartbeat.STALE_AFTER_S - 1


def _uri(world: World, name: str) -> str:
    return topology.node_uri("127.0.0.1", world.nodes[name].sip_port)


async def _nodes_down(world: World, down: list[str]) -> bool:
    status, body = await _readyz(world)
    return status == 200 and body.get("nodes_down") == down


async def test_with_the_first_node_dead_a_duty_phone_is_called_through_the_second_and_acknowledges_with_1(
    world: World, simulator: Any
) -> None:
    """The controller's own calls (its lines) go on a node that is linked: n1 (the first node) is SIGKILLed, an
    agency task misses its acknowledge deadline, and the agency's duty phone (registered at the edge) is rung
    through n2, whose ARI holds the call (its id names n2); the phone answers and presses 1, and the task is
    stored as acknowledged by the duty phone on the first attempt. n1 is started again afterwards."""
    await _both_nodes_up(world)
    duty = world.settings.duty_phones["pupr"]
    phones = await fleet.start_seats(world.settings, [duty], simulator, answer_after=None, tone_hz=1000)
    phone = phones[duty]
    await eventually(lambda: _reached(world, "n2", [duty]), 20, what="the duty phone qualified by n2")
    engine = create_engine(world.settings.db_url)
    incidents = IncidentStore(engine, lambda: datetime.now(UTC))
    killed = await asyncio.to_thread(world.nodes["n1"].kill)
    try:
        await eventually(lambda: _nodes_down(world, ["n1"]), 20, what="n1 known dead")
        mark = phone.mark()
        draft = IncidentDraft("infrastructure_damage", 1, "Pauh", "jembatan retak", agencies=("pupr",), source="radio")
        incident = await incidents.create(draft, "test", lambda _priority: -1)  # its deadline already missed
        created = time.monotonic()
        ring = await phone.wait_event(
            lambda e: e.get("event") == "seat_ringing" and e.get("seat") == duty, 20, since=mark
        )
        rang = time.monotonic()
        on_n2 = await _channels(world, "n2")
        assert any(ch.startswith("n2-duty-") for ch in on_n2), on_n2
        await phone.request("seat_answer", seat=duty)
        await phone.wait_event(lambda e: e.get("event") == "seat_media" and e.get("seat") == duty, 10, since=mark)
        await phone.seat_dtmf(duty, "1")
        ended = await phone.wait_event(
            lambda e: e.get("event") == "seat_call_ended" and e.get("seat") == duty, 20, since=mark
        )
        assert ended["code"] in (0, 200), ended  # thanked and hung up by the switch

        async def acknowledged() -> Any:
            found = await incidents.get(incident.id)
            return found if found is not None and found.tasks[0].state.value == "acknowledged" else None

        await eventually(acknowledged, 10, what="the task acknowledged by the duty phone")
        trail = await incidents.events(incident.id)
        ack = next(e for e in trail if e.kind == "task_state" and e.to_state == "acknowledged")
        assert ack.by == "telepon piket Dinas PUPR" and "panggilan ke-1" in ack.data.get("note", ""), ack
        assert not [e for e in trail if e.kind == "duty_call"], "an attempt failed before the one through n2"
        print(
            f"\n[nodes lines] n1 SIGKILLed; a task past its deadline rang the duty phone through n2 "
            f"{rang - created:.2f} s after it was stored (escalation watch every 5 s), {rang - killed:.2f} s after the "
            f"kill; {ring['seat']} acknowledged with key 1 on the first attempt, the call's id on n2"
        )
    finally:
        await engine.dispose()
        await _both_nodes_up(world)


async def _both_nodes_up(world: World) -> None:
    """Start a node a test left dead, wait until the controller has it linked and the edge has it active again."""
    for node in world.nodes.values():
        if chroot.pid(node.settings) is None:
            await asyncio.to_thread(node.start)
    await eventually(lambda: _nodes_down(world, []), 30, what="both nodes linked")
    for name in world.nodes:
        await asyncio.to_thread(world.edge.rpc, "dispatcher.set_state", "ap", "1", _uri(world, name))


async def _reached(world: World, name: str, phones: list[str]) -> bool:
    contacts = await asyncio.to_thread(world.nodes[name].rx, "pjsip show contacts")
    return all(re.search(rf"{phone}/sip:\S+\s+\S+\s+Avail", contacts) for phone in phones)


async def _channels(world: World, name: str) -> list[str]:
    """The ids of the channels node ``name``'s Asterisk holds now (over its ARI)."""
    node = world.nodes[name]
    auth = {"Authorization": aiohttp.encode_basic_auth(ARI_USER, node.secrets.ari_password)}
    async with aiohttp.ClientSession(headers=auth) as session:
        async with session.get(f"{node.ari_url}/channels") as answer:
            return [str(ch["id"]) for ch in await answer.json()]
