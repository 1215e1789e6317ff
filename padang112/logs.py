"""One log line format: WIB timestamp, level, logger, call id when known, message."""

from __future__ import annotations

import logging
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

WIB = ZoneInfo("Asia/Jakarta")


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, WIB).isoformat(timespec="milliseconds")
        call = getattr(record, "call_id", None)
        where = f" call={call}" if call and call != "-" else ""
        text = f"{stamp} {record.levelname:<7} {record.name}{where} {record.getMessage()}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def setup(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiohttp.access", "panoramisk", "sqlalchemy", "aiosqlite"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
