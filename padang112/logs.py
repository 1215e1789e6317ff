"""Log lines: one per domain event, human-readable by default or JSON (``log_format = "json"``), numbers masked.

Every line carries the WIB time, level, logger and, when known, the call id, seat and incident id (``extra=``
fields ``call_id``, ``seat``, ``incident_id``). Phone numbers stay in the database only: :func:`mask_number` is
the one masking function, and both formatters pass every message through :func:`mask_numbers`, so a number
that reaches a log line by accident (an exception text, an effect's repr) is masked too.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import datetime
from typing import Any

from padang112.domain.events import (
    CallAnnotated,
    CallTransition,
    DomainEvent,
    RecordingFinished,
    SeatPhoneFailed,
    SeatTransition,
)
from padang112.wib import WIB

FORMATS = ("text", "json")
CONTEXT = ("call_id", "seat", "incident_id")  # the ``extra=`` fields a line may carry

# A phone number in free text: 7-15 digits, maybe after "+", not part of a longer token: call ids
# (``1733150000.42``), leg ids and incident numbers (``112-20231202-0001``) are left alone.
_NUMBER_IN_TEXT = re.compile(r"(?<![\w.\-])\+?\d{7,15}(?![\w.\-])")
_KEEP_HEAD = 4  # "+628" / "0812": the country or network part
_KEEP_TAIL = 2


def mask_number(number: str) -> str:
    """``+6281234567890`` -> ``+628xxxxxxxx90``: enough to tell calls apart in a log, not to dial back."""
    if len(number) <= _KEEP_HEAD + _KEEP_TAIL:
        return "x" * len(number)
    return number[:_KEEP_HEAD] + "x" * (len(number) - _KEEP_HEAD - _KEEP_TAIL) + number[-_KEEP_TAIL:]


def mask_numbers(text: str) -> str:
    """Every phone-number-looking token of ``text`` masked with :func:`mask_number`."""
    return _NUMBER_IN_TEXT.sub(lambda found: mask_number(found.group(0)), text)


def describe(event: DomainEvent) -> str:
    """The one line for a domain event: ``call <id>: queued -> offered (seat03)``, ``seat seat03: ...``."""
    if isinstance(event, CallTransition):
        seat = f" ({event.seat})" if event.seat else ""
        via = " via fallback" if event.data.get("via") == "fallback" else ""
        return f"call {event.call_id}: {event.from_state or '-'} -> {event.to_state}{seat}{via}"
    if isinstance(event, SeatTransition):
        reason = f" [{event.reason}]" if event.reason else ""
        call = f" (call {event.call_id})" if event.call_id else ""
        return f"seat {event.seat}: {event.from_state or '-'} -> {event.to_state}{reason}{call}"
    if isinstance(event, CallAnnotated):
        values = ", ".join(f"{key}={value}" for key, value in sorted(event.data.items()))
        return f"call {event.call_id}: {event.kind} by {event.by}" + (f" ({values})" if values else "")
    if isinstance(event, SeatPhoneFailed):
        cause = f", cause {event.cause}" if event.cause is not None else ""
        then = "paused" if event.paused else f"rests {event.retry_s:g} s"
        return (
            f"seat {event.seat}: phone {event.kind}{cause} on call {event.call_id}, {event.failures} in a row; {then}"
        )
    if isinstance(event, RecordingFinished):
        return f"call {event.call_id}: recording {event.name} finished"
    return f"call {event.call_id}: recording {event.name} started"


def context_of(event: DomainEvent) -> dict[str, Any]:
    """The ``extra=`` fields of an event's line."""
    seat = getattr(event, "seat", None)
    context: dict[str, Any] = {"call_id": getattr(event, "call_id", None)}
    if seat:
        context["seat"] = seat
    return context


def log_event(logger: logging.Logger, event: DomainEvent) -> None:
    logger.info(describe(event), extra=context_of(event))


def _stamp(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, WIB).isoformat(timespec="milliseconds")


def _context(record: logging.LogRecord) -> dict[str, Any]:
    values = {name: getattr(record, name, None) for name in CONTEXT}
    return {name: value for name, value in values.items() if value not in (None, "", "-")}


class TextFormatter(logging.Formatter):
    """``2023-08-07T08:12:00.120+07:00 INFO    padang112.calls call=… seat=seat03 message``."""

    def format(self, record: logging.LogRecord) -> str:
        where = "".join(f" {name.removesuffix('_id')}={value}" for name, value in _context(record).items())
        text = f"{_stamp(record)} {record.levelname:<7} {record.name}{where} {mask_numbers(record.getMessage())}"
        if record.exc_info:
            text += "\n" + mask_numbers(self.formatException(record.exc_info))
        return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time``, ``level``, ``logger``, ``message`` and the context fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _stamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": mask_numbers(record.getMessage()),
            **_context(record),
        }
        if record.exc_info:
            line["exception"] = mask_numbers(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


def setup(level: str = "INFO", fmt: str = "text") -> None:
    if fmt not in FORMATS:
        raise ValueError(f"log_format {fmt!r}: choose one of {', '.join(FORMATS)}")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiohttp.access", "panoramisk", "sqlalchemy", "aiosqlite"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
