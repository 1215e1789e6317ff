"""Check and clean what the incident form submits, reporting every field error at once (Indonesian + English).

``validate`` returns a cleaned copy of the draft: text stripped, kecamatan/kelurahan in their canonical
spelling, agencies deduplicated in ``AGENCIES`` order (the type's defaults when the call taker chose none).
HTML in text fields is kept as typed: escaping is the display's job, so ``<script>`` is stored verbatim.
"""

from __future__ import annotations

import dataclasses
import math
import re

from padang112.incidents import geography as geo
from padang112.incidents import routing
from padang112.incidents.catalog import Catalog
from padang112.incidents.model import AGENCIES, IncidentDraft

SOURCES = ("call", "walk_in", "radio", "social_media", "other")
MAX_VICTIMS = 10_000
MAX_DESCRIPTION = 4000
MAX_LOCATION_TEXT = 500
MAX_CALLER_NAME = 200
MAX_CALLBACK_NUMBER = 32
MAX_NOTES = 4000
MAX_KELURAHAN = 80
MAX_CALL_ID = 128
_CALLBACK = re.compile(r"^[0-9+\- ]*$")

Message = tuple[str, str]  # (Bahasa Indonesia, English)


class ValidationError(ValueError):
    """Every field error of one draft: ``errors[field] = (message_id, message_en)``."""

    def __init__(self, errors: dict[str, Message]) -> None:
        super().__init__("invalid incident: " + "; ".join(f"{k}: {en}" for k, (_, en) in errors.items()))
        self.errors = dict(errors)


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _too_long(errors: dict[str, Message], name: str, value: str, limit: int) -> None:
    if len(value) > limit:
        errors[name] = (f"Maksimal {limit} karakter.", f"At most {limit} characters.")


def validate(draft: IncidentDraft, catalog: Catalog, geography: geo.Geography | None = None) -> IncidentDraft:
    """The cleaned draft, or ``ValidationError`` listing every problem."""
    wilayah = geography or geo.load_geography()
    errors: dict[str, Message] = {}

    type_code = _text(draft.type_code).lower()
    if not type_code:
        errors["type_code"] = ("Jenis kejadian wajib dipilih.", "Choose an incident type.")
    elif type_code not in catalog:
        errors["type_code"] = ("Jenis kejadian tidak dikenal.", "Unknown incident type.")

    if not _is_int(draft.priority) or not 1 <= draft.priority <= 4:
        errors["priority"] = ("Prioritas harus 1 sampai 4.", "Priority must be 1 to 4.")

    kecamatan = wilayah.normalise(_text(draft.kecamatan))
    if not _text(draft.kecamatan):
        errors["kecamatan"] = ("Kecamatan wajib dipilih.", "Choose a district (kecamatan).")
    elif kecamatan is None:
        errors["kecamatan"] = ("Kecamatan tidak dikenal di Kota Padang.", "Not a district (kecamatan) of Padang.")

    kelurahan = _clean_kelurahan(draft.kelurahan, kecamatan, wilayah, errors)

    latitude, longitude = _coordinates(draft.latitude, draft.longitude, errors)

    if not _is_int(draft.victims) or not 0 <= draft.victims <= MAX_VICTIMS:
        errors["victims"] = (
            f"Jumlah korban harus 0 sampai {MAX_VICTIMS}.",
            f"Victims must be a whole number from 0 to {MAX_VICTIMS}.",
        )

    description = _text(draft.description)
    if not description:
        errors["description"] = ("Keterangan kejadian wajib diisi.", "A description is required.")
    _too_long(errors, "description", description, MAX_DESCRIPTION)
    location_text = _text(draft.location_text)
    _too_long(errors, "location_text", location_text, MAX_LOCATION_TEXT)
    caller_name = _text(draft.caller_name)
    _too_long(errors, "caller_name", caller_name, MAX_CALLER_NAME)
    notes = _text(draft.notes)
    _too_long(errors, "notes", notes, MAX_NOTES)

    callback_number = _text(draft.callback_number)
    if not _CALLBACK.match(callback_number):
        errors["callback_number"] = (
            "Nomor hanya boleh berisi angka, +, spasi dan tanda hubung.",
            "Only digits, +, spaces and hyphens are allowed.",
        )
    _too_long(errors, "callback_number", callback_number, MAX_CALLBACK_NUMBER)

    call_id = _text(draft.call_id) or None
    if call_id is not None:
        _too_long(errors, "call_id", call_id, MAX_CALL_ID)

    source = _text(draft.source).lower()
    if source not in SOURCES:
        errors["source"] = (
            "Sumber laporan tidak dikenal.",
            "Unknown report source (call, walk_in, radio, social_media, other).",
        )

    agencies: tuple[str, ...] = ()
    raw_agencies = draft.agencies if isinstance(draft.agencies, (tuple, list)) else None
    if raw_agencies is None:
        errors["agencies"] = ("Daftar OPD tidak sah.", "Invalid agency list.")
    else:
        chosen = [_text(a).lower() for a in raw_agencies]
        unknown = [a for a in chosen if a not in AGENCIES]
        if unknown or not all(isinstance(a, str) for a in raw_agencies):
            shown = ", ".join(a or "?" for a in unknown) or "?"
            errors["agencies"] = (f"OPD tidak dikenal: {shown}.", f"Unknown agency: {shown}.")
        else:
            agencies = tuple(a for a in AGENCIES if a in chosen)

    if errors:
        raise ValidationError(errors)
    assert kecamatan is not None
    if not agencies:
        agencies = routing.default_agencies(type_code, draft.victims, catalog)
    return dataclasses.replace(
        draft,
        type_code=type_code,
        kecamatan=kecamatan,
        kelurahan=kelurahan,
        latitude=latitude,
        longitude=longitude,
        description=description,
        location_text=location_text,
        caller_name=caller_name,
        callback_number=callback_number,
        notes=notes,
        agencies=agencies,
        call_id=call_id,
        source=source,
    )


def _clean_kelurahan(
    raw: object, kecamatan: str | None, wilayah: geo.Geography, errors: dict[str, Message]
) -> str | None:
    if raw is not None and not isinstance(raw, str):
        errors["kelurahan"] = ("Kelurahan tidak sah.", "Invalid sub-district (kelurahan).")
        return None
    name = _text(raw)
    if not name:
        return None
    if kecamatan is None:  # the kecamatan error already explains; only the length can be checked
        _too_long(errors, "kelurahan", name, MAX_KELURAHAN)
        return name
    listed = wilayah.normalise_kelurahan(kecamatan, name)
    if listed is not None:
        return listed
    elsewhere = wilayah.kecamatan_of_kelurahan(name)
    if elsewhere:
        errors["kelurahan"] = (
            f"Kelurahan {name} ada di Kecamatan {', '.join(elsewhere)}, bukan {kecamatan}.",
            f"Sub-district {name} is in {', '.join(elsewhere)}, not {kecamatan}.",
        )
    elif wilayah.kelurahan_complete(kecamatan):
        errors["kelurahan"] = (
            f"Kelurahan tidak ada di Kecamatan {kecamatan}.",
            f"Not a sub-district (kelurahan) of {kecamatan}.",
        )
    else:
        _too_long(errors, "kelurahan", name, MAX_KELURAHAN)
    return name


def _coordinates(lat: object, lon: object, errors: dict[str, Message]) -> tuple[float | None, float | None]:
    if lat is None and lon is None:
        return None, None
    if (lat is None) != (lon is None):
        missing = "latitude" if lat is None else "longitude"
        errors[missing] = (
            "Isi lintang dan bujur sekaligus, atau kosongkan keduanya.",
            "Give both latitude and longitude, or neither.",
        )
        return None, None
    values: dict[str, float] = {}
    for name, value in (("latitude", lat), ("longitude", lon)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            errors[name] = ("Harus berupa angka.", "Must be a number.")
        else:
            values[name] = float(value)
    if len(values) < 2:
        return None, None
    if not geo.LAT_MIN <= values["latitude"] <= geo.LAT_MAX:
        errors["latitude"] = ("Lintang di luar wilayah Kota Padang.", "Latitude is outside Padang.")
    if not geo.LON_MIN <= values["longitude"] <= geo.LON_MAX:
        errors["longitude"] = ("Bujur di luar wilayah Kota Padang.", "Longitude is outside Padang.")
    return values["latitude"], values["longitude"]
