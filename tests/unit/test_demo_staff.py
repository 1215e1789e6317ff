"""The demo's simulated call takers fill the incident form as a person would: the console accepts it as is."""

from __future__ import annotations

import random

from padang112.incidents import geography
from padang112.incidents.catalog import load_catalog
from padang112.incidents.validation import validate
from padang112.simulator.camera_feeds import PADANG_CAMERAS, lavfi_source
from padang112.simulator.demo_staff import PLACES, incident_form, weighted
from padang112.web.incidents import _draft


def catalog_as_the_api_sends_it() -> dict:
    cat = load_catalog()
    return {
        "types": [{"code": t.code, "name_id": t.name_id, "default_priority": t.default_priority} for t in cat.all()],
        "kecamatan": [{"name": k, "kelurahan": list(geography.kelurahan_of(k))} for k in geography.kecamatan_names()],
    }


def test_every_form_a_simulated_call_taker_sends_passes_the_consoles_validation() -> None:
    rng, catalog = random.Random(112), catalog_as_the_api_sends_it()
    kinds = set()
    for n in range(200):
        form = incident_form(rng, catalog, {"id": f"call-{n}", "caller_number": "+6281234567890"})
        draft = validate(_draft(form), load_catalog())
        assert draft.call_id == f"call-{n}" and draft.kecamatan in geography.kecamatan_names()
        kinds.add(draft.type_code)
    assert len(kinds) >= 4


def test_places_and_cameras_lie_in_padang_and_their_labels_cannot_break_the_ffmpeg_filter() -> None:
    names = set(geography.kecamatan_names())
    assert {p[0] for p in PLACES} <= names and {c.kecamatan for c in PADANG_CAMERAS} <= names
    assert len({c.slug for c in PADANG_CAMERAS}) == len(PADANG_CAMERAS)
    hostile = lavfi_source("Kamera': drawtext=text='x;[0]")
    assert hostile.count("'") == 4 and ";" not in hostile and "[" not in hostile


def test_weighted_choices_follow_their_weights() -> None:
    rng = random.Random(1)
    picks = [weighted(rng, {"a": 9, "b": 1}) for _ in range(1000)]
    assert 850 < picks.count("a") < 950
