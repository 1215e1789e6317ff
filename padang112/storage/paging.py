"""One page of a list a person works from: ``limit`` rows from ``offset``, and how many there are in all.

At earthquake volume (hundreds of abandoned callers, open incidents, waiting calls) a screen shows one page and
the total, never every row: the total comes from a ``COUNT`` over the same query, the rows from the same query
with ``LIMIT``/``OFFSET``, in one read transaction so both describe the same moment.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")
U = TypeVar("U")

MAX_LIMIT = 200


@dataclass(frozen=True)
class Window:
    """Which rows to show: ``limit`` (1..MAX_LIMIT) starting at ``offset`` (0-based)."""

    limit: int = 25
    offset: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_LIMIT:
            raise ValueError(f"limit must be 1..{MAX_LIMIT}")
        if self.offset < 0:
            raise ValueError("offset must be >= 0")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    total: int
    window: Window

    def map(self, fn: Callable[[T], U]) -> Page[U]:
        return Page([fn(item) for item in self.items], self.total, self.window)

    def envelope(self) -> dict[str, int]:
        """The page's place in the whole list, for a JSON answer: ``total``, ``limit``, ``offset``."""
        return {"total": self.total, "limit": self.window.limit, "offset": self.window.offset}


async def count_and_slice(session: AsyncSession, query: Select[Any], window: Window) -> tuple[int, Sequence[Any]]:
    """``(total rows of query, the window's rows)``; ``query`` must be ordered (a stable order makes pages stable)."""
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = (await session.scalars(query.limit(window.limit).offset(window.offset))).unique().all()
    return int(total or 0), rows
