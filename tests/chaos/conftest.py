"""Chaos fixtures: the scenario's own supervised controller instead of the session's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from padang112 import config
from tests.chaos.supervisor import Supervisor


@pytest.fixture
async def supervised(
    no_controller: Any, live_settings: config.Settings, artefacts_dir: Path
) -> AsyncIterator[Supervisor]:
    """``padang112 serve`` under a restart-on-death supervisor (RestartSec=1), stopped after the test."""
    sup = Supervisor(live_settings, artefacts_dir / "chaos-controller.log")
    await sup.start()
    yield sup
    await sup.stop()
