"""The live switch: PJSIP counts only its own queues for overload."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.live


def pjsip_settings(asterisk) -> dict[str, str]:
    """``pjsip show settings`` as {option: value}."""
    rows = (line.split(":", 1) for line in asterisk.rx("pjsip show settings").splitlines() if ":" in line)
    return {key.strip(): value.strip() for key, value in rows}


async def test_pjsip_ignores_new_calls_only_for_a_backlog_of_its_own(asterisk) -> None:
    assert pjsip_settings(asterisk)["taskprocessor_overload_trigger"] == "pjsip_only"
