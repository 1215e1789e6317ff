"""The user store: accounts, sign-in checks, and the audit log they write.

No account is ever locked by wrong passwords (that let anyone keep a known user out): guessing is slowed per
(account, address) by :mod:`padang112.accounts.backoff`, whose refusals go through :meth:`UserStore.refuse` and
cost as long as a wrong password. ``failed_logins`` counts consecutive failures since the last success or new
password, for the admin's list and the audit. Every change and its audit row commit in one transaction; writes
take SQLite's write lock up front (``BEGIN IMMEDIATE``) so two failures at once both count.

Argon2 runs in worker threads, at most :data:`HASHING_SLOTS` at a time: each takes ~0.1 s of CPU and 64 MiB,
and the event loop also serves the call controller.
"""

from __future__ import annotations

import asyncio
import builtins
import enum
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from padang112.accounts import AGENCIES, ROLES, passwords, totp
from padang112.storage.db import for_writing, session_factory
from padang112.storage.models import AuditEntry, User, WebSession

Clock = Callable[[], datetime]
HASHING_SLOTS = 2
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
_MAX_TYPED_NAME = 128  # what an audit row keeps of a username typed on the sign-in form


def utc_now() -> datetime:
    return datetime.now(UTC)


class AccountError(ValueError):
    """Bad input (unknown role, weak password, no such user, ...); the message is meant for the operator."""


@dataclass(frozen=True)
class UserRecord:
    id: int
    username: str
    display_name: str
    role: str
    agency: str | None
    disabled: bool
    failed_logins: int
    created_at: datetime
    updated_at: datetime
    second_factor: bool = False  # a TOTP secret is enrolled


@dataclass(frozen=True)
class AuditRecord:
    at: datetime
    username: str | None
    action: str
    detail: dict[str, Any]


class LoginOutcome(enum.Enum):
    OK = "ok"
    BAD_CREDENTIALS = "bad_credentials"  # unknown user, wrong password or waiting: the page says the same
    DISABLED = "disabled"  # only said once the password was right
    CODE_NEEDED = "code_needed"  # right password; the second step (a TOTP code) follows
    TOTP_MISSING = "totp_missing"  # right password, but web.require_totp and no second factor enrolled


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    user: UserRecord | None = None


def normalize_username(username: str) -> str:
    return username.strip().lower()


def validate_new_user(username: str, role: str, agency: str | None, display_name: str) -> None:
    """Raise :class:`AccountError` unless these make a valid account (``username`` already normalized)."""
    if not _USERNAME.fullmatch(username):
        raise AccountError(
            "username must be 2-64 characters: a-z, 0-9, '.', '_', '-' (starting with a letter or digit)"
        )
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; one of: {', '.join(ROLES)}")
    if role == "agency" and agency not in AGENCIES:
        raise AccountError(f"role 'agency' needs --agency, one of: {', '.join(AGENCIES)}")
    if role != "agency" and agency is not None:
        raise AccountError("--agency is only for the 'agency' role")
    if not display_name.strip() or len(display_name) > 100 or not display_name.isprintable():
        raise AccountError("display name must be 1-100 printable characters")


def to_record(user: User) -> UserRecord:
    return UserRecord(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        agency=user.agency,
        disabled=user.disabled,
        failed_logins=user.failed_logins,
        created_at=user.created_at,
        updated_at=user.updated_at,
        second_factor=user.totp_secret is not None,
    )


class UserStore:
    def __init__(self, engine: AsyncEngine, *, clock: Clock = utc_now, require_totp: bool = False) -> None:
        """``require_totp``: admins and supervisors without a second factor are refused (``web.require_totp``)."""
        self._read = session_factory(engine)
        self._require_totp = require_totp
        self._write = session_factory(for_writing(engine))
        self._clock = clock
        self._hashing = asyncio.Semaphore(HASHING_SLOTS)

    async def _hash(self, password: str) -> str:
        async with self._hashing:
            return await asyncio.to_thread(passwords.hash_password, password)

    async def _verify(self, encoded: str, password: str) -> bool:
        async with self._hashing:
            return await asyncio.to_thread(passwords.verify_password, encoded, password)

    def _audit(self, session: AsyncSession, action: str, username: str | None, **detail: Any) -> None:
        session.add(AuditEntry(at=self._clock(), username=username, action=action, detail=detail))

    async def create(
        self,
        username: str,
        *,
        role: str,
        password: str,
        display_name: str | None = None,
        agency: str | None = None,
        by: str = "system",
    ) -> UserRecord:
        username = normalize_username(username)
        display_name = (display_name or username).strip()
        validate_new_user(username, role, agency, display_name)
        try:
            passwords.check_policy(username, password)
        except passwords.WeakPassword as exc:
            raise AccountError(str(exc)) from None
        encoded = await self._hash(password)
        now = self._clock()
        user = User(
            username=username,
            display_name=display_name,
            role=role,
            agency=agency,
            password_hash=encoded,
            disabled=False,
            failed_logins=0,
            created_at=now,
            updated_at=now,
        )
        try:
            async with self._write.begin() as session:
                session.add(user)
                self._audit(session, "user_created", username, role=role, agency=agency, by=by)
        except IntegrityError:
            raise AccountError(f"user {username!r} already exists") from None
        return to_record(user)

    async def set_password(self, username: str, password: str, *, by: str = "system") -> None:
        """New password; also clears the failure count and signs the user out everywhere."""
        username = normalize_username(username)
        try:
            passwords.check_policy(username, password)
        except passwords.WeakPassword as exc:
            raise AccountError(str(exc)) from None
        encoded = await self._hash(password)
        async with self._write.begin() as session:
            user = await self._require(session, username)
            user.password_hash, user.failed_logins = encoded, 0
            user.updated_at = self._clock()
            await session.execute(delete(WebSession).where(WebSession.user_id == user.id))
            self._audit(session, "password_changed", username, by=by)

    async def disable(self, username: str, *, by: str = "system") -> None:
        """Disable the account and end its sessions; its history (and audit rows) stay."""
        username = normalize_username(username)
        async with self._write.begin() as session:
            user = await self._require(session, username)
            user.disabled, user.updated_at = True, self._clock()
            await session.execute(delete(WebSession).where(WebSession.user_id == user.id))
            self._audit(session, "user_disabled", username, by=by)

    async def _require(self, session: AsyncSession, username: str) -> User:
        user = (await session.execute(select(User).where(User.username == username))).scalar_one_or_none()
        if user is None:
            raise AccountError(f"no user {username!r}")
        return user

    async def get_by_username(self, username: str) -> UserRecord | None:
        async with self._read() as session:
            query = select(User).where(User.username == normalize_username(username))
            user = (await session.execute(query)).scalar_one_or_none()
            return None if user is None else to_record(user)

    async def list(self) -> list[UserRecord]:
        async with self._read() as session:
            return [to_record(u) for u in (await session.execute(select(User).order_by(User.username))).scalars()]

    async def audit_entries(self, limit: int = 100) -> builtins.list[AuditRecord]:
        """The newest audit rows first."""
        async with self._read() as session:
            query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
            return [AuditRecord(e.at, e.username, e.action, e.detail) for e in (await session.execute(query)).scalars()]

    async def audit(self, action: str, username: str | None, **detail: Any) -> None:
        """An audit row on its own (sign-out, refused requests)."""
        async with self._write.begin() as session:
            self._audit(session, action, username, **detail)

    async def record_login_failure(self, username: str, *, client: str | None = None) -> UserRecord | None:
        """Count a wrong password (or an unknown name) in the audit log and the account's failure count."""
        typed = username[:_MAX_TYPED_NAME]
        async with self._write.begin() as session:
            query = select(User).where(User.username == normalize_username(username))
            user = (await session.execute(query)).scalar_one_or_none()
            if user is None:
                self._audit(session, "login_failed", typed, client=client, reason="unknown_user")
                return None
            now = self._clock()
            user.failed_logins += 1
            self._audit(
                session,
                "login_failed",
                user.username,
                client=client,
                reason="wrong_password",
                failures=user.failed_logins,
            )
            user.updated_at = now
            return to_record(user)

    async def record_login_success(
        self, user_id: int, *, client: str | None = None, new_hash: str | None = None, action: str = "login"
    ) -> None:
        """The password was right: failures cleared; ``action`` ``password_ok`` when a second step follows."""
        async with self._write.begin() as session:
            values: dict[str, Any] = {"failed_logins": 0, "updated_at": self._clock()}
            if new_hash is not None:
                values["password_hash"] = new_hash
            await session.execute(update(User).where(User.id == user_id).values(**values))
            name = (await session.execute(select(User.username).where(User.id == user_id))).scalar_one()
            self._audit(session, action, name, client=client)

    async def password_matches(self, username: str, password: str) -> bool:
        """Whether ``password`` is the account's (asked again before a change such as enrolling a second factor)."""
        async with self._read() as session:
            query = select(User.password_hash).where(User.username == normalize_username(username))
            encoded = (await session.execute(query)).scalar_one_or_none()
        return await self._verify(encoded or passwords.dummy_hash(), password) and encoded is not None

    async def refuse(self, username: str, password: str, *, client: str | None = None, reason: str) -> LoginResult:
        """Refuse an attempt without checking it (the pair is waiting), at a wrong password's cost and answer."""
        await self._verify(passwords.dummy_hash(), password)
        await self.audit("login_refused", username[:_MAX_TYPED_NAME], client=client, reason=reason)
        return LoginResult(LoginOutcome.BAD_CREDENTIALS)

    async def authenticate(self, username: str, password: str, *, client: str | None = None) -> LoginResult:
        """Check a sign-in attempt's password and record its outcome (counters, audit).

        ``OK`` signs in; ``CODE_NEEDED`` means the password was right and a TOTP code must follow
        (:mod:`padang112.accounts.second_factor`) before any session exists.
        """
        async with self._read() as session:
            query = select(User).where(User.username == normalize_username(username))
            user = (await session.execute(query)).scalar_one_or_none()
        if user is None:
            await self._verify(passwords.dummy_hash(), password)  # same cost as a wrong password
            await self.record_login_failure(username, client=client)
            return LoginResult(LoginOutcome.BAD_CREDENTIALS)
        if not await self._verify(user.password_hash, password):
            return LoginResult(LoginOutcome.BAD_CREDENTIALS, await self.record_login_failure(username, client=client))
        if user.disabled:
            await self.audit("login_refused", user.username, client=client, reason="disabled")
            return LoginResult(LoginOutcome.DISABLED, to_record(user))
        step = totp.second_step(user.role, user.totp_secret is not None, self._require_totp)
        if step is totp.SecondStep.MISSING:
            await self.audit("login_refused", user.username, client=client, reason="totp_missing")
            return LoginResult(LoginOutcome.TOTP_MISSING, to_record(user))
        new_hash = None
        if passwords.needs_rehash(user.password_hash):
            new_hash = await self._hash(password)
        done = step is totp.SecondStep.NONE
        await self.record_login_success(
            user.id, client=client, new_hash=new_hash, action="login" if done else "password_ok"
        )
        outcome = LoginOutcome.OK if done else LoginOutcome.CODE_NEEDED
        return LoginResult(outcome, await self.get_by_username(user.username))
