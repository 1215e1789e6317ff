"""Column types that keep values exactly as the domain hands them over.

SQLite has no timezone-aware timestamp type: :class:`UTCDateTime` stores ISO 8601 text, always converted to
UTC with microseconds, so that the text sorts like the time it represents (indexes and ``>=`` comparisons
work on it) and reads back as an aware UTC ``datetime``. Naive datetimes are refused rather than guessed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


def require_aware(value: datetime, what: str = "timestamp") -> None:
    """Raise ValueError for a naive datetime: storage only accepts times that say which zone they are in."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {value!r}")


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as fixed-width UTC ISO text (``2023-08-07T01:02:03.000000+00:00``)."""

    impl = String(32)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        require_aware(value)
        return value.astimezone(UTC).isoformat(timespec="microseconds")

    def process_result_value(self, value: str | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return datetime.fromisoformat(value).astimezone(UTC)


class JSONText(TypeDecorator[dict[str, Any]]):
    """A JSON object stored as text, non-ASCII kept verbatim.

    Values JSON cannot represent are stored as their ``str()`` rather than failing: an audit row must never
    be lost because a caller put an odd value in ``data``.
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: dict[str, Any] | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return json.dumps(value, ensure_ascii=False, default=str)

    def process_result_value(self, value: str | None, dialect: Dialect) -> dict[str, Any] | None:
        if value is None:
            return None
        data: dict[str, Any] = json.loads(value)
        return data
