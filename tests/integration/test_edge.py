"""The SIP edge (Kamailio) in front of the real switch: carriers by source address, emergency numbers only, the
carrier header it sets itself, the Asterisk side that believes that header only from the edge."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import time
import uuid
from pathlib import Path

import pytest

from padang112.edge import process, render, topology
from padang112.simulator import fleet, tones
from padang112.simulator.client import SimulatorError
from tests.conftest import EDGE_SEATS
from tests.fixtures.asterisk import SIPP_DIR, free_udp_port, run_sipp
from tests.fixtures.controller import eventually, seat_is
from tests.fixtures.edge import running_edge
from tests.integration.test_call_path import call_of
from tests.integration.test_emergency_number_forms import FORMS, tel_scenario

pytestmark = pytest.mark.live

STRANGER = "127.0.0.77"  # neither a carrier's trunk nor an Asterisk node


def _number(tag: str) -> str:
    return f"08139{abs(hash(tag)) % 1000000:06d}"


def _spoofing_scenario(tmp_path: Path, claimed: list[str]) -> Path:
    """carrier_invite.xml with carrier headers of the sender's own making (as an attacker would add them)."""
    text = (SIPP_DIR / "carrier_invite.xml").read_text()
    headers = "".join(f"\n      {line}" for line in claimed)
    text = text.replace("Subject: padang112 test", "Subject: padang112 test" + headers, 1)
    path = tmp_path / "carrier_invite_spoofed.xml"
    path.write_text(text)
    return path


def test_an_unknown_source_and_a_carrier_dialling_another_number_get_403_from_the_edge(edge, tmp_path: Path) -> None:
    keys = {"caller": "0811", "caller_name": "x"}
    stranger = run_sipp(edge, "carrier_invite.xml", tmp_path, STRANGER, keys=keys, tag="stranger")
    assert stranger.final == 403, stranger.statuses
    carrier = fleet.carrier_address(edge.settings, "xl")
    for i, service in enumerate(("+62751123456", "0811", "11a2", "1;12", "+6211")):
        result = run_sipp(edge, "carrier_invite.xml", tmp_path, carrier, service=service, keys=keys, tag=f"n{i}")
        assert result.final == 403 and 200 not in result.statuses, (service, result.statuses)


def _status_of(edge, source: str, request: str) -> int | None:
    """Send one request from ``source`` to the edge; the status of its first answer (None: no answer in 2 s)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((source, 0))
        port = sock.getsockname()[1]
        sock.sendto(request.format(via=f"{source}:{port}").encode(), (edge.sip_host, edge.sip_port))
        sock.settimeout(2.0)
        try:
            reply = sock.recv(4096)
        except TimeoutError:
            return None
    return int(reply[8:11]) if reply.startswith(b"SIP/2.0 ") else None


def test_the_edge_relays_no_in_dialog_request_along_a_route_it_did_not_set(edge, asterisk) -> None:
    """An open relay: a request that looks in-dialog, with a Route through the edge written by the sender,
    towards the switch (which trusts the edge's address). Refused by the edge, never relayed."""
    target = f"{asterisk.sip_host}:{asterisk.sip_port}"
    for route in (f"<sip:{edge.registrar};lr>", f"<sip:{edge.registrar};lr;p112=guess>"):
        request = (
            f"INVITE sip:112@{target} SIP/2.0\r\nVia: SIP/2.0/UDP {{via}};branch=z9hG4bK{uuid.uuid4().hex[:12]}\r\n"
            f"Route: {route}\r\nFrom: <sip:x@{STRANGER}>;tag=a1\r\nTo: <sip:112@{target}>;tag=b2\r\n"
            f"Call-ID: {uuid.uuid4().hex}\r\nCSeq: 2 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        )
        for source in (STRANGER, fleet.carrier_address(edge.settings, "xl")):
            assert _status_of(edge, source, request) == 403, (route, source)


@pytest.mark.parametrize(("form", "service", "tel"), FORMS)
async def test_every_form_of_112_from_a_carrier_goes_through_the_edge(
    edge, controller, repo, tmp_path: Path, form: str, service: str, tel: bool
) -> None:
    caller = _number(f"edge-{form}")
    scenario = str(tel_scenario(tmp_path)) if tel else "carrier_invite.xml"
    source = fleet.carrier_address(edge.settings, "indosat")
    result = run_sipp(edge, scenario, tmp_path, source, service=service, keys={"caller": caller, "caller_name": form})
    assert result.final == 200, (result.statuses, result.output[-500:])
    call = await eventually(lambda: call_of(repo, caller), 10, what=f"the {form} call stored")
    assert call.dialed == "112" and call.carrier == "indosat"


async def test_a_carrier_header_from_outside_is_removed_and_replaced_by_the_edge(
    edge, asterisk, controller, repo, tmp_path: Path
) -> None:
    """A telkomsel subscriber's call that claims (three spellings) to come over telkom is stored as telkomsel."""
    claimed = ["X-P112-Carrier: telkom", "x-p112-carrier: telkom", "X-P112-CARRIER: xl"]
    scenario = str(_spoofing_scenario(tmp_path, claimed))
    caller = _number("spoof-edge")
    source = fleet.carrier_address(edge.settings, "telkomsel")
    keys = {"caller": caller, "caller_name": "spoof"}
    result = run_sipp(edge, scenario, tmp_path, source, service="112", keys=keys, tag="viaedge")
    assert result.final == 200, result.statuses
    call = await eventually(lambda: call_of(repo, caller), 10, what="the spoofing call stored")
    assert call.carrier == "telkomsel"

    # straight to Asterisk, the header means nothing: a carrier stays itself, a stranger is not the edge
    direct = _number("spoof-direct")
    result = run_sipp(
        asterisk, scenario, tmp_path, source, service="112", keys={"caller": direct, "caller_name": "spoof"}, tag="d"
    )
    assert result.final == 200, result.statuses
    assert (await eventually(lambda: call_of(repo, direct), 10, what="the direct call stored")).carrier == "telkomsel"
    keys = {"caller": "0811", "caller_name": "x"}
    stranger = run_sipp(asterisk, scenario, tmp_path, STRANGER, service="112", keys=keys, tag="s")
    assert stranger.final is not None and 400 <= stranger.final < 500, stranger.statuses


async def test_a_112_call_from_each_carrier_through_the_edge_reaches_a_seat_and_names_its_carrier(
    edge, controller, repo, seat_phones, simulator, seat_pool, live_settings, tmp_path: Path
) -> None:
    seats = seat_pool(3)
    await seat_phones(seats, answer_after=0.2, hangup_after=0.8)
    citizens = [await simulator("citizens1"), await simulator("citizens2")]  # 4 calls at most a process
    callers = {}
    for i, carrier in enumerate(live_settings.carriers):
        callers[carrier.name] = caller = _number(f"each-{carrier.name}")
        await citizens[i % 2].call(
            f"e{i}", edge.target_uri(), bind=carrier.address, caller=caller, record=tmp_path / f"e{i}.wav"
        )
    calls = await asyncio.gather(
        *(
            eventually(lambda c=c: call_of(repo, c, "ended"), 40, what=f"{name}'s call ended")
            for name, c in callers.items()
        )
    )
    for (name, _), call in zip(callers.items(), calls, strict=True):
        assert call.carrier == name and call.seat in seats and call.connected_at is not None, (name, call)


async def test_a_seat_registered_only_at_the_edge_takes_a_112_call_with_audio_both_ways(
    edge, asterisk, controller, repo, seat_phones, simulator, live_settings, tmp_path: Path
) -> None:
    """Asterisk reaches the seat through the edge (its static contact, qualified), and sees it go offline when it
    leaves the edge: the edge does not answer Asterisk's OPTIONS for a phone it does not know."""
    seat = EDGE_SEATS[0]
    phones = await seat_phones([seat], answer_after=0.3, tone_hz=1000, record_dir=tmp_path)
    assert seat in edge.registered()
    await eventually(lambda: seat_is(repo, seat, "available"), 15, what=f"{seat} online through the edge")
    citizen = await simulator("citizen")
    caller = _number("edge-seat")
    await citizen.call(
        "s1",
        edge.target_uri(),
        bind=fleet.carrier_address(live_settings, "smartfren"),
        caller=caller,
        tone_hz=440,
        record=tmp_path / "citizen.wav",
        hangup_after=4,
    )
    await phones[seat].wait_event(lambda e: e.get("event") == "seat_ringing", 10)
    ended = await citizen.wait_call_state("s1", "DISCONNECTED", 20)
    seat_end = await phones[seat].wait_event(lambda e: e.get("event") == "seat_call_ended", 10)
    assert ended["code"] == 200
    assert tones.contains_tone(tmp_path / "citizen.wav", 1000), "the caller did not hear the call taker"
    assert tones.contains_tone(seat_end["recording"], 440), "the call taker did not hear the caller"
    call = await eventually(lambda: call_of(repo, caller, "ended"), 10, what="the call stored as ended")
    assert call.seat == seat and call.carrier == "smartfren"

    # an edge phone cannot register at Asterisk itself (max_contacts = 0): only the edge reaches it
    other = EDGE_SEATS[1]
    with pytest.raises(SimulatorError, match=f"registration of {other} failed"):
        await citizen.add_seat(
            other, password=live_settings.secrets().seat_passwords[other], registrar=fleet.registrar(live_settings)
        )

    await phones[seat].unregister(seat)
    assert seat not in edge.registered()
    await eventually(lambda: seat_is(repo, seat, "offline"), 12, what=f"{seat} offline once it left the edge")


def _options_flood(edge, source: str, count: int, listen_s: float = 0.5) -> tuple[int, float]:
    """Send ``count`` OPTIONS to the edge itself from ``source``, 500 a second (ten times what pike lets through),
    reading the answers as they come (so no socket buffer overflows): how many were answered, and the seconds the
    sending took (a loaded machine sends slower, over more of pike's 2 s units)."""
    answered = 0
    began = time.monotonic()

    def read(until: float) -> None:
        nonlocal answered
        while (left := until - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                answered += sock.recv(4096).startswith(b"SIP/2.0 200")
            except TimeoutError:
                return

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((source, 0))
        port = sock.getsockname()[1]
        for i in range(count):
            branch = f"z9hG4bK{uuid.uuid4().hex[:16]}"
            request = (
                f"OPTIONS sip:{edge.registrar} SIP/2.0\r\nVia: SIP/2.0/UDP {source}:{port};branch={branch}\r\n"
                f"From: <sip:flood@{source}>;tag=f{i}\r\nTo: <sip:{edge.registrar}>\r\nCall-ID: {branch}@{source}\r\n"
                "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
            )
            sock.sendto(request.encode(), (edge.sip_host, edge.sip_port))
            read(time.monotonic() + 0.002)
        sending_s = time.monotonic() - began
        read(time.monotonic() + listen_s)
    return answered, sending_s


async def test_a_flooding_stranger_is_ignored_while_carriers_are_never_rate_limited(
    edge, controller, repo, tmp_path: Path
) -> None:
    flooder = "127.0.0.66"
    limit = edge.settings.edge.pike_requests
    answered, sending_s = _options_flood(edge, flooder, 300)
    # pike cut it off: at most its density in each 2 s unit the flood touched (two for a flood under 2 s)
    units = int(sending_s // 2) + 2
    assert answered < 300 and answered <= units * limit + 5, (answered, round(sending_s, 2))
    assert _options_flood(edge, flooder, 1, listen_s=0.5)[0] == 0, "the flooder is still heard"
    # a carrier's trunk sending as much is never cut off, and its 112 call goes through at once
    carrier = fleet.carrier_address(edge.settings, "telkom")
    assert _options_flood(edge, carrier, 300)[0] == 300
    caller = _number("after-flood")
    keys = {"caller": caller, "caller_name": "flood"}
    result = run_sipp(edge, "carrier_invite.xml", tmp_path, carrier, service="112", keys=keys)
    assert result.final == 200, result.statuses
    assert (await eventually(lambda: call_of(repo, caller), 10, what="the call stored")).carrier == "telkom"


async def test_with_a_dead_node_first_in_the_set_calls_still_go_through_by_the_failure_route(
    edge, asterisk, controller, repo, tmp_path: Path, artefacts_dir: Path
) -> None:
    """A second edge (its own port and run directory) whose set holds a node that answers nothing (a dead
    port) and the real switch. The dead node is put back to active before each call, as if its last probe had
    been answered, so round robin sends calls to it first: the failure route hands them on to the live node."""
    dead = topology.node_uri("127.0.0.1", free_udp_port("127.0.0.1"))
    live = topology.node_uri(asterisk.sip_host, asterisk.sip_port)
    base = edge.settings
    settings = dataclasses.replace(
        base,
        state_dir=tmp_path,
        edge=dataclasses.replace(
            base.edge,
            port=base.edge.port + 1,
            nodes=(dead.removeprefix("sip:").split(";")[0], f"{asterisk.sip_host}:{asterisk.sip_port}"),
            run_dir=base.edge.run_dir.with_name(base.edge.run_dir.name + "-failover"),
        ),
    )
    cfg = render.write_all(settings, base.secrets())
    settings.edge.run_dir.mkdir(mode=0o700, exist_ok=True)
    log = artefacts_dir / "edge-failover.log"
    carrier = fleet.carrier_address(base, "xl")
    with running_edge(settings, process.command(settings, cfg), log, live={live}) as second:
        callers, times = [_number(f"failover-{i}") for i in range(4)], []
        for caller in callers:
            second.rpc("dispatcher.set_state", "ap", "1", dead)
            keys = {"caller": caller, "caller_name": "failover"}
            started = time.monotonic()
            result = run_sipp(second, "carrier_invite.xml", tmp_path, carrier, service="112", keys=keys, hold_ms=200)
            times.append(round(time.monotonic() - started, 2))
            assert result.final == 200, (times, result.statuses)
    failovers = log.read_text().count("node gagal / node failed")
    assert failovers >= 2, f"the failure route ran {failovers} times; call times {times}"
    # a call held 0.2 s ends while Answer() waits for media: stored by the fallback import, with its carrier too
    calls = await asyncio.gather(*(eventually(lambda c=c: call_of(repo, c), 10, what="stored") for c in callers))
    assert {call.carrier for call in calls} == {"xl"}
