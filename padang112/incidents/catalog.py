"""The editable catalog of incident types (``padang112/data/incident_types.json``).

Each type names the agencies (OPD) the call taker's form suggests by default, the agencies added when there
are victims, a default priority (1 most urgent … 4), an optional APCO/NENA common incident type name (only
where it has been checked against the standard; otherwise null) and an optional hand-off note for services
outside the seven OPD (e.g. the police, 110). The file is read once with ``importlib.resources`` and cached;
a malformed file raises ``CatalogError`` naming every problem found.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from padang112.incidents.model import AGENCIES

DATA_PACKAGE = "padang112.data"
DATA_FILE = "incident_types.json"
PRIORITIES = (1, 2, 3, 4)
_CODE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")


class CatalogError(ValueError):
    """The incident type catalog file is malformed (the message lists every problem)."""


@dataclass(frozen=True)
class IncidentType:
    code: str
    name_id: str
    name_en: str
    default_agencies: tuple[str, ...]
    default_priority: int
    agencies_if_victims: tuple[str, ...] = ()
    apco_code: str | None = None
    handoff: str | None = None


class Catalog:
    """The incident types in file order, looked up by code."""

    def __init__(self, types: tuple[IncidentType, ...]) -> None:
        self._types = types
        self._by_code = {t.code: t for t in types}

    def get(self, code: str) -> IncidentType:
        """The type with this code; ``KeyError`` if there is none."""
        return self._by_code[code]

    def all(self) -> tuple[IncidentType, ...]:
        return self._types

    def codes(self) -> tuple[str, ...]:
        return tuple(self._by_code)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __len__(self) -> int:
        return len(self._types)


def load_catalog(path: str | Path | None = None) -> Catalog:
    """The shipped catalog (cached), or the catalog in ``path`` (read each time; for tests and tools)."""
    if path is None:
        return _shipped()
    return parse_catalog(Path(path).read_text(encoding="utf-8"), source=str(path))


@functools.lru_cache(maxsize=1)
def _shipped() -> Catalog:
    text = resources.files(DATA_PACKAGE).joinpath(DATA_FILE).read_text(encoding="utf-8")
    return parse_catalog(text, source=f"{DATA_PACKAGE}/{DATA_FILE}")


def parse_catalog(text: str, source: str = "<catalog>") -> Catalog:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogError(f"{source}: not valid JSON: {exc}") from None
    entries = data.get("types") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise CatalogError(f'{source}: expected an object with a non-empty "types" list')
    problems: list[str] = []
    types: list[IncidentType] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        where = f"types[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: not an object")
            continue
        code = entry.get("code")
        if isinstance(code, str):
            where = f"{where} ({code})"
        before = len(problems)
        if not isinstance(code, str) or not _CODE.match(code):
            problems.append(f"{where}: code must be snake_case text")
        elif code in seen:
            problems.append(f"{where}: duplicate code {code!r}")
        else:
            seen.add(code)
        for name in ("name_id", "name_en"):
            if not isinstance(entry.get(name), str) or not entry[name].strip():
                problems.append(f"{where}: {name} must be non-empty text")
        default_agencies = _agencies(
            entry.get("default_agencies"), f"{where}: default_agencies", problems, required=True
        )
        if_victims = _agencies(
            entry.get("agencies_if_victims"), f"{where}: agencies_if_victims", problems, required=False
        )
        priority = entry.get("default_priority")
        if not isinstance(priority, int) or isinstance(priority, bool) or priority not in PRIORITIES:
            problems.append(f"{where}: default_priority must be one of 1, 2, 3, 4")
        for name in ("apco_code", "handoff"):
            value = entry.get(name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                problems.append(f"{where}: {name} must be null or non-empty text")
        unknown = set(entry) - {
            "code",
            "name_id",
            "name_en",
            "default_agencies",
            "agencies_if_victims",
            "default_priority",
            "apco_code",
            "handoff",
        }
        if unknown:
            problems.append(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        if len(problems) == before:
            assert isinstance(code, str) and isinstance(priority, int)
            types.append(
                IncidentType(
                    code=code,
                    name_id=entry["name_id"].strip(),
                    name_en=entry["name_en"].strip(),
                    default_agencies=default_agencies,
                    default_priority=priority,
                    agencies_if_victims=if_victims,
                    apco_code=entry.get("apco_code"),
                    handoff=entry.get("handoff"),
                )
            )
    if problems:
        raise CatalogError(f"{source}: " + "; ".join(problems))
    return Catalog(tuple(types))


def _agencies(value: Any, where: str, problems: list[str], required: bool) -> tuple[str, ...]:
    if value is None and not required:
        return ()
    if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
        problems.append(f"{where} must be a list of agency codes")
        return ()
    unknown = [a for a in value if a not in AGENCIES]
    if unknown:
        problems.append(f"{where}: unknown agency {', '.join(map(repr, unknown))} (known: {', '.join(AGENCIES)})")
    if len(set(value)) != len(value):
        problems.append(f"{where}: an agency is listed twice")
    return tuple(a for a in AGENCIES if a in value)
