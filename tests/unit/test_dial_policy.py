"""Only duty phones and call-backs to numbers that called in, over the carrier they used, can be dialled."""

from __future__ import annotations

import pytest

from padang112.telephony.dial_policy import DialPolicy, DialRefused

CALLED = {("+6281234567890", "telkomsel")}


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
