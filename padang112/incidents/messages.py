"""Requests for more information: an agency asks the 112 room about an incident, a call taker or supervisor answers.

A question is an ``incident_messages`` row with ``reply_to`` None and the asking agency in ``agency``; each answer
points at its question (``reply_to``) and carries the question's agency, so one agency's thread is found by that
column. The first answer sets the question's ``answered_at``: the unanswered ones need no join. Every message is
also an ``incident_events`` row (``info_requested`` / ``info_answered`` with the text), so the incident's audit
trail tells the whole story with who and when. A message does not change the incident's ``version``: it must not
make a concurrent edit of the incident fail.

Text is stored as typed, HTML included (escaping is the page's job); only emptiness and length are checked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from padang112.incidents.model import AGENCY_NAMES, IncidentState
from padang112.incidents.service import Publish, incident_view
from padang112.incidents.store import IncidentNotFound, IncidentStore
from padang112.storage.clocked import ClockedStore
from padang112.storage.models import AgencyTaskRow, IncidentEventRow, IncidentMessageRow, IncidentRow
from padang112.wib import iso_exact as iso_wib

log = logging.getLogger(__name__)

MAX_TEXT = 1000


class MessageError(ValueError):
    """A message the rules refuse; ``code`` names it for the API, with Indonesian and English text."""

    def __init__(self, code: str, text_id: str, text_en: str) -> None:
        super().__init__(text_en)
        self.code, self.text_id, self.text_en = code, text_id, text_en


def clean_text(value: object) -> str:
    """The message stripped, or :class:`MessageError` when it is not text, empty, or longer than :data:`MAX_TEXT`."""
    if not isinstance(value, str):
        raise MessageError("bad_text", "Pesan harus berupa teks.", "The message must be text.")
    text = value.strip()
    if not text:
        raise MessageError("empty_text", "Pesan tidak boleh kosong.", "The message cannot be empty.")
    if len(text) > MAX_TEXT:
        raise MessageError(
            "text_too_long",
            f"Pesan maksimal {MAX_TEXT} karakter.",
            f"The message can be at most {MAX_TEXT} characters.",
        )
    return text


@dataclass(frozen=True)
class Message:
    id: int
    incident_id: int
    agency: str
    reply_to: int | None
    text: str
    by: str
    by_role: str
    at: datetime
    answered_at: datetime | None

    @classmethod
    def of(cls, row: IncidentMessageRow) -> Message:
        return cls(
            id=row.id,
            incident_id=row.incident_id,
            agency=row.agency,
            reply_to=row.reply_to,
            text=row.text,
            by=row.by,
            by_role=row.by_role,
            at=row.at,
            answered_at=row.answered_at,
        )


@dataclass(frozen=True)
class Thread:
    """A question with its answers, oldest first, and the incident's number (for lists across incidents)."""

    question: Message
    answers: tuple[Message, ...]
    incident_number: str


def message_view(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "incident_id": message.incident_id,
        "agency": message.agency,
        "agency_name": AGENCY_NAMES.get(message.agency, message.agency),
        "reply_to": message.reply_to,
        "text": message.text,
        "by": message.by,
        "by_role": message.by_role,
        "at": iso_wib(message.at),
        "answered_at": iso_wib(message.answered_at),
    }


def thread_view(thread: Thread) -> dict[str, Any]:
    return {
        **message_view(thread.question),
        "incident_number": thread.incident_number,
        "answers": [message_view(a) for a in thread.answers],
    }


class MessageStore(ClockedStore):
    """Writes (one ``BEGIN IMMEDIATE`` transaction each, with the audit event) and reads of the threads."""

    async def ask(self, incident_id: int, agency: str, text: str, by: str, by_role: str) -> Thread:
        """Store ``agency``'s question. Raises :class:`IncidentNotFound` when the incident has no task of that
        agency, :class:`MessageError` (``incident_closed``) when the incident is closed."""
        now = self._now()
        async with self._write.begin() as session:
            incident = await session.get(IncidentRow, incident_id)
            task = await session.scalar(
                select(AgencyTaskRow.id).where(AgencyTaskRow.incident_id == incident_id, AgencyTaskRow.agency == agency)
            )
            if incident is None or task is None:
                raise IncidentNotFound(f"incident {incident_id} has no task for {agency!r}")
            if incident.state == IncidentState.CLOSED.value:
                raise MessageError("incident_closed", "Kejadian ini sudah ditutup.", "This incident is closed.")
            row = IncidentMessageRow(
                incident_id=incident_id,
                agency=agency,
                reply_to=None,
                text=text,
                by=by,
                by_role=by_role,
                at=now,
                answered_at=None,
            )
            session.add(row)
            await session.flush()
            _audit(session, row, "info_requested", {"message_id": row.id, "text": text})
            return Thread(Message.of(row), (), incident.number)

    async def answer(self, incident_id: int, question_id: int, text: str, by: str, by_role: str) -> Thread:
        """Store an answer to question ``question_id`` of that incident; raises :class:`IncidentNotFound` if there is
        no such question (an unknown id, an answer's id, or a question of another incident)."""
        now = self._now()
        async with self._write.begin() as session:
            question = await session.get(IncidentMessageRow, question_id)
            if question is None or question.incident_id != incident_id or question.reply_to is not None:
                raise IncidentNotFound(f"incident {incident_id} has no request {question_id}")
            row = IncidentMessageRow(
                incident_id=incident_id,
                agency=question.agency,
                reply_to=question.id,
                text=text,
                by=by,
                by_role=by_role,
                at=now,
                answered_at=None,
            )
            session.add(row)
            if question.answered_at is None:
                question.answered_at = now
            await session.flush()
            _audit(session, row, "info_answered", {"message_id": row.id, "reply_to": question.id, "text": text})
            number = await session.scalar(select(IncidentRow.number).where(IncidentRow.id == incident_id))
            [thread] = await _threads(session, [(question, number or "")])
            return thread

    async def for_incident(self, incident_id: int, agency: str | None = None) -> list[Thread]:
        """The incident's threads, oldest first; only ``agency``'s when given."""
        query = _questions().where(IncidentMessageRow.incident_id == incident_id)
        if agency is not None:
            query = query.where(IncidentMessageRow.agency == agency)
        return await self._load(query)

    async def threads(
        self, *, unanswered_only: bool, agency: str | None = None, created_by: str | None = None
    ) -> list[Thread]:
        """Threads on incidents not closed, oldest first; narrowed to an agency's, or to the incidents a call taker
        created (``created_by``); with ``unanswered_only``, the questions nobody answered yet."""
        query = _questions().where(IncidentRow.state != IncidentState.CLOSED.value)
        if unanswered_only:
            query = query.where(IncidentMessageRow.answered_at.is_(None))
        if agency is not None:
            query = query.where(IncidentMessageRow.agency == agency)
        if created_by is not None:
            query = query.where(IncidentRow.created_by == created_by)
        return await self._load(query)

    async def _load(self, query: Any) -> list[Thread]:
        async with self._read() as session:
            return await _threads(session, [(row, number) for row, number in (await session.execute(query)).all()])


def _questions() -> Any:
    return (
        select(IncidentMessageRow, IncidentRow.number)
        .join(IncidentRow, IncidentRow.id == IncidentMessageRow.incident_id)
        .where(IncidentMessageRow.reply_to.is_(None))
        .order_by(IncidentMessageRow.id)
    )


async def _threads(session: AsyncSession, questions: list[tuple[IncidentMessageRow, str]]) -> list[Thread]:
    if not questions:
        return []
    answers: dict[int, list[Message]] = {row.id: [] for row, _ in questions}
    rows = await session.scalars(
        select(IncidentMessageRow).where(IncidentMessageRow.reply_to.in_(list(answers))).order_by(IncidentMessageRow.id)
    )
    for row in rows:
        answers[row.reply_to or 0].append(Message.of(row))
    return [Thread(Message.of(row), tuple(answers[row.id]), number) for row, number in questions]


def _audit(session: AsyncSession, row: IncidentMessageRow, kind: str, data: dict[str, Any]) -> None:
    session.add(
        IncidentEventRow(
            incident_id=row.incident_id,
            at=row.at,
            by=row.by,
            kind=kind,
            agency=row.agency,
            from_state=None,
            to_state=None,
            data=data,
        )
    )


class InfoDesk:
    """The use cases: store, then push ``{"type": "info_request", "change": "asked"|"answered", "request": thread,
    "incident": incident}`` (the incident decides who may see it, see :mod:`padang112.web.incidents`)."""

    def __init__(self, messages: MessageStore, incidents: IncidentStore, publish: Publish) -> None:
        self.messages = messages
        self._incidents = incidents
        self._publish = publish

    async def ask(self, incident_id: int, agency: str, text: str, by: str, by_role: str) -> dict[str, Any]:
        return await self._published(await self.messages.ask(incident_id, agency, text, by, by_role), "asked")

    async def answer(self, incident_id: int, question_id: int, text: str, by: str, by_role: str) -> dict[str, Any]:
        thread = await self.messages.answer(incident_id, question_id, text, by, by_role)
        return await self._published(thread, "answered")

    async def threads_view(self, **scope: Any) -> list[dict[str, Any]]:
        return [thread_view(t) for t in await self.messages.threads(**scope)]

    async def incident_threads_view(self, incident_id: int, agency: str | None = None) -> list[dict[str, Any]]:
        return [thread_view(t) for t in await self.messages.for_incident(incident_id, agency)]

    async def _published(self, thread: Thread, change: str) -> dict[str, Any]:
        view = thread_view(thread)
        incident = await self._incidents.get(thread.question.incident_id)
        try:
            if incident is not None:
                self._publish(
                    {"type": "info_request", "change": change, "request": view, "incident": incident_view(incident)}
                )
        except Exception:  # stored; a console missing it reloads on its next message
            log.exception("publishing info_request failed")
        return view
