"""What a go-live check returns (shared by :mod:`padang112.ops.checks` and :mod:`padang112.ops.checks_network`)."""

from __future__ import annotations

from dataclasses import dataclass

OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok | warn | fail
    message: dict[str, str]  # lang -> text
    fix: dict[str, str] | None = None


def make(name: str, status: str, id_: str, en: str, fix_id: str = "", fix_en: str = "") -> Check:
    """A check's result with its message (and fix, if any) in Indonesian and English."""
    return Check(name, status, {"id": id_, "en": en}, {"id": fix_id, "en": fix_en} if fix_id else None)
