"""The incident type catalog and Padang's wilayah data as shipped, and refusal of malformed catalog files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from padang112.incidents import geography
from padang112.incidents.catalog import CatalogError, load_catalog
from padang112.incidents.model import AGENCIES

PADANG_KECAMATAN = (
    "Bungus Teluk Kabung",
    "Koto Tangah",
    "Kuranji",
    "Lubuk Begalung",
    "Lubuk Kilangan",
    "Nanggalo",
    "Padang Barat",
    "Padang Selatan",
    "Padang Timur",
    "Padang Utara",
    "Pauh",
)
REQUIRED_TYPES = (
    "fire",
    "traffic_accident",
    "medical",
    "flood",
    "landslide",
    "earthquake_damage",
    "tsunami_warning",
    "fallen_tree",
    "public_disorder",
    "violence_crime",
    "animal",
    "pollution",
    "infrastructure_damage",
    "missing_person",
    "other",
)


def test_catalog_has_every_required_type_with_names_in_both_languages() -> None:
    catalog = load_catalog()
    assert set(REQUIRED_TYPES) <= set(catalog.codes())
    for t in catalog.all():
        assert t.name_id and t.name_en
        assert 1 <= t.default_priority <= 4
    assert catalog.get("flood").name_id == "Banjir"
    assert catalog.get("fire").name_id == "Kebakaran"


def test_every_catalog_agency_is_a_real_one() -> None:
    for t in load_catalog().all():
        assert set(t.default_agencies) <= set(AGENCIES), t.code
        assert set(t.agencies_if_victims) <= set(AGENCIES), t.code


def test_violence_and_crime_carries_the_police_handoff_note() -> None:
    assert "110" in load_catalog().get("violence_crime").handoff


def test_other_has_no_default_agency() -> None:
    assert load_catalog().get("other").default_agencies == ()


def test_catalog_is_cached_and_unknown_code_is_a_key_error() -> None:
    assert load_catalog() is load_catalog()
    with pytest.raises(KeyError):
        load_catalog().get("no_such_type")


def _write(tmp_path: Path, types: list[dict]) -> Path:
    path = tmp_path / "types.json"
    path.write_text(json.dumps({"types": types}), encoding="utf-8")
    return path


def _entry(**overrides: object) -> dict:
    return {
        "code": "fire",
        "name_id": "Kebakaran",
        "name_en": "Fire",
        "default_agencies": ["damkar"],
        "default_priority": 1,
        **overrides,
    }


def test_a_good_file_given_by_path_loads(tmp_path: Path) -> None:
    catalog = load_catalog(_write(tmp_path, [_entry(), _entry(code="flood", default_agencies=["pupr", "bpbd"])]))
    assert catalog.codes() == ("fire", "flood")
    assert catalog.get("flood").default_agencies == ("bpbd", "pupr")  # AGENCIES order


def test_catalog_refuses_an_unknown_agency(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="unknown agency 'polisi'"):
        load_catalog(_write(tmp_path, [_entry(default_agencies=["damkar", "polisi"])]))


def test_catalog_refuses_a_duplicate_code(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="duplicate code 'fire'"):
        load_catalog(_write(tmp_path, [_entry(), _entry()]))


@pytest.mark.parametrize(
    "bad",
    [
        {"default_priority": 5},
        {"default_priority": True},
        {"code": "Fire Type"},
        {"name_id": ""},
        {"agencies_if_victims": ["ambulans"]},
        {"default_agencies": "damkar"},
        {"colour": "red"},
    ],
)
def test_catalog_refuses_malformed_entries(tmp_path: Path, bad: dict) -> None:
    with pytest.raises(CatalogError):
        load_catalog(_write(tmp_path, [_entry(**bad)]))


def test_catalog_refuses_a_file_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "types.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(CatalogError, match="not valid JSON"):
        load_catalog(path)


def test_every_kecamatan_of_padang_is_present_exactly_once() -> None:
    names = geography.kecamatan_names()
    assert sorted(names) == sorted(PADANG_KECAMATAN)
    assert len(names) == len(set(names)) == 11


def test_the_wilayah_file_says_to_check_it_before_production() -> None:
    note = geography.load_geography().note
    assert "BPS" in note and "Pemko Padang" in note and "production" in note


def test_kecamatan_centres_are_inside_padang() -> None:
    for name in geography.kecamatan_names():
        lat, lon = geography.centre_of(name)
        assert geography.in_padang(lat, lon), name


def test_no_kelurahan_is_listed_under_two_kecamatan() -> None:
    seen: dict[str, str] = {}
    for kec in geography.kecamatan_names():
        for kel in geography.kelurahan_of(kec):
            assert kel.casefold() not in seen, (kel, seen.get(kel.casefold()), kec)
            seen[kel.casefold()] = kec


def test_names_are_normalised_ignoring_case_and_spaces() -> None:
    assert geography.normalise("  padang   BARAT ") == "Padang Barat"
    assert geography.normalise("kototangah") == "Koto Tangah"
    assert geography.normalise("Jakarta Pusat") is None
    assert geography.normalise("") is None
    assert "Lubuk Buaya" in geography.kelurahan_of("koto tangah")


def test_in_padang_box() -> None:
    assert geography.in_padang(-0.95, 100.35)
    assert not geography.in_padang(-6.2, 106.8)  # Jakarta
    assert not geography.in_padang(-0.30, 100.37)  # Bukittinggi
