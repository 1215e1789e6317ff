"""The carrier trunks accept emergency numbers only, only from the carriers, and never route a call out.

SIPp plays a carrier (bound to the carrier's 127.0.0.x address) or a stranger against the live "test" switch.
"""

from __future__ import annotations

import base64
import re
import time
import uuid
import wave
from array import array
from pathlib import Path

import pytest

from tests.fixtures.asterisk import AsteriskHandle, finish_sipp, run_sipp, start_sipp

pytestmark = pytest.mark.live

STRANGER = "127.0.0.99"


def _carrier(asterisk: AsteriskHandle, name: str) -> str:
    return next(c.address for c in asterisk.settings.carriers if c.name == name)


def _foreign_channels(asterisk: AsteriskHandle, dialed: str) -> list[str]:
    """Channels that dial out or belong to the rejected call (concise: name!context!exten!prio!state!app!...).

    An emergency caller's own watchdog (Local/<its channel name>@p112-watchdog) may still be ending from an earlier
    test; it is not a route out (tests/unit/test_pbx_render.py pins what it can do)."""
    lines = asterisk.rx("core show channels concise").splitlines()
    ours = [ln for ln in lines if not re.match(r"^Local/[^@/]+@p112-watchdog-", ln)]
    return [ln for ln in ours if dialed in ln or "!Dial!" in ln or ln.startswith("Local/")]


def _wait_for(predicate, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


@pytest.mark.parametrize("number", ["0812345678", "00442071234567", "+62751123456", "1120", "9112", "5"])
def test_carrier_call_to_a_non_emergency_number_is_rejected_unanswered(
    asterisk: AsteriskHandle, tmp_path: Path, number: str
) -> None:
    result = run_sipp(
        asterisk,
        "carrier_invite.xml",
        tmp_path,
        _carrier(asterisk, "telkomsel"),
        service=number,
        keys={"caller": "081298765432", "caller_name": "Penipu"},
    )
    assert result.final is not None, result.output
    assert 400 <= result.final < 700, result.statuses
    assert 200 not in result.statuses
    assert _foreign_channels(asterisk, number) == []


def test_emergency_number_from_an_unknown_address_is_refused(asterisk: AsteriskHandle, tmp_path: Path) -> None:
    result = run_sipp(
        asterisk,
        "carrier_invite.xml",
        tmp_path,
        STRANGER,
        service="112",
        keys={"caller": "0811000000", "caller_name": "Orang Asing"},
    )
    assert result.final in (401, 403, 404, 407), result.statuses
    assert 200 not in result.statuses


def _fallback_rows(asterisk: AsteriskHandle, caller: str) -> dict[str, list[str]]:
    wanted = base64.b64encode(caller.encode()).decode()
    return {uid: value.split("|") for uid, value in asterisk.db("p112fb").items() if value.split("|")[2] == wanted}


def _rms(path: Path) -> float:
    with wave.open(str(path)) as wav:
        samples = array("h", wav.readframes(wav.getnframes()))
    return (sum(s * s for s in samples) / max(1, len(samples))) ** 0.5


def test_emergency_call_without_controller_is_answered_by_the_fallback_and_noted(
    asterisk: AsteriskHandle, tmp_path: Path, no_controller: None
) -> None:
    caller = "0812" + str(uuid.uuid4().int)[:8]
    name = "Warga, Padang|Utara"
    result = run_sipp(
        asterisk,
        "carrier_invite.xml",
        tmp_path,
        _carrier(asterisk, "indosat"),
        service="112",
        keys={"caller": caller, "caller_name": name},
        hold_ms=3000,
    )
    assert result.final == 200, result.statuses

    rows = _fallback_rows(asterisk, caller)
    assert len(rows) == 1, asterisk.db("p112fb")
    uid, (start, carrier, b64_num, b64_name, dialed, linkedid) = next(iter(rows.items()))
    assert carrier == "indosat" and dialed == "112" and linkedid == uid
    assert base64.b64decode(b64_name).decode() == name
    assert int(start) > 0
    end = _wait_for(lambda: asterisk.db("p112fb_end").get(uid))
    assert end, "the hangup handler wrote no p112fb_end row"
    end_epoch, _status, seat, answered = end.split("|")
    assert int(end_epoch) >= int(start) and seat == "" and answered == ""  # nobody answered: abandoned

    recording = Path(asterisk.settings.recordings_dir) / f"fallback-{uid}.wav"
    assert _wait_for(recording.exists), f"no recording {recording}"
    assert _rms(recording) > 300, "the fallback recording is silent: was the greeting found?"


def test_fallback_queue_notes_which_seat_answered_and_when(
    asterisk: AsteriskHandle, tmp_path: Path, seat_pool, no_controller: None
) -> None:
    (seat,) = seat_pool(1)
    queue = asterisk.settings.calls.fallback_queue
    phone, phone_log = start_sipp(
        asterisk,
        "seat_register.xml",
        tmp_path,
        "127.0.0.1",
        hold_ms=13000,
        tag="seat",
        keys={"seat": seat},
        extra=[
            "-oocsf",
            str(Path(__file__).resolve().parent.parent / "sipp" / "seat_answer.xml"),
            "-au",
            seat,
            "-ap",
            asterisk.secrets.seat_passwords[seat],
        ],
    )
    try:
        assert _wait_for(lambda: f"{seat}/" in asterisk.rx("pjsip show contacts")), "seat did not register"
        asterisk.rx(f"queue add member PJSIP/{seat} to {queue} penalty 0 as {seat} state_interface PJSIP/{seat}")
        caller = "0813" + str(uuid.uuid4().int)[:8]
        result = run_sipp(
            asterisk,
            "carrier_invite.xml",
            tmp_path,
            _carrier(asterisk, "xl"),
            service="112",
            keys={"caller": caller, "caller_name": "Ibu Ani"},
            hold_ms=10000,
            timeout_s=40,
        )
        assert result.final == 200, result.statuses
        (uid,) = _fallback_rows(asterisk, caller)
        answered = asterisk.db("p112fb_ans").get(uid)
        assert answered, "no p112fb_ans row: the seat never answered"
        answer_epoch, answering_seat = answered.split("|")
        assert answering_seat == seat
        end = _wait_for(lambda: asterisk.db("p112fb_end").get(uid))
        assert end and end.split("|")[2:] == [seat, answer_epoch], end
    finally:
        asterisk.rx(f"queue remove member PJSIP/{seat} from {queue}")
        seat_result = finish_sipp(phone, phone_log)
    assert "INVITE sip:" in seat_result.messages, "the queue never rang the seat"


@pytest.mark.parametrize("phone", ["seat", "duty-bpbd"])
@pytest.mark.parametrize("number", ["081234567890", "+6281234567890", "00442071234567", "112"])
def test_an_authenticated_seat_or_duty_phone_can_dial_nothing(
    asterisk: AsteriskHandle, tmp_path: Path, seat_pool, phone: str, number: str
) -> None:
    """Only the controller places calls out (dial policy: duty phones, call-backs); a phone's own call goes nowhere."""
    name = seat_pool(1)[0] if phone == "seat" else phone
    secrets_ = asterisk.secrets
    password = secrets_.seat_passwords.get(name) or secrets_.duty_passwords[name]
    result = run_sipp(
        asterisk,
        "phone_dials_out.xml",
        tmp_path,
        "127.0.0.1",
        service=number,
        keys={"phone": name},
        extra=["-au", name, "-ap", password],
    )
    assert result.statuses.count(401) == 1, result.statuses  # challenged once, then authenticated
    assert result.statuses[-1] == 403, result.statuses
    assert 200 not in result.statuses
    assert _foreign_channels(asterisk, number) == []
