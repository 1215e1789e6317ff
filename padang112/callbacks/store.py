"""Callback items and their trail in the database; every change writes a ``callback_events`` row.

Each write reads the row, checks the state the domain allows and writes, in one ``BEGIN IMMEDIATE`` transaction,
so two call takers taking one item cannot both succeed.

Every call the room receives and every call it connects is shown to the list (:meth:`CallbackStore.arrived`,
:meth:`CallbackStore.answered`), and almost always there is nothing to note: those two first look without the
write lock, and take it (and look again) only when an item is there. So a busy room's calls do not queue a write
transaction each behind the event writer's commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, case, func, select

from padang112.domain.callbacks import ACTIVE, TAKEABLE, CallbackState
from padang112.storage.busy import busy_retried
from padang112.storage.clocked import ClockedStore
from padang112.storage.models import CallbackEventRow, CallbackRow
from padang112.storage.paging import Page, Window, count_and_slice

SYSTEM = "system"
_ACTIVE_BY_DEADLINE = (
    select(CallbackRow)
    .where(CallbackRow.state.in_([s.value for s in ACTIVE]))
    .order_by(CallbackRow.deadline, CallbackRow.id)
)


def _open_for(number: str) -> Select[CallbackRow]:
    """The number's open item (an item being dialled or connected is not matched by a new call)."""
    open_item = CallbackRow.state == CallbackState.OPEN.value
    return select(CallbackRow).where(CallbackRow.number == number, open_item).limit(1)


def _matched_by(call_id: str) -> Select[CallbackRow]:
    """The open item that ``call_id`` (a new call from its number) was noted on."""
    return (
        select(CallbackRow)
        .where(CallbackRow.matched_call_id == call_id, CallbackRow.state == CallbackState.OPEN.value)
        .limit(1)
    )


class CallbackError(Exception):
    """A move the item's state does not allow (``code`` for the API)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Callback:
    id: int
    number: str
    carrier: str
    first_call_id: str
    last_call_id: str
    abandoned_calls: int
    state: CallbackState
    created_at: datetime
    deadline: datetime
    attempts: int
    last_outcome: str | None
    taken_by: str | None
    seat: str | None
    matched_call_id: str | None
    closed_at: datetime | None

    @classmethod
    def of(cls, row: CallbackRow) -> Callback:
        return cls(
            row.id,
            row.number,
            row.carrier,
            row.first_call_id,
            row.last_call_id,
            row.abandoned_calls,
            CallbackState(row.state),
            row.created_at,
            row.deadline,
            row.attempts,
            row.last_outcome,
            row.taken_by,
            row.seat,
            row.matched_call_id,
            row.closed_at,
        )


class CallbackStore(ClockedStore):
    @busy_retried
    async def abandoned(self, call_id: str, number: str, carrier: str, deadline_s: float) -> Callback:
        """A caller hung up unanswered: a new item, or one more abandoned call on the number's open item."""
        now = self._now()
        async with self._write.begin() as session:
            row = await self._active_for(session, number)
            if row is None:
                row = CallbackRow(
                    number=number,
                    carrier=carrier,
                    first_call_id=call_id,
                    last_call_id=call_id,
                    abandoned_calls=1,
                    state=CallbackState.OPEN.value,
                    created_at=now,
                    deadline=now + timedelta(seconds=deadline_s),
                    attempts=0,
                )
                session.add(row)
                await session.flush()
                self._event(session, row, now, SYSTEM, "created", {"call_id": call_id, "carrier": carrier})
            else:
                row.abandoned_calls += 1
                row.last_call_id = call_id
                self._event(session, row, now, SYSTEM, "abandoned_again", {"call_id": call_id})
            return Callback.of(row)

    async def arrived(self, call_id: str, number: str) -> Callback | None:
        """The number calls 112 again: note the new call on its open item (matched once that call is answered)."""
        if not await self._any(_open_for(number)):
            return None
        return await self._arrived(call_id, number)

    @busy_retried
    async def _arrived(self, call_id: str, number: str) -> Callback | None:
        now = self._now()
        async with self._write.begin() as session:
            row = (await session.scalars(_open_for(number))).first()
            if row is None:
                return None
            row.matched_call_id = call_id
            self._event(session, row, now, SYSTEM, "called_again", {"call_id": call_id})
            return Callback.of(row)

    async def answered(self, call_id: str) -> Callback | None:
        """That new call reached a call taker: nobody needs to call the number back any more."""
        if not await self._any(_matched_by(call_id)):
            return None
        return await self._answered(call_id)

    @busy_retried
    async def _answered(self, call_id: str) -> Callback | None:
        now = self._now()
        async with self._write.begin() as session:
            row = (await session.scalars(_matched_by(call_id))).first()
            if row is None:
                return None
            row.state, row.closed_at = CallbackState.MATCHED.value, now
            self._event(session, row, now, SYSTEM, "matched", {"call_id": call_id})
            return Callback.of(row)

    @busy_retried
    async def take(self, callback_id: int, by: str, seat: str) -> Callback:
        now = self._now()
        async with self._write.begin() as session:
            row = await self._row(session, callback_id)
            if CallbackState(row.state) not in TAKEABLE:
                raise CallbackError("not_open", f"callback {callback_id} is {row.state}")
            row.state, row.taken_by, row.seat = CallbackState.DIALING.value, by, seat
            row.attempts += 1
            self._event(session, row, now, by, "dialing", {"seat": seat, "attempt": row.attempts})
            return Callback.of(row)

    @busy_retried
    async def connected(self, callback_id: int, recording: str) -> Callback:
        now = self._now()
        async with self._write.begin() as session:
            row = await self._row(session, callback_id)
            row.state, row.last_outcome = CallbackState.CONNECTED.value, "reached"
            self._event(session, row, now, row.taken_by or SYSTEM, "connected", {"recording": recording})
            return Callback.of(row)

    @busy_retried
    async def attempt_ended(self, callback_id: int, outcome: str) -> Callback:
        """The attempt is over: ``done`` if the caller was reached, else ``open`` again with the outcome."""
        now = self._now()
        async with self._write.begin() as session:
            row = await self._row(session, callback_id)
            if CallbackState(row.state) is CallbackState.CONNECTED:
                row.state, row.closed_at = CallbackState.DONE.value, now
                self._event(session, row, now, row.taken_by or SYSTEM, "done", {"outcome": "reached"})
            elif CallbackState(row.state) is CallbackState.DIALING:
                row.state, row.last_outcome = CallbackState.OPEN.value, outcome
                self._event(session, row, now, row.taken_by or SYSTEM, "attempt_failed", {"outcome": outcome})
            return Callback.of(row)

    @busy_retried
    async def refused(self, callback_id: int, by: str, seat: str, reason: str) -> Callback:
        """A call taker asked to call back a number the dial policy refuses: noted on the trail, nothing dialled."""
        now = self._now()
        async with self._write.begin() as session:
            row = await self._row(session, callback_id)
            row.last_outcome = "refused"
            self._event(session, row, now, by, "refused", {"seat": seat, "reason": reason})
            return Callback.of(row)

    async def attempts_within(self, number: str, window: timedelta) -> int:
        """Call-back attempts taken to ``number`` (on any of its items) within the last ``window`` (the daily cap)."""
        since = self._now() - window
        query = (
            select(func.count(CallbackEventRow.id))
            .join(CallbackRow, CallbackRow.id == CallbackEventRow.callback_id)
            .where(CallbackRow.number == number, CallbackEventRow.kind == "dialing", CallbackEventRow.at >= since)
        )
        async with self._read() as session:
            return int(await session.scalar(query) or 0)

    async def active(self) -> list[Callback]:
        async with self._read() as session:
            rows = (await session.scalars(_ACTIVE_BY_DEADLINE)).all()
            return [Callback.of(r) for r in rows]

    async def active_page(self, window: Window) -> Page[Callback]:
        """One page of the active items, earliest deadline first, with the total (hundreds after a surge)."""
        async with self._read() as session:
            total, rows = await count_and_slice(session, _ACTIVE_BY_DEADLINE, window)
            return Page([Callback.of(r) for r in rows], total, window)

    async def active_counts(self) -> dict[str, int]:
        """How many active items are in each state, and how many of them are past their deadline."""
        async with self._read() as session:
            rows = (
                await session.execute(
                    select(
                        CallbackRow.state,
                        func.count(),
                        func.sum(case((CallbackRow.deadline < self._now(), 1), else_=0)),
                    )
                    .where(CallbackRow.state.in_([s.value for s in ACTIVE]))
                    .group_by(CallbackRow.state)
                )
            ).all()
        counts = {s.value: 0 for s in ACTIVE} | {state: int(n) for state, n, _ in rows}
        return counts | {"overdue": sum(int(late or 0) for _, _, late in rows)}

    async def get(self, callback_id: int) -> Callback | None:
        async with self._read() as session:
            row = await session.get(CallbackRow, callback_id)
            return None if row is None else Callback.of(row)

    async def events(self, callback_id: int) -> list[dict[str, Any]]:
        async with self._read() as session:
            rows = (
                await session.scalars(
                    select(CallbackEventRow)
                    .where(CallbackEventRow.callback_id == callback_id)
                    .order_by(CallbackEventRow.id)
                )
            ).all()
            return [{"at": r.at, "by": r.by, "kind": r.kind, "data": r.data} for r in rows]

    async def _any(self, query: Select[CallbackRow]) -> bool:
        """Does ``query`` find a row? (A read: no write lock.)"""
        async with self._read() as session:
            return (await session.scalar(query.with_only_columns(CallbackRow.id))) is not None

    @staticmethod
    async def _active_for(session: Any, number: str) -> CallbackRow | None:
        return (
            await session.scalars(
                select(CallbackRow)
                .where(CallbackRow.number == number, CallbackRow.state.in_([s.value for s in ACTIVE]))
                .limit(1)
            )
        ).first()

    @staticmethod
    async def _row(session: Any, callback_id: int) -> CallbackRow:
        row = await session.get(CallbackRow, callback_id)
        if row is None:
            raise CallbackError("no_callback", f"no callback {callback_id}")
        return row

    @staticmethod
    def _event(session: Any, row: CallbackRow, at: datetime, by: str, kind: str, data: dict[str, Any]) -> None:
        session.add(CallbackEventRow(callback_id=row.id, at=at, by=by, kind=kind, data=data))
