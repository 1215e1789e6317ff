"""The second factor's storage: enrol, reset (recovery by an admin) and check a TOTP code, each audited.

A code is checked and the account's ``totp_last_step`` advanced in one ``BEGIN IMMEDIATE`` transaction, so two
sign-ins racing with the same code cannot both pass. Enrolling or resetting ends the account's sessions: a
session opened with the password alone must not outlive the rule that now asks for a code.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from padang112.accounts import totp
from padang112.accounts.users import AccountError, Clock, UserRecord, normalize_username, to_record, utc_now
from padang112.storage.db import for_writing, session_factory
from padang112.storage.models import AuditEntry, User, WebSession


@dataclass(frozen=True)
class Enrolment:
    username: str
    secret: str
    uri: str


class SecondFactorStore:
    def __init__(self, engine: AsyncEngine, *, clock: Clock = utc_now) -> None:
        self._write = session_factory(for_writing(engine))
        self._clock = clock

    async def _user(self, session: AsyncSession, username: str) -> User:
        name = normalize_username(username)
        user = (await session.execute(select(User).where(User.username == name))).scalar_one_or_none()
        if user is None:
            raise AccountError(f"no user {name!r}")
        return user

    def _audit(self, session: AsyncSession, action: str, username: str, **detail: object) -> None:
        session.add(AuditEntry(at=self._clock(), username=username, action=action, detail=detail))

    async def enrol(
        self, username: str, *, by: str, secret: str | None = None, confirmed_step: int | None = None
    ) -> Enrolment:
        """A secret (``secret``, confirmed with the code of ``confirmed_step``, which is then used up; or a new one)
        for an admin or supervisor who has none (reset first to replace one)."""
        async with self._write.begin() as session:
            user = await self._user(session, username)
            if user.role not in totp.ROLES:
                raise AccountError(f"a second factor is for the roles {', '.join(totp.ROLES)}, not {user.role!r}")
            if user.totp_secret is not None:
                raise AccountError(f"{user.username} already has a second factor; reset it first (totp-reset)")
            user.totp_secret, user.totp_last_step = secret or totp.new_secret(), confirmed_step
            user.updated_at = self._clock()
            await session.execute(delete(WebSession).where(WebSession.user_id == user.id))
            self._audit(session, "totp_enrolled", user.username, by=by)
            return Enrolment(user.username, user.totp_secret, totp.otpauth_uri(user.totp_secret, user.username))

    async def reset(self, username: str, *, by: str) -> None:
        """Recovery (a lost phone): the secret goes; the user signs in with the password and enrols again."""
        async with self._write.begin() as session:
            user = await self._user(session, username)
            if user.totp_secret is None:
                raise AccountError(f"{user.username} has no second factor")
            user.totp_secret, user.totp_last_step = None, None
            user.updated_at = self._clock()
            await session.execute(delete(WebSession).where(WebSession.user_id == user.id))
            self._audit(session, "totp_reset", user.username, by=by)

    async def check(
        self, user_id: int, code: str, *, client: str, waiting: bool = False
    ) -> tuple[totp.Check, UserRecord | None]:
        """Check the second step of ``user_id``'s sign-in: OK (with the user) advances its last step.

        ``waiting``: the account's code back-off runs; the code is not even looked at (answered as wrong).
        """
        async with self._write.begin() as session:
            user = await session.get(User, user_id)
            if user is None or user.disabled or user.totp_secret is None:
                return totp.Check.WRONG, None
            if waiting:
                self._audit(session, "login_refused", user.username, client=client, reason="backoff_code")
                return totp.Check.WRONG, None
            result, step = totp.check(user.totp_secret, code, self._clock(), user.totp_last_step)
            if result is totp.Check.OK:
                user.totp_last_step = step
                self._audit(session, "login", user.username, client=client, second_factor="totp")
                return result, to_record(user)
            self._audit(session, "login_failed", user.username, client=client, reason=result.value)
            return result, None
