"""RFC 6238 codes, the step window, replay refusal and who needs a second step (pure, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from padang112.accounts import totp

RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # base32 of the RFC's SHA-1 key "12345678901234567890"


@pytest.mark.parametrize(
    ("unix", "expected"),  # RFC 6238 appendix B, SHA-1 column (8 digits)
    [(59, "94287082"), (1111111109, "07081804"), (1111111111, "14050471"), (1234567890, "89005924"),
     (2000000000, "69279037"), (20000000000, "65353130")],
)  # fmt: skip
def test_codes_match_the_rfc_6238_test_vectors(unix: int, expected: str) -> None:
    now = datetime.fromtimestamp(unix, UTC)
    assert totp.code_at(RFC_SECRET, totp.step_at(now), digits=8) == expected
    assert totp.code_at(RFC_SECRET, totp.step_at(now)) == expected[-6:]


NOW = datetime(2026, 12, 2, 21, 0, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("offset", "last_step_offset", "result"),
    [
        (0, None, totp.Check.OK),
        (-1, None, totp.Check.OK),  # the code that just changed
        (1, None, totp.Check.OK),  # a phone a little ahead
        (-2, None, totp.Check.WRONG),  # a minute old: outside the window
        (2, None, totp.Check.WRONG),
        (0, 0, totp.Check.REPLAYED),  # this very code was accepted already
        (-1, 0, totp.Check.REPLAYED),  # an older code after a newer one
        (1, 0, totp.Check.OK),  # the next step's code is new
    ],
)
def test_a_code_counts_within_one_step_of_now_and_only_once(
    offset: int, last_step_offset: int | None, result: totp.Check
) -> None:
    secret = totp.new_secret()
    step = totp.step_at(NOW)
    last = None if last_step_offset is None else step + last_step_offset
    outcome, accepted = totp.check(secret, totp.code_at(secret, step + offset), NOW, last)
    assert outcome is result
    assert accepted == (step + offset if result is totp.Check.OK else None)


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "１２３４５６", "12 34 5x"])
def test_anything_but_six_digits_is_a_wrong_code(typed: str) -> None:
    assert totp.check(totp.new_secret(), typed, NOW, None) == (totp.Check.WRONG, None)


def test_spaces_and_dashes_between_digits_are_allowed() -> None:
    secret = totp.new_secret()
    code = totp.code_at(secret, totp.step_at(NOW))
    assert totp.check(secret, f" {code[:3]} {code[3:]} ", NOW, None)[0] is totp.Check.OK
    assert totp.check(secret, f"{code[:3]}-{code[3:]}", NOW, None)[0] is totp.Check.OK


@pytest.mark.parametrize(
    ("role", "enrolled", "required", "step"),
    [
        ("admin", False, False, totp.SecondStep.NONE),
        ("admin", True, False, totp.SecondStep.CODE),
        ("supervisor", False, True, totp.SecondStep.MISSING),
        ("supervisor", True, True, totp.SecondStep.CODE),
        ("call_taker", False, True, totp.SecondStep.NONE),  # the option binds admins and supervisors only
        ("wall", False, True, totp.SecondStep.NONE),
    ],
)
def test_who_needs_a_second_step(role: str, enrolled: bool, required: bool, step: totp.SecondStep) -> None:
    assert totp.second_step(role, enrolled, required) is step


def test_secrets_are_random_160_bit_base32_and_the_uri_names_the_account() -> None:
    secrets = {totp.new_secret() for _ in range(50)}
    assert len(secrets) == 50 and all(
        len(s) == 32 and set(s) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for s in secrets
    )
    secret = secrets.pop()
    uri = urlsplit(totp.otpauth_uri(secret, "sinta.pengawas"))
    assert (uri.scheme, uri.netloc, uri.path) == ("otpauth", "totp", "/Padang112:sinta.pengawas")
    assert parse_qs(uri.query) == {
        "secret": [secret], "issuer": ["Padang112"], "algorithm": ["SHA1"], "digits": ["6"], "period": ["30"]
    }  # fmt: skip
    assert totp.grouped("ABCDEFGHIJ") == "ABCD EFGH IJ"
