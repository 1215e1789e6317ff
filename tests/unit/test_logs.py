"""Log lines: one per domain event with its call, seat and incident, JSON or text, and no phone number in clear."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112 import config, logs
from padang112.controller import Controller
from padang112.domain.events import (
    CallAnnotated,
    CallTransition,
    RecordingFinished,
    RecordingStarted,
    SeatPhoneFailed,
    SeatTransition,
)
from padang112.storage.repository import EventWriter, Repository

AT = datetime(2023, 8, 7, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("+6281234567890", "+628xxxxxxxx90"),
        ("081234567890", "0812xxxxxx90"),
        ("0751123456", "0751xxxx56"),
        ("+8821234567", "+882xxxxx67"),
        ("112", "xxx"),
        ("123456", "xxxxxx"),
    ],
)
def test_a_number_keeps_only_its_network_prefix_and_last_two_digits(number: str, masked: str) -> None:
    assert logs.mask_number(number) == masked


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("callback 3: +6281234567890 could not be dialled", "callback 3: +628xxxxxxxx90 could not be dialled"),
        (
            "RingSeat(caller_number='081234567890', seat='seat03')",
            "RingSeat(caller_number='0812xxxxxx90', seat='seat03')",
        ),
        ("number=081234567890;carrier=xl", "number=0812xxxxxx90;carrier=xl"),
    ],
)
def test_numbers_inside_any_message_are_masked(text: str, expected: str) -> None:
    assert logs.mask_numbers(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "call 1691370720.123: queued -> offered (seat03)",
        "leg leg-1691370720.123-seat03-a1b2c3-4 answered",
        "incident 112-20230807-0001: created (bpbd dispatched)",
        "padang112 console on http://127.0.0.1:8080/ at 2023-08-07T08:12:00.120+07:00",
    ],
)
def test_ids_times_and_addresses_are_left_alone(text: str) -> None:
    assert logs.mask_numbers(text) == text


def record(message: str, **extra: object) -> logging.LogRecord:
    rec = logging.LogRecord("padang112.calls", logging.INFO, __file__, 1, message, None, None)
    for key, value in extra.items():
        setattr(rec, key, value)
    return rec


def test_json_lines_carry_call_seat_and_incident_and_mask_the_message() -> None:
    line = logs.JsonFormatter().format(
        record("callback for 081234567890 matched", call_id="1691370720.7", seat="seat03", incident_id=12)
    )
    parsed = json.loads(line)
    assert parsed["message"] == "callback for 0812xxxxxx90 matched"
    assert (parsed["call_id"], parsed["seat"], parsed["incident_id"]) == ("1691370720.7", "seat03", 12)
    assert parsed["level"] == "INFO" and parsed["logger"] == "padang112.calls"
    assert parsed["time"].endswith("+07:00")  # WIB
    assert "\n" not in line


def test_text_lines_are_readable_and_leave_out_what_is_unknown() -> None:
    line = logs.TextFormatter().format(
        record("seat seat03: available -> offered", call_id="1691370720.7", seat="seat03")
    )
    assert line.endswith(" INFO    padang112.calls call=1691370720.7 seat=seat03 seat seat03: available -> offered")
    assert "incident=" not in logs.TextFormatter().format(record("x", call_id="-"))


def test_an_exception_text_is_masked_too() -> None:
    try:
        raise ValueError("cannot dial +6281234567890")
    except ValueError:
        rec = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    assert "+6281234567890" not in logs.TextFormatter().format(rec)
    assert "+6281234567890" not in logs.JsonFormatter().format(rec)


def test_every_kind_of_domain_event_has_its_line() -> None:
    received = CallTransition("c1", AT, None, "received", data={"caller_number": "081234567890", "carrier": "xl"})
    lines = [
        logs.describe(received),
        logs.describe(CallTransition("c1", AT, "queued", "offered", seat="seat03")),
        logs.describe(SeatTransition("seat03", AT, "offered", "paused", reason="not_responding", call_id="c1")),
        logs.describe(RecordingStarted("c1", AT, "call-c1", "/rec/call-c1.wav")),
        logs.describe(RecordingFinished("c1", AT, "call-c1", 12.0)),
        logs.describe(CallAnnotated("c1", AT, "disposition", "rina", {"disposition": "handled"})),
        logs.describe(SeatPhoneFailed("seat03", AT, "c1", "busy", 17, 1, 5.0, False)),
        logs.describe(SeatPhoneFailed("seat03", AT, "c1", "dropped", None, 3, 0.0, True)),
    ]
    assert lines == [
        "call c1: - -> received",
        "call c1: queued -> offered (seat03)",
        "seat seat03: offered -> paused [not_responding] (call c1)",
        "call c1: recording call-c1 started",
        "call c1: recording call-c1 finished",
        "call c1: disposition by rina (disposition=handled)",
        "seat seat03: phone busy, cause 17 on call c1, 1 in a row; rests 5 s",
        "seat seat03: phone dropped on call c1, 3 in a row; paused",
    ]
    assert "081234567890" not in " ".join(lines)


async def test_the_controller_logs_one_line_per_published_event(
    settings: config.Settings, engine: AsyncEngine, writer: EventWriter, caplog: pytest.LogCaptureFixture
) -> None:
    controller = Controller(settings, writer, Repository(engine))
    events = [
        CallTransition("c9", AT, None, "received", data={"caller_number": "081234567890", "carrier": "xl"}),
        SeatTransition("seat01", AT, "offline", "available"),
    ]
    with caplog.at_level(logging.INFO, logger="padang112.calls"):
        controller._notify(events)  # what the room loop does with every decision's events
    mine = [r for r in caplog.records if r.name == "padang112.calls"]
    assert [r.getMessage() for r in mine] == ["call c9: - -> received", "seat seat01: offline -> available"]
    assert [(getattr(r, "call_id", None), getattr(r, "seat", None)) for r in mine] == [("c9", None), (None, "seat01")]


def test_an_unknown_log_format_is_refused() -> None:
    with pytest.raises(ValueError, match="log_format"):
        logs.setup("INFO", "xml")
