"""Padang's kecamatan and kelurahan (``padang112/data/padang_wilayah.json``) and a rough "is this in Padang" box.

The data file lists the 11 kecamatan with approximate centres and the kelurahan known for sure; its ``note``
says it must be checked against the official list (BPS Kota Padang / Pemko Padang) before production use.
A kecamatan whose list is not marked ``kelurahan_complete`` accepts kelurahan names not (yet) listed.
Names are matched case-, space- and punctuation-insensitively ("padang  BARAT" → "Padang Barat").
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

DATA_PACKAGE = "padang112.data"
DATA_FILE = "padang_wilayah.json"
# A generous box around the city (sea side included); coordinates outside it are refused by validation.
LAT_MIN, LAT_MAX = -1.15, -0.70
LON_MIN, LON_MAX = 100.25, 100.60
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


class GeographyError(ValueError):
    """The wilayah data file is malformed."""


def _key(name: str) -> str:
    return _NOT_ALNUM.sub("", name.casefold())


@dataclass(frozen=True)
class Kecamatan:
    name: str
    centre: tuple[float, float]  # (latitude, longitude), approximate
    kelurahan: tuple[str, ...]
    kelurahan_complete: bool = False


class Geography:
    def __init__(self, kecamatan: tuple[Kecamatan, ...], note: str) -> None:
        self.kecamatan = kecamatan
        self.note = note
        self._by_key = {_key(k.name): k for k in kecamatan}
        self._kelurahan: dict[str, dict[str, str]] = {  # kecamatan name -> {key: canonical kelurahan}
            k.name: {_key(kel): kel for kel in k.kelurahan} for k in kecamatan
        }

    def kecamatan_names(self) -> tuple[str, ...]:
        return tuple(k.name for k in self.kecamatan)

    def normalise(self, name: str | None) -> str | None:
        """The canonical kecamatan name, or ``None`` if ``name`` is not one of Padang's kecamatan."""
        if not isinstance(name, str):
            return None
        found = self._by_key.get(_key(name))
        return found.name if found and _key(name) else None

    def _get(self, kecamatan: str) -> Kecamatan:
        canonical = self.normalise(kecamatan)
        if canonical is None:
            raise KeyError(kecamatan)
        return self._by_key[_key(canonical)]

    def kelurahan_of(self, kecamatan: str) -> tuple[str, ...]:
        """The kelurahan listed for this kecamatan (possibly incomplete); ``KeyError`` for an unknown one."""
        return self._get(kecamatan).kelurahan

    def kelurahan_complete(self, kecamatan: str) -> bool:
        return self._get(kecamatan).kelurahan_complete

    def centre_of(self, kecamatan: str) -> tuple[float, float]:
        """Approximate (latitude, longitude) of the kecamatan's centre; ``KeyError`` for an unknown one."""
        return self._get(kecamatan).centre

    def normalise_kelurahan(self, kecamatan: str, name: str | None) -> str | None:
        """The canonical kelurahan name if it is listed for this kecamatan, else ``None``."""
        canonical = self.normalise(kecamatan)
        if canonical is None or not isinstance(name, str):
            return None
        return self._kelurahan[canonical].get(_key(name))

    def kecamatan_of_kelurahan(self, name: str) -> tuple[str, ...]:
        """The kecamatan whose list holds this kelurahan name (usually one; empty if not listed anywhere)."""
        key = _key(name) if isinstance(name, str) else ""
        return tuple(k for k, names in self._kelurahan.items() if key and key in names)


def in_padang(lat: float, lon: float) -> bool:
    """Whether the point lies in the generous box around Padang (not an exact city boundary)."""
    return LAT_MIN <= lat <= LAT_MAX and LON_MIN <= lon <= LON_MAX


def load_geography(path: str | Path | None = None) -> Geography:
    """The shipped wilayah data (cached), or the file at ``path`` (read each time)."""
    if path is None:
        return _shipped()
    return parse_geography(Path(path).read_text(encoding="utf-8"), source=str(path))


@functools.lru_cache(maxsize=1)
def _shipped() -> Geography:
    text = resources.files(DATA_PACKAGE).joinpath(DATA_FILE).read_text(encoding="utf-8")
    return parse_geography(text, source=f"{DATA_PACKAGE}/{DATA_FILE}")


def parse_geography(text: str, source: str = "<wilayah>") -> Geography:
    try:
        data = json.loads(text)
        note = data["note"]
        entries = data["kecamatan"]
        kecamatan = tuple(
            Kecamatan(
                name=e["name"],
                centre=(float(e["centre"]["lat"]), float(e["centre"]["lon"])),
                kelurahan=tuple(e.get("kelurahan", ())),
                kelurahan_complete=bool(e.get("kelurahan_complete")),
            )
            for e in entries
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise GeographyError(f"{source}: malformed wilayah file ({exc!r})") from None
    if not isinstance(note, str) or not note.strip():
        raise GeographyError(f'{source}: a non-empty "note" is required')
    names = [_key(k.name) for k in kecamatan]
    if len(set(names)) != len(names):
        raise GeographyError(f"{source}: a kecamatan is listed twice")
    for k in kecamatan:
        if not all(isinstance(n, str) and n.strip() for n in k.kelurahan):
            raise GeographyError(f"{source}: {k.name}: kelurahan must be non-empty text")
        if len({_key(n) for n in k.kelurahan}) != len(k.kelurahan):
            raise GeographyError(f"{source}: {k.name}: a kelurahan is listed twice")
        if not in_padang(*k.centre):
            raise GeographyError(f"{source}: {k.name}: centre lies outside the Padang box")
    return Geography(kecamatan, note)


# Module-level access to the shipped data.
def kecamatan_names() -> tuple[str, ...]:
    return load_geography().kecamatan_names()


def kelurahan_of(kecamatan: str) -> tuple[str, ...]:
    return load_geography().kelurahan_of(kecamatan)


def centre_of(kecamatan: str) -> tuple[float, float]:
    return load_geography().centre_of(kecamatan)


def normalise(name: str | None) -> str | None:
    return load_geography().normalise(name)
