"""Only duty phones and call-backs to numbers that called in, over the carrier they used, can be dialled."""

from __future__ import annotations

import pytest

from padang112.telephony.dial_policy import DialPolicy, DialRefused

CALLED = {("+6281234567890", "telkomsel"), ("+8821234567", "telkomsel"), ("08091234567", "telkomsel"), ("1500", "xl")}


async def called_in(number: str, carrier: str) -> bool:
    return (number, carrier) in CALLED


def policy() -> DialPolicy:
    return DialPolicy({"pupr": "duty-pupr"}, {"telkomsel", "xl"}, called_in)


def test_duty_phones_only_of_known_agencies() -> None:
    assert policy().duty_phone("pupr") == "PJSIP/duty-pupr"
    for agency in ("police", "", "pupr@evil", "../seat01"):
        with pytest.raises(DialRefused):
            policy().duty_phone(agency)


async def test_a_call_back_goes_only_to_a_number_that_called_in_over_that_carrier() -> None:
    assert await policy().callback("+6281234567890", "telkomsel") == "PJSIP/+6281234567890@telkomsel"
    refused = [
        ("+6281234567890", "xl"),  # called in, but over another carrier
        ("+6281111111111", "telkomsel"),  # never called
        ("+6281234567890", "indosat"),  # not a trunk
        ("0062811@evil.example", "telkomsel"),
        ("12", "telkomsel"),
        ("1234;x=y", "telkomsel"),
        ("", "telkomsel"),
        ("seat01", "telkomsel"),
    ]
    for number, carrier in refused:
        with pytest.raises(DialRefused):
            await policy().callback(number, carrier)


async def test_a_caller_id_that_called_in_is_still_not_dialled_unless_it_is_an_indonesian_subscriber() -> None:
    """Toll fraud: a call presenting an international premium, 080x or short-code number, then hanging up."""
    for number, carrier, code in (
        ("+8821234567", "telkomsel", "international_number"),
        ("08091234567", "telkomsel", "premium_number"),
        ("1500", "xl", "short_code"),
    ):
        with pytest.raises(DialRefused) as refused:
            await policy().callback(number, carrier)
        assert refused.value.code == code
        assert number not in str(refused.value)  # the message goes to logs: no number in it


async def test_call_backs_to_one_number_are_capped_per_day() -> None:
    assert await policy().callback("+6281234567890", "telkomsel", attempts_today=2)
    with pytest.raises(DialRefused) as refused:
        await policy().callback("+6281234567890", "telkomsel", attempts_today=3)
    assert refused.value.code == "daily_cap"
    assert await DialPolicy({}, {"telkomsel"}, called_in, daily_cap=5).callback("+6281234567890", "telkomsel", 4)
