"""``padang112 doctor``: the go-live checks (:mod:`padang112.ops.checks`), what to fix, and an exit code.

Exit code 1 if any check failed (warnings do not fail), else 0. Indonesian by default, ``--lang en``.
"""

from __future__ import annotations

from collections.abc import Iterable

from padang112.config import Settings
from padang112.ops.checks import local_checks
from padang112.ops.checks_base import FAIL, WARN, Check

LABEL = {
    "id": {"ok": "OK   ", "warn": "AWAS ", "fail": "GAGAL", "fix": "perbaiki", "summary": "{f} gagal, {w} peringatan"},
    "en": {"ok": "OK   ", "warn": "WARN ", "fail": "FAIL ", "fix": "fix", "summary": "{f} failed, {w} warnings"},
}


def render(checks: Iterable[Check], lang: str = "id") -> tuple[list[str], int]:
    """The lines to print and the exit code."""
    label = LABEL[lang]
    lines: list[str] = []
    failed = warned = 0
    for check in checks:
        failed += check.status == FAIL
        warned += check.status == WARN
        lines.append(f"[{label[check.status]}] {check.name:<9} {check.message[lang]}")
        if check.fix is not None and check.status != "ok":
            lines.append(f"{'':18}{label['fix']}: {check.fix[lang]}")
    lines.append(label["summary"].format(f=failed, w=warned))
    return lines, 1 if failed else 0


def run_doctor(settings: Settings, lang: str = "id") -> int:
    lines, code = render(local_checks(settings), lang)
    for line in lines:
        print(line)
    return code
