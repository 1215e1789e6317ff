"""Padang's local time, WIB (Asia/Jakarta, UTC+7, no daylight saving): what the console, the logs and the
reports show. Defined here once; stored times stay in UTC."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

WIB = ZoneInfo("Asia/Jakarta")


def iso(at: datetime) -> str:
    """ISO 8601 to the second in WIB, e.g. ``2023-08-07T08:00:00+07:00``."""
    return at.astimezone(WIB).isoformat(timespec="seconds")


def iso_or_none(at: datetime | None) -> str | None:
    return None if at is None else iso(at)


def iso_exact(at: datetime | None) -> str | None:
    """ISO 8601 in WIB keeping the fraction of a second (incident trails, call-back items)."""
    return None if at is None else at.astimezone(WIB).isoformat()
