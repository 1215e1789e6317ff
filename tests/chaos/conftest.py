"""Chaos fixtures: the scenario's own supervised controller instead of the session's."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from padang112 import config
from tests.chaos.relay import FreezableRelay
from tests.chaos.supervisor import Supervisor
from tests.fixtures.postgres import Cluster


@pytest.fixture
async def supervised(
    no_controller: Any, live_settings: config.Settings, artefacts_dir: Path
) -> AsyncIterator[Supervisor]:
    """``padang112 serve`` under a restart-on-death supervisor (RestartSec=1), stopped after the test."""
    sup = Supervisor(live_settings, artefacts_dir / "chaos-controller.log")
    await sup.start()
    yield sup
    await sup.stop()


@pytest.fixture
async def ari_relay(asterisk: Any, live_settings: config.Settings) -> AsyncIterator[FreezableRelay]:
    """A freezable TCP relay in front of the switch's ARI/HTTP port (see relay.py)."""
    ast = live_settings.asterisk
    relay = FreezableRelay(ast.manager_address, ast.http_port)
    await relay.start()
    yield relay
    await relay.close()


@pytest.fixture
async def supervised_via_relay(
    no_controller: Any, ari_relay: FreezableRelay, live_settings: config.Settings, artefacts_dir: Path
) -> AsyncIterator[Supervisor]:
    """The supervised controller reaching ARI only through ``ari_relay`` (AMI and SIP go direct)."""
    env = {"PADANG112_ASTERISK__HTTP_PORT": str(ari_relay.port)}
    sup = Supervisor(live_settings, artefacts_dir / "chaos-relay-controller.log", env=env)
    await sup.start()
    yield sup
    await sup.stop()


@pytest.fixture
def pg_room_url(no_controller: Any, live_settings: config.Settings, pg_cluster: Cluster) -> Iterator[str]:
    """A new PostgreSQL database for the scenario's own controllers (issue 13's redundant room).

    Their calls are recorded by the session's Asterisk into the session's recordings directory but stored in this
    database: left there, they are files the session's database does not know (the backup test's restored room
    found them: "EXTRA"), so they are removed after the test. Nobody else recorded meanwhile (``no_controller``).
    """
    recordings = live_settings.recordings_dir
    before = {path.name for path in recordings.iterdir()}
    try:
        yield pg_cluster.url(pg_cluster.create_database())
    finally:
        for path in recordings.iterdir():
            if path.name not in before:
                path.unlink()
