"""Plausible simulated citizens of Padang: Indonesian numbers by carrier, names, and their display."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from padang112.wib import WIB

# Mobile prefixes (after the trunk 0) as allocated to each operator; Telkom is the fixed network (Padang 0751).
PREFIXES: dict[str, tuple[str, ...]] = {
    "telkomsel": ("811", "812", "813", "821", "822", "823", "851", "852", "853"),
    "indosat": ("814", "815", "816", "855", "856", "857", "858"),
    "xl": ("817", "818", "819", "859", "877", "878"),
    "three": ("895", "896", "897", "898", "899"),
    "smartfren": ("881", "882", "883", "884", "885", "886", "887", "888", "889"),
    "telkom": ("751",),
}
DISPLAY = {
    "telkom": "Telkom",
    "telkomsel": "Telkomsel",
    "xl": "XL",
    "indosat": "Indosat",
    "three": "Three",
    "smartfren": "Smartfren",
}
NAMES = (
    "Budi",
    "Siti",
    "Rina",
    "Andi",
    "Yusuf",
    "Dewi",
    "Fajar",
    "Rahmat",
    "Nurhayati",
    "Hendra",
    "Putri",
    "Zulkifli",
    "Yanti",
    "Afrizal",
    "Rini",
    "Irwan",
    "Mega",
    "Syafri",
    "Lusi",
    "Datuak Rajo",
)


@dataclass(frozen=True)
class Citizen:
    number: str  # E.164, e.g. +6281234567890
    name: str | None  # mobile networks rarely send one
    carrier: str


def phone_number(carrier: str, rng: random.Random | None = None) -> str:
    """A random E.164 number of that carrier (+62 8xx… mobile, +62 751… Padang fixed line for Telkom)."""
    rng = rng or random.Random()
    prefix = rng.choice(PREFIXES.get(carrier, PREFIXES["telkomsel"]))
    digits = 7 if prefix == "751" else rng.choice((7, 8, 9))
    return "+62" + prefix + "".join(rng.choice("0123456789") for _ in range(digits))


def citizen(carriers: list[str], rng: random.Random | None = None) -> Citizen:
    rng = rng or random.Random()
    carrier = rng.choice(carriers)
    name = rng.choice(NAMES) if rng.random() < 0.4 else None
    return Citizen(phone_number(carrier, rng), name, carrier)


def carrier_label(name: str) -> str:
    return DISPLAY.get(name, name.title())


def short_number(number: str, head: int = 6, tail: int = 3) -> str:
    """``+62812…890``: enough to follow a call in the demo without printing whole numbers."""
    return number if len(number) <= head + tail else f"{number[:head]}…{number[-tail:]}"


def wib(t: float) -> str:
    return datetime.fromtimestamp(t, WIB).strftime("%H:%M:%S WIB")
