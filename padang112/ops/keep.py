"""Keep marks: a call or an incident retention must not delete (a legal hold), set by a supervisor or admin.

Marking an incident keeps its call too. A mark is never deleted, only released (who and when are stored),
so the table is its own audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from padang112.incidents.model import IncidentState
from padang112.storage.clocked import ClockedStore
from padang112.storage.models import Call, IncidentRow, KeepMark

SUBJECTS = ("call", "incident")
MAX_REASON = 500


class KeepError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code  # bad_subject | not_found | no_reason | not_active


@dataclass(frozen=True)
class Mark:
    id: int
    subject: str
    subject_id: str
    reason: str
    marked_by: str
    marked_at: datetime
    released_by: str | None
    released_at: datetime | None

    @classmethod
    def of(cls, row: KeepMark) -> Mark:
        return cls(
            row.id,
            row.subject,
            row.subject_id,
            row.reason,
            row.marked_by,
            row.marked_at,
            row.released_by,
            row.released_at,
        )

    def view(self) -> dict[str, object]:
        return {
            "id": self.id,
            "subject": self.subject,
            "subject_id": self.subject_id,
            "reason": self.reason,
            "marked_by": self.marked_by,
            "marked_at": self.marked_at.isoformat(),
            "released_by": self.released_by,
            "released_at": self.released_at.isoformat() if self.released_at else None,
        }


class KeepStore(ClockedStore):
    async def mark(self, subject: str, subject_id: str, reason: str, by: str) -> Mark:
        if subject not in SUBJECTS:
            raise KeepError("bad_subject", f"subject must be one of {', '.join(SUBJECTS)}")
        reason = reason.strip()
        if not reason or len(reason) > MAX_REASON:
            raise KeepError("no_reason", f"a reason (1-{MAX_REASON} characters) is required")
        async with self._write.begin() as session:
            if not await _exists(session, subject, subject_id):
                raise KeepError("not_found", f"no {subject} {subject_id!r}")
            row = KeepMark(subject=subject, subject_id=subject_id, reason=reason, marked_by=by, marked_at=self._now())
            session.add(row)
        return Mark.of(row)

    async def release(self, mark_id: int, by: str) -> Mark:
        async with self._write.begin() as session:
            row = await session.get(KeepMark, mark_id)
            if row is None or row.released_at is not None:
                raise KeepError("not_active", f"no active keep mark {mark_id}")
            row.released_by, row.released_at = by, self._now()
        return Mark.of(row)

    async def active(self) -> list[Mark]:
        async with self._read() as session:
            rows = await session.scalars(select(KeepMark).where(KeepMark.released_at.is_(None)).order_by(KeepMark.id))
            return [Mark.of(r) for r in rows]


async def _exists(session: AsyncSession, subject: str, subject_id: str) -> bool:
    if subject == "call":
        return await session.get(Call, subject_id) is not None
    return subject_id.isdigit() and await session.get(IncidentRow, int(subject_id)) is not None


async def protected_call_ids(session: AsyncSession) -> set[str]:
    """Calls retention must leave alone: marked keep, or the call of an incident that is open or marked keep."""
    marks = (
        await session.execute(select(KeepMark.subject, KeepMark.subject_id).where(KeepMark.released_at.is_(None)))
    ).all()
    kept_incidents = {int(sid) for subject, sid in marks if subject == "incident" and sid.isdigit()}
    calls = {sid for subject, sid in marks if subject == "call"}
    query = select(IncidentRow.call_id).where(
        IncidentRow.call_id.is_not(None),
        (IncidentRow.state != IncidentState.CLOSED.value) | IncidentRow.id.in_(kept_incidents),
    )
    calls |= {cid for cid in await session.scalars(query) if cid}
    return calls
