"""Which numbers a call-back may dial: Indonesian subscriber numbers only (the toll-fraud guard).

A caller ID is whatever the calling network claims. Dialling it back blindly lets anyone who can present a
number to 112 (a SIM box, a PBX behind a carrier, a spoofed trunk) make the command center call an
international premium number (``+882…``, ``00…``), a premium-rate or toll-free service (``0809…``,
``0800…``) or a short code (``1500…``). So a call-back dials only numbers of these two shapes, in national
(``0…``), international (``+62…``) or bare E.164 (``62…``) form:

* **mobile**: ``08`` followed by a third digit 1–9 (``0811``–``0899``: Telkomsel 0811–0813/0821–0823/0851–0853,
  Indosat 0814–0816/0855–0858, XL 0817–0819/0859/0877–0878, Axis 0831–0838, Three 0895–0899, Smartfren
  0881–0889), national significant number (NSN, the number without the ``0``) of 9–12 digits;
* **fixed line**: an area code starting 2–7 or 9 (``021`` Jakarta, ``0751`` Padang, ...), NSN of 8–10 digits
  (2–3 digit area code and a 5–8 digit subscriber number).

Everything else is refused with a reason: ``080x`` (0800 freephone, 0804 universal access, 0807 personal
numbering, 0809 premium rate: the non-geographic services), international (any other country code, ``00…``/
``01…`` international access prefixes), short codes (``1…`` and anything shorter than a subscriber number),
and malformed strings.

Sources: the Indonesian national numbering plan (Rencana Dasar Teknis Telekomunikasi Nasional, Peraturan Menteri
Kominfo No. 14/2018 and its numbering annex) as notified to the ITU (ITU-T E.164 national numbering plan of
Indonesia, country code 62: NSN lengths of 9–12 digits for mobile, 8–10 for geographic numbers; 080x
non-geographic services). Check them against the regulator's current list before production use; the table
in ``tests/unit/test_numbering.py`` pins every rule. Pure: no I/O.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass


class Refusal(str, enum.Enum):
    """Why a number is not dialled back; the value is the API's error code."""

    MALFORMED = "bad_number"
    INTERNATIONAL = "international_number"
    NON_GEOGRAPHIC = "premium_number"  # 080x: freephone, premium rate, universal access
    SHORT_CODE = "short_code"


class Kind(str, enum.Enum):
    MOBILE = "mobile"
    FIXED = "fixed"


@dataclass(frozen=True)
class Classified:
    """A number a call-back may dial (``kind``), or why not (``refusal``); ``national`` is ``0`` + NSN."""

    kind: Kind | None
    refusal: Refusal | None
    national: str = ""

    @property
    def dialable(self) -> bool:
        return self.kind is not None


MOBILE_NSN = re.compile(r"8[1-9][0-9]{7,10}")  # 9-12 digits
FIXED_NSN = re.compile(r"[2-79][0-9]{7,9}")  # 8-10 digits
NON_GEOGRAPHIC_NSN = re.compile(r"80[0-9]*")
_DIGITS = re.compile(r"[0-9]+")
COUNTRY = "62"


def _nsn(number: str) -> str | Refusal:
    """The national significant number, or why there is none."""
    if number.startswith("+"):
        digits = number[1:]
        if not _DIGITS.fullmatch(digits):
            return Refusal.MALFORMED
        return digits[len(COUNTRY) :] if digits.startswith(COUNTRY) else Refusal.INTERNATIONAL
    if not _DIGITS.fullmatch(number):
        return Refusal.MALFORMED
    if number.startswith(("00", "01")):
        return Refusal.INTERNATIONAL  # 001, 007, 008, 009, 01017, ...: international access prefixes
    if number.startswith("0"):
        return number[1:]
    if number.startswith(COUNTRY) and len(number) >= len(COUNTRY) + 8:
        return number[len(COUNTRY) :]
    return Refusal.SHORT_CODE  # 112, 1500xxx, 14045, a local number without its area code


def classify(number: str | None) -> Classified:
    """Whether ``number`` (a caller ID as received) is an Indonesian subscriber number a call-back may dial."""
    nsn = _nsn((number or "").strip())
    if isinstance(nsn, Refusal):
        return Classified(None, nsn)
    if NON_GEOGRAPHIC_NSN.fullmatch(nsn):
        return Classified(None, Refusal.NON_GEOGRAPHIC)
    if MOBILE_NSN.fullmatch(nsn):
        return Classified(Kind.MOBILE, None, "0" + nsn)
    if FIXED_NSN.fullmatch(nsn):
        return Classified(Kind.FIXED, None, "0" + nsn)
    if nsn.startswith("1") or len(nsn) < 8:
        return Classified(None, Refusal.SHORT_CODE)
    return Classified(None, Refusal.MALFORMED)
