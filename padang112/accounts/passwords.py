"""Password hashing with Argon2id (argon2-cffi, RFC 9106 low-memory profile: 64 MiB, 3 passes).

Hashing costs tens of milliseconds of CPU and 64 MiB: callers on the event loop run these functions in a
worker thread (see :class:`padang112.accounts.users.UserStore`), never on the loop itself.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10
_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters


class WeakPassword(ValueError):
    """The password is refused by :func:`check_policy`; the message says why, in plain words."""


def check_policy(username: str, password: str) -> None:
    """Raise :class:`WeakPassword` for a password shorter than :data:`MIN_LENGTH` or equal to the username."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"password must be at least {MIN_LENGTH} characters")
    if password.strip().casefold() == username.strip().casefold():
        raise WeakPassword("password must not be the username")


def hash_password(password: str) -> str:
    """An encoded Argon2id hash (parameters and salt included)."""
    return _HASHER.hash(password)


def verify_password(encoded: str, password: str) -> bool:
    """True if ``password`` matches ``encoded``; False for a mismatch or a hash that cannot be read."""
    try:
        return _HASHER.verify(encoded, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(encoded: str) -> bool:
    """True when ``encoded`` was made with other parameters than today's (rehash it at the next sign-in)."""
    try:
        return _HASHER.check_needs_rehash(encoded)
    except InvalidHashError:
        return True


@cache
def dummy_hash() -> str:
    """Verified against when the username is unknown, so that an unknown name costs as long as a wrong password."""
    return hash_password("padang112: no such account")
