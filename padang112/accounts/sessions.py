"""Server-side sign-in sessions.

The browser holds a random token; the database holds only its SHA-256, so a copy of the database (a backup)
opens no session. Unlike a signed cookie, a session ends for good when the user signs out, is disabled or
gets a new password. A session also ends after :attr:`SessionStore.idle_timeout` without a request and after
:attr:`SessionStore.absolute_lifetime` in any case. ``last_seen_at`` is written at most once per
:data:`TOUCH_EVERY`, so that reading pages does not turn into a stream of writes on the shared SQLite file.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112.accounts.users import Clock, UserRecord, to_record, utc_now
from padang112.storage.db import for_writing, session_factory
from padang112.storage.models import User, WebSession

TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class NewSession:
    token: str  # goes into the cookie, nowhere else
    csrf_token: str


@dataclass(frozen=True)
class ActiveSession:
    user: UserRecord
    csrf_token: str


def _key(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


class SessionStore:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        idle_timeout: timedelta,
        absolute_lifetime: timedelta,
        clock: Clock = utc_now,
        role_lifetimes: dict[str, timedelta] | None = None,
    ) -> None:
        """``role_lifetimes``: a different absolute lifetime for some roles (the wall's kiosk account)."""
        self._read = session_factory(engine)
        self._write = session_factory(for_writing(engine))
        self.idle_timeout = idle_timeout
        self.absolute_lifetime = absolute_lifetime
        self.role_lifetimes = dict(role_lifetimes or {})
        self._clock = clock

    async def open(self, user_id: int) -> NewSession:
        new = NewSession(token=secrets.token_urlsafe(32), csrf_token=secrets.token_urlsafe(32))
        now = self._clock()
        async with self._write.begin() as session:
            session.add(
                WebSession(
                    id=_key(new.token), user_id=user_id, csrf_token=new.csrf_token, created_at=now, last_seen_at=now
                )
            )
        return new

    async def resolve(self, token: str, *, touch: bool = True) -> ActiveSession | None:
        """The session and its user, or None if it is unknown, expired (then removed) or its user disabled.

        ``touch=False``: a check that is not the user's activity (the live socket's re-check) and so does not
        postpone the idle timeout.
        """
        key, now = _key(token), self._clock()
        async with self._read() as session:
            row = (
                await session.execute(
                    select(WebSession, User).join(User, User.id == WebSession.user_id).where(WebSession.id == key)
                )
            ).one_or_none()
        if row is None:
            return None
        web_session, user = row
        expired = (
            now - web_session.last_seen_at >= self.idle_timeout
            or now - web_session.created_at >= self.role_lifetimes.get(user.role, self.absolute_lifetime)
        )
        if expired or user.disabled:
            await self.close(token)
            return None
        if touch and now - web_session.last_seen_at >= TOUCH_EVERY:
            async with self._write.begin() as session:
                await session.execute(update(WebSession).where(WebSession.id == key).values(last_seen_at=now))
        return ActiveSession(user=to_record(user), csrf_token=web_session.csrf_token)

    async def close(self, token: str) -> None:
        async with self._write.begin() as session:
            await session.execute(delete(WebSession).where(WebSession.id == _key(token)))

    async def purge_expired(self) -> int:
        """Remove sessions nobody can use any more (housekeeping); returns how many."""
        now = self._clock()
        async with self._write.begin() as session:
            result = await session.execute(
                delete(WebSession).where(
                    (WebSession.last_seen_at <= now - self.idle_timeout)
                    | (WebSession.created_at <= now - max([self.absolute_lifetime, *self.role_lifetimes.values()]))
                )
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]
