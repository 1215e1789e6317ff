"""Routing policy: default agencies per incident type and the acknowledge deadline per priority."""

from __future__ import annotations

import pytest

from padang112.incidents import routing
from padang112.incidents.catalog import load_catalog


def agencies(type_code: str, victims: int = 0) -> tuple[str, ...]:
    return routing.default_agencies(type_code, victims, load_catalog())


def test_flood_goes_to_bpbd_and_pupr_even_with_victims() -> None:
    assert agencies("flood") == ("bpbd", "pupr")
    assert agencies("flood", victims=2) == ("bpbd", "pupr")  # the Kuranji flood call in STORY.md


def test_fire_goes_to_damkar_and_with_victims_also_dinkes() -> None:
    assert agencies("fire") == ("damkar",)
    assert agencies("fire", victims=2) == ("damkar", "dinkes")


def test_fallen_tree_goes_to_dlh_and_damkar() -> None:
    assert set(agencies("fallen_tree")) == {"dlh", "damkar"}


def test_traffic_accident_goes_to_dishub_and_dinkes() -> None:
    assert set(agencies("traffic_accident")) == {"dishub", "dinkes"}


def test_other_rules_from_the_brief() -> None:
    assert agencies("medical") == ("dinkes",)
    assert set(agencies("landslide")) == {"bpbd", "pupr"}
    assert set(agencies("earthquake_damage")) == {"bpbd", "pupr", "damkar"}
    assert set(agencies("tsunami_warning")) == {"bpbd", "satpolpp"}
    assert agencies("public_disorder") == ("satpolpp",)
    assert agencies("violence_crime") == ("satpolpp",)
    assert agencies("animal") == ("damkar",)
    assert agencies("pollution") == ("dlh",)
    assert agencies("infrastructure_damage") == ("pupr",)
    assert set(agencies("missing_person")) == {"bpbd", "satpolpp"}
    assert agencies("other") == ()


def test_unknown_type_has_no_defaults() -> None:
    with pytest.raises(KeyError):
        agencies("no_such_type")


@pytest.mark.parametrize(("priority", "seconds"), [(1, 60), (2, 120), (3, 300), (4, 900)])
def test_ack_deadline_per_priority(priority: int, seconds: int) -> None:
    assert routing.ack_deadline_s(priority) == seconds


@pytest.mark.parametrize("priority", [0, 5, True, None])
def test_ack_deadline_refuses_an_unknown_priority(priority: object) -> None:
    with pytest.raises(ValueError):
        routing.ack_deadline_s(priority)  # type: ignore[arg-type]
