"""Password hashing with Argon2id (argon2-cffi, RFC 9106 low-memory profile: 64 MiB, 3 passes).

Hashing costs tens of milliseconds of CPU and 64 MiB: callers on the event loop run these functions in a
worker thread (see :class:`padang112.accounts.users.UserStore`), never on the loop itself.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10
_DECORATION = re.compile(r"[\d\W_]+$")  # what people add to a common word: "sunshine2026!"
_CONTEXT_WORDS = frozenset({"padang", "padang112", "commandcenter", "bpbd", "damkar", "admin", "supervisor"})
_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters


class WeakPassword(ValueError):
    """The password is refused by :func:`check_policy`; the message says why, in plain words."""


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list ``padang112/data/common_passwords.txt`` (source and licence in its header), casefolded."""
    text = resources.files("padang112.data").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.casefold() for line in text.splitlines() if line and not line.startswith("#"))


def check_policy(username: str, password: str) -> None:
    """Raise :class:`WeakPassword` for a password shorter than :data:`MIN_LENGTH`, equal to the username, on the
    common-password list, or such a word (or the username, or a word of this center) with digits or symbols
    added at the end, or one character repeated."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"password must be at least {MIN_LENGTH} characters")
    folded = password.strip().casefold()
    name = username.strip().casefold()
    if folded == name:
        raise WeakPassword("password must not be the username")
    base = _DECORATION.sub("", folded)
    common = common_passwords()
    if folded in common or (len(base) >= 4 and (base in common or base in _CONTEXT_WORDS or base == name)):
        raise WeakPassword("password is too common (it is on the list of leaked passwords, or one with digits added)")
    if len(set(folded)) <= 2:
        raise WeakPassword("password must not repeat one or two characters")


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
