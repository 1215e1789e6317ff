"""Sign-in back-off per (account, client address): guessing slows down, the account stays usable.

The account lock this replaces (5 wrong passwords lock the account, even against the right one) let anyone who
knew a username keep a call taker out of the console. Here only the pair that failed waits: after
:data:`FREE_FAILURES` consecutive failures from one address for one name, that address must wait
:data:`FIRST_WAIT` before its next try for that name, doubling with each further failure up to :data:`MAX_WAIT`.
The same user from another address (their own desk) signs in as usual; a success clears the pair.

Unknown names are treated exactly like real ones, and a waiting pair gets the same answer as a wrong password
(see :meth:`padang112.accounts.users.UserStore.authenticate`), so nothing here tells which names exist.

The waits are rows of ``sign_in_waits``: restarting the console (or crashing it on purpose) does not give a
guesser a fresh round. A second scope, ``code``, counts wrong second-factor codes per account from any address
(:data:`ANY_CLIENT`): whoever gets that far already has the password, so the account itself must slow down.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112.accounts.users import Clock, utc_now
from padang112.storage.db import for_writing, session_factory
from padang112.storage.models import SignInWait

FREE_FAILURES = 5
FIRST_WAIT = timedelta(minutes=5)
MAX_WAIT = timedelta(hours=1)
FORGET_AFTER = timedelta(days=1)  # a row not waiting and untouched this long is pruned
PASSWORD, CODE = "password", "code"
ANY_CLIENT = "*"
_MAX_NAME, _MAX_CLIENT = 128, 64


def wait_after(failures: int, now: datetime) -> datetime | None:
    """Until when a name must wait after ``failures`` consecutive failures (None: it may try again now)."""
    if failures < FREE_FAILURES:
        return None
    doublings = min(failures - FREE_FAILURES, 16)
    return now + min(FIRST_WAIT * 2**doublings, MAX_WAIT)


class LoginBackoff:
    def __init__(self, engine: AsyncEngine, clock: Clock = utc_now, *, scope: str = PASSWORD) -> None:
        self._read = session_factory(engine)
        self._write = session_factory(for_writing(engine))
        self._clock = clock
        self._scope = scope

    def _key(self, username: str, client: str) -> tuple[str, str, str]:
        return self._scope, username[:_MAX_NAME], client[:_MAX_CLIENT]

    async def waiting(self, username: str, client: str = ANY_CLIENT) -> bool:
        """True while this address must wait before trying this name again."""
        async with self._read() as session:
            row = await session.get(SignInWait, self._key(username, client))
            return row is not None and row.wait_until is not None and row.wait_until > self._clock()

    async def failed(self, username: str, client: str = ANY_CLIENT) -> None:
        now = self._clock()
        async with self._write.begin() as session:
            await session.execute(
                delete(SignInWait).where(
                    SignInWait.updated_at < now - FORGET_AFTER,
                    (SignInWait.wait_until.is_(None)) | (SignInWait.wait_until < now),
                )
            )
            row = await session.get(SignInWait, self._key(username, client))
            if row is None:
                scope, name, address = self._key(username, client)
                row = SignInWait(scope=scope, username=name, client=address, failures=0, updated_at=now)
                session.add(row)
            row.failures += 1
            row.wait_until, row.updated_at = wait_after(row.failures, now), now

    async def succeeded(self, username: str, client: str = ANY_CLIENT) -> None:
        scope, name, address = self._key(username, client)
        async with self._write.begin() as session:
            await session.execute(
                delete(SignInWait).where(
                    SignInWait.scope == scope, SignInWait.username == name, SignInWait.client == address
                )
            )
