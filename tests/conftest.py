"""Shared test set-up.

Live tests run against one real Asterisk instance ("test", its own ports) started once per session, one
controller process, and pjsua2/SIPp peers. Each test takes its own seats from ``seat_pool`` instead of
restarting the switch.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from padang112 import config
from padang112.web import tls
from tests.slot import SLOT

pytest_plugins = [  # controller first: asterisk imports its helpers, and a module imported early is not rewritten
    "tests.fixtures.controller",
    "tests.fixtures.asterisk",
    "tests.fixtures.simulator",
    "tests.fixtures.browser",
    "tests.fixtures.camera_streams",
    "tests.fixtures.postgres",
    "tests.fixtures.edge",
]

TEST_SEATS = 72  # 73 seats: 146 event sources, more than Asterisk takes in one subscription request
TLS_SEAT = f"seat{TEST_SEATS + 1:02d}"  # one more seat, never handed out: it must use TLS + SRTP (test_tls.py)
# two more, never handed out: they register at the SIP edge (Kamailio, tests/fixtures/edge.py), Asterisk reaches
# them through it; the others register at Asterisk as in the single box
EDGE_SEATS = (f"seat{TEST_SEATS + 2:02d}", f"seat{TEST_SEATS + 3:02d}")

# P112_TEST_DATABASE=postgresql: the live controller stores into a database on the session's throwaway PostgreSQL 15
# (tests/fixtures/postgres.py) instead of its SQLite file; CI keeps SQLite.
DATABASE = os.environ.get("P112_TEST_DATABASE", "sqlite")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The live tests share one room: those that leave it busy (an earthquake's call-backs, a demo's open
    incidents) run after every other, so the others still find their item on a list's first page."""
    items.sort(key=lambda item: item.get_closest_marker("leaves_room_busy") is not None)


@pytest.fixture(scope="session")
def artefacts_dir() -> Path:
    path = Path(__file__).resolve().parent.parent / "artefacts"
    if SLOT:
        path = path / f"slot{SLOT}"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def live_settings(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> config.Settings:
    """Settings of the test instance: own ports, state dir, recordings dir and database."""
    state = tmp_path_factory.mktemp("state")
    recordings = state / "recordings"
    recordings.mkdir()
    assert DATABASE in ("sqlite", "postgresql"), f"P112_TEST_DATABASE={DATABASE}: sqlite or postgresql"
    database_url = ""
    if DATABASE == "postgresql":
        cluster = request.getfixturevalue("pg_cluster")
        database_url = cluster.url(cluster.create_database())
    toml = state / "padang112.toml"
    toml.write_text(
        f"""
state_dir = "{state}"
recordings_dir = "{recordings}"
database_url = "{database_url}"
log_level = "DEBUG"

[asterisk]
instance = "{"test" if SLOT == 0 else f"test{SLOT}"}"
sip_port = {5070 + 100 * SLOT}
sip_tls_port = {5071 + 100 * SLOT}
tls_cert = "{state / "tls" / "console.crt"}"
tls_key = "{state / "tls" / "console.key"}"
secure_phones = ["{TLS_SEAT}"]
http_port = {8098 + 100 * SLOT}
ami_port = {5048 + 100 * SLOT}
rtp_start = {15000 if SLOT == 0 else 30000 + 2000 * SLOT}
rtp_end = {19999 if SLOT == 0 else 31999 + 2000 * SLOT}

[edge]
enabled = true
address = "127.0.2.{1 + SLOT}"  # its own loopback address: Asterisk identifies the edge by it (seats use 127.0.0.1)
port = {5075 + 100 * SLOT}
phones = {list(EDGE_SEATS)}
run_dir = "/tmp/padang112-edge-slot{SLOT}"  # fixed per slot: a killed session's Kamailio is found and stopped

[calls]
seat_count = {TEST_SEATS + 1 + len(EDGE_SEATS)}
ring_timeout_s = 4.0
wrap_up_s = 1.0
min_talk_s = 0.25  # test phones end calls after 0.5 s; a phone that drops a call at once hangs up at 0.0
position_announce_s = 8.0
duty_retry_s = 2.0
duty_ring_s = 8.0

[web]
port = {8090 + 100 * SLOT}
insecure_http = true  # plain HTTP on loopback for the live suite (tests/security/test_tls.py serves HTTPS)

[cameras]
probe_interval_s = 2.0
probe_timeout_s = 1.5
allowed_networks = ["127.0.0.1/32", "10.20.0.0/16"]  # test cameras (fixtures/camera_streams.py), a city camera net
"""
    )
    settings = config.load(toml, environ={})
    tls.self_signed(settings, [])  # the SIP TLS transport's certificate (and the HTTPS test's)
    return settings


@pytest.fixture(scope="session")
def _seat_numbers() -> itertools.count:
    return itertools.count(1)


@pytest.fixture
def seat_pool(live_settings: config.Settings, _seat_numbers: itertools.count):
    """Hands out seats no other test has used: ``seat_pool(2)`` -> ['seat07', 'seat08']."""

    def take(n: int = 1) -> list[str]:
        seats = [live_settings.seats[next(_seat_numbers) - 1] for _ in range(n)]
        assert TLS_SEAT not in seats and not set(EDGE_SEATS) & set(seats), f"more than {TEST_SEATS} seats taken"
        return seats

    return take
