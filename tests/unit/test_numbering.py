"""Only Indonesian subscriber numbers are dialled back: every numbering rule as one row of a table."""

from __future__ import annotations

import pytest

from padang112.domain.numbering import Kind, Refusal, classify

DIALABLE = [
    # mobile: 08[1-9], NSN 9-12 digits, in national, +62 and bare 62 form
    ("081234567890", Kind.MOBILE, "081234567890"),  # Telkomsel, 12 digits
    ("+6281234567890", Kind.MOBILE, "081234567890"),
    ("6281234567890", Kind.MOBILE, "081234567890"),
    ("0812345678", Kind.MOBILE, "0812345678"),  # shortest: NSN 9
    ("0812345678901", Kind.MOBILE, "0812345678901"),  # longest: NSN 12
    ("085612345678", Kind.MOBILE, "085612345678"),  # Indosat
    ("087712345678", Kind.MOBILE, "087712345678"),  # XL
    ("089612345678", Kind.MOBILE, "089612345678"),  # Three
    ("088112345678", Kind.MOBILE, "088112345678"),  # Smartfren
    # fixed line: area code 2-7 or 9, NSN 8-10 digits
    ("0751123456", Kind.FIXED, "0751123456"),  # Padang, 6-digit subscriber
    ("07517051234", Kind.FIXED, "07517051234"),  # Padang, 7-digit subscriber
    ("+62751705123", Kind.FIXED, "0751705123"),
    ("02112345678", Kind.FIXED, "02112345678"),  # Jakarta, NSN 10
    ("+622112345678", Kind.FIXED, "02112345678"),
    ("0331123456", Kind.FIXED, "0331123456"),  # Jember
    ("0967123456", Kind.FIXED, "0967123456"),  # Jayapura (area code 9xx)
    ("0622123456", Kind.FIXED, "0622123456"),  # area code 62x nationally (not the country code)
]

REFUSED = [
    # international: another country code, or an international access prefix
    ("+8821234567", Refusal.INTERNATIONAL),  # international networks (satellite, premium)
    ("+882161234567", Refusal.INTERNATIONAL),
    ("+447700900123", Refusal.INTERNATIONAL),
    ("+6512345678", Refusal.INTERNATIONAL),  # Singapore
    ("008821234567", Refusal.INTERNATIONAL),
    ("0018821234567", Refusal.INTERNATIONAL),  # 001 Indosat international access
    ("0078821234567", Refusal.INTERNATIONAL),
    ("010178821234567", Refusal.INTERNATIONAL),  # 01017
    ("00628123456789", Refusal.INTERNATIONAL),  # even to Indonesia: via an international prefix, no
    # non-geographic 080x: freephone, universal access, personal numbering, premium rate
    ("0800123456", Refusal.NON_GEOGRAPHIC),
    ("08001234567", Refusal.NON_GEOGRAPHIC),
    ("0804123456", Refusal.NON_GEOGRAPHIC),
    ("08091234567", Refusal.NON_GEOGRAPHIC),
    ("+628091234567", Refusal.NON_GEOGRAPHIC),
    ("628001234567", Refusal.NON_GEOGRAPHIC),
    # short codes and service numbers
    ("112", Refusal.SHORT_CODE),
    ("110", Refusal.SHORT_CODE),
    ("14045", Refusal.SHORT_CODE),
    ("1500123", Refusal.SHORT_CODE),
    ("0112", Refusal.INTERNATIONAL),  # 01...: the international access prefixes (01017, 01016)
    ("7051234", Refusal.SHORT_CODE),  # local number without its area code: not dialled blind
    ("+62112", Refusal.SHORT_CODE),
    ("081234", Refusal.SHORT_CODE),  # too short for a subscriber
    # malformed
    ("", Refusal.MALFORMED),
    (None, Refusal.MALFORMED),
    ("anonymous", Refusal.MALFORMED),
    ("+62 812 3456 7890", Refusal.MALFORMED),
    ("0812345678@evil.example", Refusal.MALFORMED),
    ("08123;x=y", Refusal.MALFORMED),
    ("+", Refusal.MALFORMED),
    ("++6281234567890", Refusal.MALFORMED),
    ("08123456789012", Refusal.MALFORMED),  # mobile NSN of 13 digits
    ("0211234567890", Refusal.MALFORMED),  # fixed NSN of 12 digits
    ("+62081234567890", Refusal.MALFORMED),  # trunk 0 after the country code
    ("０８１２３４５６７８９０", Refusal.MALFORMED),  # full-width digits
]


@pytest.mark.parametrize(("number", "kind", "national"), DIALABLE)
def test_indonesian_subscriber_numbers_may_be_called_back(number: str, kind: Kind, national: str) -> None:
    result = classify(number)
    assert (result.kind, result.refusal, result.national) == (kind, None, national)
    assert result.dialable


@pytest.mark.parametrize(("number", "refusal"), REFUSED)
def test_everything_else_is_refused_with_its_reason(number: str | None, refusal: Refusal) -> None:
    result = classify(number)
    assert (result.kind, result.refusal) == (None, refusal)
    assert not result.dialable and result.national == ""


def test_no_number_with_a_foreign_country_code_is_ever_dialable() -> None:
    """Exhaustive over every other country code prefix: nothing after ``+`` that is not ``62`` passes."""
    for code in range(1, 1000):
        if str(code).startswith("62"):
            continue
        assert not classify(f"+{code}81234567890").dialable, code
        assert not classify(f"00{code}81234567890").dialable, code
