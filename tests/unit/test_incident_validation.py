"""Validation of the incident form: cleaning, defaults, and every field error reported at once."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from padang112.incidents.catalog import load_catalog
from padang112.incidents.geography import load_geography
from padang112.incidents.model import IncidentDraft
from padang112.incidents.validation import ValidationError, validate


def draft(**overrides: object) -> IncidentDraft:
    base = IncidentDraft(
        type_code="flood",
        priority=2,
        kecamatan="Kuranji",
        description="air setinggi lutut masuk rumah, 2 lansia",
        victims=2,
    )
    return dataclasses.replace(base, **overrides)


def errors_of(d: IncidentDraft, **kwargs: object) -> dict[str, tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        validate(d, load_catalog(), **kwargs)
    for text_id, text_en in caught.value.errors.values():
        assert text_id and text_en
    return caught.value.errors


def test_the_morning_flood_call_is_accepted_with_the_suggested_agencies() -> None:
    clean = validate(
        draft(kecamatan="  kuranji ", description="  air masuk rumah  ", type_code=" flood "), load_catalog()
    )
    assert clean.kecamatan == "Kuranji"
    assert clean.description == "air masuk rumah"
    assert clean.type_code == "flood"
    assert clean.agencies == ("bpbd", "pupr")


def test_defaults_include_victim_agencies() -> None:
    assert validate(draft(type_code="fire", victims=1), load_catalog()).agencies == ("damkar", "dinkes")


def test_the_call_takers_own_agency_list_wins_deduplicated_in_agency_order() -> None:
    clean = validate(draft(agencies=("pupr", "damkar", "pupr", " BPBD ")), load_catalog())
    assert clean.agencies == ("damkar", "bpbd", "pupr")


def test_validation_collects_several_errors_at_once() -> None:
    errors = errors_of(
        draft(
            type_code="volcano",
            priority=7,
            kecamatan="Menteng",
            description="  ",
            victims=-1,
            source="fax",
            agencies=("polisi",),
            callback_number="0812abc",
        )
    )
    assert set(errors) == {
        "type_code",
        "priority",
        "kecamatan",
        "description",
        "victims",
        "source",
        "agencies",
        "callback_number",
    }


def test_coordinates_outside_padang_are_refused() -> None:
    errors = errors_of(draft(latitude=-6.2, longitude=106.8))  # Jakarta
    assert set(errors) == {"latitude", "longitude"}
    assert "Padang" in errors["latitude"][0]


def test_coordinates_inside_padang_are_kept() -> None:
    clean = validate(draft(latitude=-0.9, longitude=100.4), load_catalog())
    assert (clean.latitude, clean.longitude) == (-0.9, 100.4)


def test_coordinates_must_come_in_pairs_and_be_numbers() -> None:
    assert set(errors_of(draft(latitude=-0.9))) == {"longitude"}
    assert set(errors_of(draft(longitude=100.4))) == {"latitude"}
    not_numbers = draft(latitude="x", longitude=float("nan"))  # type: ignore[arg-type]
    assert set(errors_of(not_numbers)) == {"latitude", "longitude"}


def test_kelurahan_of_the_wrong_kecamatan_is_refused() -> None:
    errors = errors_of(draft(kecamatan="Kuranji", kelurahan="Lubuk Buaya"))  # Lubuk Buaya is in Koto Tangah
    assert "Koto Tangah" in errors["kelurahan"][1]


def test_kelurahan_is_made_canonical() -> None:
    clean = validate(draft(kecamatan="koto tangah", kelurahan=" lubuk  buaya "), load_catalog())
    assert clean.kelurahan == "Lubuk Buaya"
    assert validate(draft(kelurahan="   "), load_catalog()).kelurahan is None


def test_unlisted_kelurahan_is_accepted_as_text_when_the_list_is_not_complete() -> None:
    assert validate(draft(kelurahan="Kelurahan Baru"), load_catalog()).kelurahan == "Kelurahan Baru"
    assert set(errors_of(draft(kelurahan="x" * 81))) == {"kelurahan"}


def test_unlisted_kelurahan_is_refused_when_the_list_is_complete(tmp_path: Path) -> None:
    path = tmp_path / "wilayah.json"
    path.write_text(
        json.dumps(
            {
                "note": "check before production",
                "kecamatan": [
                    {
                        "name": "Kuranji",
                        "centre": {"lat": -0.9, "lon": 100.4},
                        "kelurahan_complete": True,
                        "kelurahan": ["Anduring", "Kalumbuk"],
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    wilayah = load_geography(path)
    assert validate(draft(kelurahan="anduring"), load_catalog(), geography=wilayah).kelurahan == "Anduring"
    assert set(errors_of(draft(kelurahan="Kelurahan Baru"), geography=wilayah)) == {"kelurahan"}


@pytest.mark.parametrize(
    ("field", "limit"), [("description", 4000), ("location_text", 500), ("caller_name", 200), ("notes", 4000)]
)
def test_text_length_limits(field: str, limit: int) -> None:
    assert validate(draft(**{field: "a" * limit}), load_catalog())
    assert set(errors_of(draft(**{field: "a" * (limit + 1)}))) == {field}


def test_callback_number_allows_digits_plus_spaces_hyphens_up_to_32() -> None:
    assert validate(draft(callback_number="+62 812-3456-7890"), load_catalog()).callback_number == "+62 812-3456-7890"
    assert set(errors_of(draft(callback_number="1" * 33))) == {"callback_number"}
    assert set(errors_of(draft(callback_number="0812;DROP"))) == {"callback_number"}


@pytest.mark.parametrize("victims", [0, 10_000])
def test_victims_bounds_accepted(victims: int) -> None:
    assert validate(draft(victims=victims), load_catalog()).victims == victims


@pytest.mark.parametrize("victims", [-1, 10_001, 2.5, True])
def test_victims_out_of_range_refused(victims: object) -> None:
    assert set(errors_of(draft(victims=victims))) == {"victims"}


@pytest.mark.parametrize("priority", [0, 5, 1.0, True])
def test_priority_must_be_one_to_four(priority: object) -> None:
    assert set(errors_of(draft(priority=priority))) == {"priority"}


@pytest.mark.parametrize("source", ["call", "walk_in", "radio", "social_media"])
def test_known_sources_accepted(source: str) -> None:
    assert validate(draft(source=source), load_catalog()).source == source


def test_html_is_kept_verbatim_escaping_happens_at_display() -> None:
    script = "<script>alert('x')</script> & <b>banjir</b>"
    clean = validate(draft(description=script, notes=script, location_text=script, caller_name=script), load_catalog())
    assert clean.description == clean.notes == clean.location_text == clean.caller_name == script


def test_other_type_without_agencies_stays_without_agencies() -> None:
    assert validate(draft(type_code="other"), load_catalog()).agencies == ()


def test_empty_call_id_becomes_none() -> None:
    assert validate(draft(call_id="  "), load_catalog()).call_id is None
    assert validate(draft(call_id=" 1700000000.12 "), load_catalog()).call_id == "1700000000.12"
