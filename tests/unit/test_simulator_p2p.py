"""The simulator without Asterisk: a citizen calls a (non-registering) seat directly over loopback.

Proves that pjsua2 carries audio both ways (each side hears the other's tone, not its own), that the caller ID
and source address are what a carrier trunk would send, and that the seat's timing events are ordered.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from padang112.simulator import tones
from padang112.simulator.client import SimulatorError

pytest.importorskip("pjsua2")

CITIZEN_HZ, SEAT_HZ = 440, 1000


def is_event(name: str, **fields: object):
    return lambda e: e.get("event") == name and all(e.get(k) == v for k, v in fields.items())


async def test_audio_flows_both_ways_between_citizen_and_seat(simulator, tmp_path: Path) -> None:
    seats, citizens = await simulator("seats"), await simulator("citizens")
    reply = await seats.add_seat(
        "seat90", registrar=None, listen="127.0.0.1:0", answer_after=0.3, tone_hz=SEAT_HZ, record_dir=tmp_path
    )
    citizen_wav = tmp_path / "c1.wav"
    sent = await citizens.call(
        "c1",
        target=f"sip:anything@{reply['address']}",
        bind="127.0.0.12",
        caller="+6281234567890",
        caller_name="Budi",
        tone_hz=CITIZEN_HZ,
        record=citizen_wav,
        hangup_after=2.0,
    )

    end = await citizens.wait_call_state("c1", "DISCONNECTED", timeout=15)
    ended = await seats.wait_event(is_event("seat_call_ended", seat="seat90"), timeout=5)
    ringing = await seats.wait_event(is_event("seat_ringing", seat="seat90"))
    answered = await seats.wait_event(is_event("seat_answered", seat="seat90"))

    assert ringing["t"] < answered["t"] < ended["t"]
    assert answered["t"] - ringing["t"] == pytest.approx(0.3, abs=0.2)
    assert ringing["call_id"] == sent["call_id"]
    assert "+6281234567890@127.0.0.12" in ringing["remote"] and '"Budi"' in ringing["remote"]
    assert ringing["source"].startswith("127.0.0.12:")  # sent from the carrier's address, as Asterisk needs
    states = [e["state"] for e in citizens.events(pred=is_event("call_state", call="c1"))]
    assert states[0] == "CALLING" and states[-1] == "DISCONNECTED" and "CONFIRMED" in states

    seat_wav = Path(ended["recording"])
    assert end["recording"] == str(citizen_wav) and seat_wav == tmp_path / "seat90-1.wav"
    # The caller hears the seat's tone, and the seat the caller's: audio crossed pjsua2 in both directions.
    assert tones.tone_level(citizen_wav, SEAT_HZ) > 0.8
    assert tones.tone_level(citizen_wav, CITIZEN_HZ) < 0.05
    assert tones.tone_level(seat_wav, CITIZEN_HZ) > 0.8
    assert tones.tone_level(seat_wav, SEAT_HZ) < 0.05
    assert tones.tone_seconds(citizen_wav, SEAT_HZ) > 1.5


async def test_unanswered_seat_keeps_ringing_until_the_caller_gives_up(simulator, tmp_path: Path) -> None:
    sim = await simulator()
    reply = await sim.add_seat("seat91", listen="127.0.0.1:0", answer_after=None)
    mark = sim.mark()
    await sim.call("c2", target=f"sip:seat91@{reply['address']}", bind="127.0.0.13", caller="08123")
    await sim.wait_call_state("c2", "EARLY", since=mark)
    await sim.wait_event(is_event("seat_ringing", seat="seat91"), since=mark)
    assert not sim.events(mark, is_event("seat_answered"))
    assert (await sim.hangup("c2"))["active"] is True
    ended = await sim.wait_event(is_event("seat_call_ended", seat="seat91"), since=mark)
    gone = await sim.wait_call_state("c2", "DISCONNECTED", since=mark)
    assert ended["code"] == 487 and gone["code"] == 487
    assert not sim.events(mark, is_event("seat_answered"))
    assert (await sim.hangup("c2"))["active"] is False  # hanging up twice is harmless


async def test_a_seat_answers_later_when_told_to(simulator) -> None:
    sim = await simulator()
    reply = await sim.add_seat("seat92", listen="127.0.0.1:0", answer_after=None, tone_hz=None)
    await sim.call("c3", target=f"sip:seat92@{reply['address']}", bind="127.0.0.14", caller="0751123456")
    ringing = await sim.wait_event(is_event("seat_ringing", seat="seat92"))
    await sim.request("seat_update", seat="seat92", answer_after=0.5)  # counts from when it started ringing
    answered = await sim.wait_event(is_event("seat_answered", seat="seat92"))
    assert answered["t"] - ringing["t"] == pytest.approx(0.5, abs=0.25)
    await sim.wait_call_state("c3", "CONFIRMED")
    assert (await sim.seat_hangup("seat92"))["active"] is True
    assert (await sim.wait_call_state("c3", "DISCONNECTED"))["code"] == 200


async def test_untrusted_caller_id_headers_and_dtmf_reach_the_seat(simulator) -> None:
    sim = await simulator()
    reply = await sim.add_seat("seat95", listen="127.0.0.1:0", answer_after=0, tone_hz=None)
    await sim.call(
        "x",
        target=f"sip:seat95@{reply['address']}",
        bind="127.0.0.16",
        caller="+62 812<script>",
        caller_name='<img src=x onerror="alert(1)"> \\',
        tone_hz=None,
        headers={"X-Padang112-Test": "screen-pop"},
    )
    ringing = await sim.wait_event(is_event("seat_ringing", seat="seat95"))
    assert ringing["headers"] == {"X-Padang112-Test": "screen-pop"}
    assert "%3cscript%3e" in ringing["remote"].lower() and "<img src=x" in ringing["remote"]
    await sim.wait_call_state("x", "CONFIRMED")
    await sim.request("dtmf", call="x", digits="1")
    assert (await sim.wait_event(is_event("dtmf", seat="seat95")))["digit"] == "1"
    await sim.hangup("x")
    await sim.wait_call_state("x", "DISCONNECTED")


async def test_a_busy_seat_refuses_a_second_call_with_486(simulator) -> None:
    sim = await simulator()
    reply = await sim.add_seat("seat93", listen="127.0.0.1:0", answer_after=0)
    target = f"sip:seat93@{reply['address']}"
    await sim.call("first", target=target, bind="127.0.0.12", caller="081111")
    await sim.wait_call_state("first", "CONFIRMED")
    await sim.call("second", target=target, bind="127.0.0.12", caller="082222")
    assert (await sim.wait_call_state("second", "DISCONNECTED"))["code"] == 486
    await sim.wait_event(is_event("seat_busy", seat="seat93"))
    await sim.hangup("first")
    await sim.wait_call_state("first", "DISCONNECTED")


async def test_account_budget_is_eight_per_process_and_idle_carrier_accounts_make_room(simulator) -> None:
    sim = await simulator()
    reply = await sim.add_seat("seat01", listen="127.0.0.1:0", answer_after=0, tone_hz=None)
    for i in range(2, 8):
        await sim.add_seat(f"seat{i:02d}", listen="127.0.0.1:0")
    target = f"sip:seat01@{reply['address']}"
    await sim.call("a", target=target, bind="127.0.0.12", caller="0811", tone_hz=None)  # 8th account
    await sim.wait_call_state("a", "CONFIRMED")
    with pytest.raises(SimulatorError, match="account limit"):
        await sim.call("b", target=target, bind="127.0.0.13", caller="0812")
    with pytest.raises(SimulatorError, match="account limit"):
        await sim.add_seat("seat09", listen="127.0.0.1:0")
    await sim.hangup("a")
    await sim.wait_call_state("a", "DISCONNECTED")
    await sim.call("b", target=target, bind="127.0.0.13", caller="0812", tone_hz=None)  # evicts 127.0.0.12
    assert (await sim.wait_call_state("b", "CONFIRMED"))["code"] == 200
    status = await sim.request("status")
    assert status["accounts"] == 8 and status["active_calls"] == 2  # both legs of "b" are in this process


async def test_a_process_holds_four_calls_and_refuses_more(simulator) -> None:
    """This pjsua build caps a process at 4 concurrent calls (both directions): hence 2 seats per process."""
    seats, citizens, other = await simulator("seats"), await simulator("citizens"), await simulator("other")
    addresses = [
        (await seats.add_seat(f"seat{i}", listen="127.0.0.1:0", answer_after=0, tone_hz=None))["address"]
        for i in range(1, 6)
    ]
    for i in range(1, 5):
        await citizens.call(f"k{i}", target=f"sip:seat{i}@{addresses[i - 1]}", bind="127.0.0.12", tone_hz=None)
        await citizens.wait_call_state(f"k{i}", "CONFIRMED")
    with pytest.raises(SimulatorError, match="call limit"):
        await citizens.call("k5", target=f"sip:seat5@{addresses[4]}", bind="127.0.0.12")
    # The seats' process is full as well: pjsua itself turns a 5th incoming call away, though seat5 is free.
    await other.call("k6", target=f"sip:seat5@{addresses[4]}", bind="127.0.0.13", tone_hz=None)
    assert (await other.wait_call_state("k6", "DISCONNECTED"))["code"] == 486
    assert not seats.events(pred=is_event("seat_ringing", seat="seat5"))


async def test_many_short_calls_reuse_call_slots_and_sockets(simulator) -> None:
    """Call slots are reused while old Call objects stay referenced, calls are paced so the ioqueue's 64
    sockets never run out (that would abort the process), and shutdown stays clean (exit 0)."""
    sim = await simulator()
    reply = await sim.add_seat("seat94", listen="127.0.0.1:0", answer_after=0, tone_hz=None)
    for i in range(30):  # 60 call legs, 120 sockets, in a few seconds
        mark = sim.mark()
        await sim.call(
            f"n{i}",
            target=f"sip:seat94@{reply['address']}",
            bind="127.0.0.15",
            caller=f"08{i:09d}",
            tone_hz=None,
            hangup_after=0.0,
        )
        assert (await sim.wait_call_state(f"n{i}", "DISCONNECTED", since=mark))["code"] == 200
        await sim.wait_event(is_event("seat_call_ended", seat="seat94"), since=mark)
    assert await sim.close() == 0
