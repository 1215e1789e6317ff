"""Reads behind the service level and the call history. Every value is a bound parameter.

Each function takes an :class:`~sqlalchemy.ext.asyncio.AsyncEngine` or the app's
:class:`~padang112.storage.repository.Repository` (whose read sessions are used: plain ``BEGIN``, never the
write lock).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from padang112.storage.db import session_factory
from padang112.storage.models import Call, SeatEvent
from padang112.storage.records import CallRecord, SeatEventRecord
from padang112.storage.repository import Repository
from padang112.storage.types import require_aware
from padang112.wib import WIB

MAX_LIMIT = 500
LIKE_ESCAPE = "\\"
Source = AsyncEngine | Repository


def _sessions(source: Source) -> async_sessionmaker[AsyncSession]:
    if isinstance(source, AsyncEngine):
        return session_factory(source)
    if isinstance(source, Repository):
        return source.read_sessions
    raise TypeError(f"expected an AsyncEngine or a Repository, got {type(source).__name__}")


def wib_day_bounds(day: date) -> tuple[datetime, datetime]:
    """``[00:00, next 00:00)`` of a WIB calendar day, as aware datetimes."""
    start = datetime.combine(day, time(0), tzinfo=WIB)
    return start, start + timedelta(days=1)


def escape_like(text: str) -> str:
    """``text`` as a literal inside a LIKE pattern (escape character ``\\``)."""
    return text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")


async def _records(source: Source, query: Select[Any]) -> list[CallRecord]:
    async with _sessions(source)() as session:
        return [CallRecord.of(row) for row in await session.scalars(query)]


async def calls_between(source: Source, start: datetime, end: datetime) -> list[CallRecord]:
    """Calls received in ``[start, end)``, oldest first."""
    require_aware(start, "start")
    require_aware(end, "end")
    query = select(Call).where(Call.received_at >= start, Call.received_at < end).order_by(Call.received_at, Call.id)
    return await _records(source, query)


async def search_calls(
    source: Source,
    *,
    number: str | None = None,
    day: date | None = None,
    disposition: str | None = None,
    seat: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[CallRecord]:
    """Calls matching every given filter, newest first.

    ``number`` matches anywhere in the caller number, literally (``%`` and ``_`` are not wildcards) and in
    either case (a caller id may be ``Anonymous``); spaces
    and hyphens typed in it are ignored (``0812-3456`` finds ``08123456``). ``day`` is a WIB calendar date.
    ``disposition`` and ``seat`` match exactly. ``limit`` is capped at :data:`MAX_LIMIT`.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be 1..{MAX_LIMIT}")
    if offset < 0:
        raise ValueError("offset must be >= 0")
    query = _matching(number, day, disposition, seat)
    query = query.order_by(Call.received_at.desc(), Call.id.desc()).limit(limit).offset(offset)
    return await _records(source, query)


async def count_calls(
    source: Source,
    *,
    number: str | None = None,
    day: date | None = None,
    disposition: str | None = None,
    seat: str | None = None,
) -> int:
    """How many calls :func:`search_calls` would page through (the history's "1–50 of 812")."""
    query = select(func.count()).select_from(_matching(number, day, disposition, seat).subquery())
    async with _sessions(source)() as session:
        return int(await session.scalar(query) or 0)


def _matching(number: str | None, day: date | None, disposition: str | None, seat: str | None) -> Select[Any]:
    query = select(Call)
    if number:
        digits = "".join(ch for ch in number if ch not in " -\t")
        if digits:
            # ILIKE: letters match in either case on both engines (SQLite's LIKE ignores ASCII case, PostgreSQL's not)
            query = query.where(Call.caller_number.ilike(f"%{escape_like(digits)}%", escape=LIKE_ESCAPE))
    if day is not None:
        start, end = wib_day_bounds(day)
        query = query.where(Call.received_at >= start, Call.received_at < end)
    if disposition:
        query = query.where(Call.disposition == disposition)
    if seat:
        query = query.where(Call.seat == seat)
    return query


async def call_by_id(source: Source, call_id: str) -> CallRecord | None:
    async with _sessions(source)() as session:
        row = await session.get(Call, call_id)
        return None if row is None else CallRecord.of(row)


async def seat_events_between(
    source: Source, start: datetime, end: datetime, lookback: timedelta = timedelta(days=1)
) -> list[SeatEventRecord]:
    """Seat moves in ``[start - lookback, end)``, in order: the earlier ones give each seat's state at ``start``
    (a seat that has not moved for longer than ``lookback`` counts as offline until it does)."""
    require_aware(start, "start")
    require_aware(end, "end")
    query = (
        select(SeatEvent)
        .where(SeatEvent.at >= start - lookback, SeatEvent.at < end)
        .order_by(SeatEvent.at, SeatEvent.id)
    )
    async with _sessions(source)() as session:
        return [SeatEventRecord.of(row) for row in await session.scalars(query)]
