"""Time-based one-time codes (RFC 6238 TOTP over RFC 4226 HOTP): the second sign-in step of admins and supervisors.

Pure functions, no I/O. Parameters are the ones every authenticator app assumes from an ``otpauth://`` URI
without options: HMAC-SHA1, 6 digits, 30-second steps. A code is accepted for its own step or the one before
or after (:data:`WINDOW`: a phone's clock a little off, a code typed as it changed), and only for a step later
than the last one accepted for that account (``users.totp_last_step``), so an overheard or shoulder-surfed
code cannot be used again, not even within its own 30 seconds.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import secrets
import struct
from datetime import datetime
from urllib.parse import quote, urlencode

ROLES = ("admin", "supervisor")  # the roles that may, or with web.require_totp must, use a second factor
STEP_S = 30
DIGITS = 6
WINDOW = 1  # steps accepted on either side of now
ISSUER = "Padang112"
SECRET_BYTES = 20  # 160 bits, as RFC 4226 recommends


class Check(enum.Enum):
    OK = "ok"
    WRONG = "wrong_code"
    REPLAYED = "replayed_code"  # right for a step already used: someone may have seen it


class SecondStep(enum.Enum):
    NONE = "none"  # password alone signs in
    CODE = "code"  # enrolled: a code is asked for after the password
    MISSING = "missing"  # web.require_totp and not enrolled: no sign-in until an admin enrols it


def second_step(role: str, enrolled: bool, required: bool) -> SecondStep:
    if enrolled:
        return SecondStep.CODE
    if required and role in ROLES:
        return SecondStep.MISSING
    return SecondStep.NONE


def new_secret() -> str:
    """A random base32 secret (32 characters, no padding)."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii").rstrip("=")


def _key(secret: str) -> bytes:
    cleaned = secret.replace(" ", "").upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def step_at(now: datetime) -> int:
    return int(now.timestamp()) // STEP_S


def code_at(secret: str, step: int, digits: int = DIGITS) -> str:
    """The HOTP value of ``secret`` for counter ``step`` (RFC 4226 section 5.3), zero-padded."""
    mac = hmac.new(_key(secret), struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def normalize_code(typed: str) -> str | None:
    """Six digits, spaces and dashes allowed between them (as apps show ``123 456``); None for anything else."""
    code = typed.replace(" ", "").replace("-", "")
    return code if len(code) == DIGITS and code.isascii() and code.isdigit() else None


def check(secret: str, typed: str, now: datetime, last_step: int | None) -> tuple[Check, int | None]:
    """Whether ``typed`` is a valid new code now; with the step it matched (to store as the last step) if so."""
    code = normalize_code(typed)
    if code is None:
        return Check.WRONG, None
    current = step_at(now)
    matched = [
        s for s in range(current - WINDOW, current + WINDOW + 1) if hmac.compare_digest(code_at(secret, s), code)
    ]
    if not matched:
        return Check.WRONG, None
    fresh = [s for s in matched if last_step is None or s > last_step]
    if not fresh:
        return Check.REPLAYED, None
    return Check.OK, max(fresh)


def otpauth_uri(secret: str, username: str) -> str:
    """``otpauth://totp/Padang112:<name>?secret=...&issuer=Padang112`` for an authenticator app."""
    label = quote(f"{ISSUER}:{username}", safe=":@")
    query = urlencode({"secret": secret, "issuer": ISSUER, "algorithm": "SHA1", "digits": DIGITS, "period": STEP_S})
    return f"otpauth://totp/{label}?{query}"


def grouped(secret: str) -> str:
    """The secret in groups of four, as a person types it into an app."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
