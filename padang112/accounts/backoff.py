"""Sign-in back-off per (account, client address): guessing slows down, the account stays usable.

The account lock this replaces (5 wrong passwords lock the account, even against the right one) let anyone who
knew a username keep a call taker out of the console. Here only the pair that failed waits: after
:data:`FREE_FAILURES` consecutive failures from one address for one name, that address must wait
:data:`FIRST_WAIT` before its next try for that name, doubling with each further failure up to :data:`MAX_WAIT`.
The same user from another address (their own desk) signs in as usual; a success clears the pair.

Unknown names are treated exactly like real ones, and a waiting pair gets the same answer as a wrong password
(see :meth:`padang112.accounts.users.UserStore.authenticate`), so nothing here tells which names exist.

In memory: one process serves the console. A restart forgets the waits, which at worst gives a guesser one
more round; the per-address limit of the sign-in form and the refused common passwords still hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from padang112.accounts.users import Clock, utc_now

FREE_FAILURES = 5
FIRST_WAIT = timedelta(minutes=5)
MAX_WAIT = timedelta(hours=1)
_MAX_PAIRS = 10_000  # above this, pairs with nothing left to wait for are forgotten


@dataclass
class _Pair:
    failures: int = 0
    until: datetime | None = None  # no try before this


class LoginBackoff:
    def __init__(self, clock: Clock = utc_now) -> None:
        self._clock = clock
        self._pairs: dict[tuple[str, str], _Pair] = {}

    def waiting(self, username: str, client: str) -> bool:
        """True while this address must wait before trying this name again."""
        pair = self._pairs.get((username, client))
        return pair is not None and pair.until is not None and pair.until > self._clock()

    def failed(self, username: str, client: str) -> None:
        now = self._clock()
        if len(self._pairs) >= _MAX_PAIRS:
            self._pairs = {k: p for k, p in self._pairs.items() if p.until is not None and p.until > now}
        pair = self._pairs.setdefault((username, client), _Pair())
        pair.failures += 1
        if pair.failures >= FREE_FAILURES:
            doublings = min(pair.failures - FREE_FAILURES, 16)
            pair.until = now + min(FIRST_WAIT * 2**doublings, MAX_WAIT)

    def succeeded(self, username: str, client: str) -> None:
        self._pairs.pop((username, client), None)
