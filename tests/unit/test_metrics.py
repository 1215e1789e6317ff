"""``/metrics``: figures derived from the room's events, read from the stores, and who may scrape them.

The room figures are fed the same domain events the controller publishes; the store figures read a real,
migrated SQLite file written through the real stores; the access test serves ``/metrics`` over HTTP and
connects from a loopback address outside the configured scrape list, as an intruder on the network would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112 import cli, config
from padang112.accounts.users import UserStore
from padang112.callbacks.store import CallbackStore
from padang112.cameras.model import CameraDraft, ProbeResult
from padang112.cameras.registry import CameraRegistry
from padang112.controller import Controller
from padang112.domain.events import CallTransition, SeatPhoneFailed, SeatTransition
from padang112.incidents import routing
from padang112.incidents.model import IncidentDraft, TaskState
from padang112.incidents.store import IncidentStore
from padang112.metrics.registry import Metrics, from_scraper, scrape_networks
from padang112.metrics.room import RoomMetrics
from padang112.metrics.stores import StoreMetrics
from padang112.storage.repository import EventWriter, Repository
from padang112.telephony.fallback_import import FallbackCall, fallback_events
from padang112.web import auth, keys
from padang112.web import metrics as metrics_http
from tests.unit.conftest import FakeClock

T0 = datetime(2023, 8, 7, 1, 12, tzinfo=UTC)
SEATS = ["seat01", "seat02", "seat03"]


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def answered_after(room: RoomMetrics, call_id: str, carrier: str, seconds: float) -> None:
    for event in (
        CallTransition(call_id, at(0), None, "received", data={"carrier": carrier}),
        CallTransition(call_id, at(0.1), "received", "queued"),
        CallTransition(call_id, at(seconds - 1), "queued", "offered", seat="seat01"),
        CallTransition(call_id, at(seconds), "offered", "connected", seat="seat01"),
    ):
        room.on_event(event)


def value(registry: CollectorRegistry, name: str, /, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def test_answer_times_fall_into_the_nena_buckets_5_10_15_20_30_60_s() -> None:
    registry = CollectorRegistry()
    room = RoomMetrics(registry, SEATS)
    for n, seconds in enumerate((3, 12, 14.9, 16, 19, 45, 70)):
        answered_after(room, f"c{n}", "telkomsel", seconds)

    bucket = "padang112_call_answer_time_seconds_bucket"
    counts = {
        le: value(registry, bucket, carrier="telkomsel", le=le)
        for le in ("5.0", "10.0", "15.0", "20.0", "30.0", "60.0", "+Inf")
    }
    assert counts == {"5.0": 1, "10.0": 1, "15.0": 3, "20.0": 5, "30.0": 5, "60.0": 6, "+Inf": 7}
    assert value(registry, "padang112_calls_answered_total", carrier="telkomsel", via="controller") == 7
    assert value(registry, "padang112_calls_offered_total", carrier="telkomsel", via="controller") == 7
    assert value(registry, "padang112_callers_waiting") == 0


def test_callers_waiting_and_the_oldest_wait_follow_arrivals_and_hang_ups() -> None:
    clock = FakeClock()
    clock.now = at(0)
    registry = CollectorRegistry()
    room = RoomMetrics(registry, SEATS, clock)
    room.on_event(CallTransition("a", at(0), None, "received", data={"carrier": "xl"}))
    room.on_event(CallTransition("a", at(0.1), "received", "queued"))
    room.on_event(CallTransition("b", at(5), None, "received", data={"carrier": "telkom"}))
    clock.now = at(20)

    assert value(registry, "padang112_callers_waiting") == 2
    assert value(registry, "padang112_caller_oldest_wait_seconds") == 20

    room.on_event(CallTransition("a", at(20), "queued", "abandoned", data={"ended_by": "caller"}))
    assert value(registry, "padang112_callers_waiting") == 1
    assert value(registry, "padang112_caller_oldest_wait_seconds") == 15
    assert value(registry, "padang112_calls_abandoned_total", carrier="xl", via="controller") == 1
    assert value(registry, "padang112_calls_completed_total", carrier="xl", outcome="abandoned") == 1

    room.on_event(CallTransition("b", at(21), "received", "handed_over"))
    assert value(registry, "padang112_callers_waiting") == 0
    assert value(registry, "padang112_caller_oldest_wait_seconds") == 0


def test_seats_are_counted_by_state_and_a_ring_out_counts_a_pause() -> None:
    registry = CollectorRegistry()
    room = RoomMetrics(registry, SEATS)
    assert value(registry, "padang112_seats", state="offline") == 3
    room.on_event(SeatTransition("seat01", at(0), "offline", "available"))
    room.on_event(SeatTransition("seat02", at(0), "offline", "available"))
    room.on_event(SeatTransition("seat02", at(1), "available", "offered", call_id="c"))
    room.on_event(SeatTransition("seat02", at(5), "offered", "paused", reason="not_responding", call_id="c"))

    assert value(registry, "padang112_seats", state="available") == 1
    assert value(registry, "padang112_seats", state="paused") == 1
    assert value(registry, "padang112_seats", state="offline") == 1
    assert value(registry, "padang112_seats_paused", reason="not_responding") == 1
    assert value(registry, "padang112_ring_no_answer_pauses_total", seat="seat02") == 1
    room.on_event(SeatPhoneFailed("seat01", at(6), "d", "busy", 17, 1, 5.0, False))
    assert value(registry, "padang112_seat_phone_failures_total", seat="seat01", kind="busy") == 1


def fallback_call(
    uid: str, carrier: str, start: datetime, end: datetime, seat: str | None = None, answered: datetime | None = None
) -> FallbackCall:
    return FallbackCall(uid, start, carrier, "081200000009", "", "112", end, seat, answered)


def test_calls_imported_from_the_fallback_queue_are_counted_with_via_fallback() -> None:
    registry = CollectorRegistry()
    room = RoomMetrics(registry, SEATS)
    answered = fallback_call("fb1", "indosat", at(0), end=at(60), seat="seat02", answered=at(9))
    gone = fallback_call("fb2", "indosat", at(1), end=at(30))
    for call in (answered, gone):
        for event in fallback_events(call, "/rec"):
            room.on_event(event)

    assert value(registry, "padang112_fallback_calls_total", carrier="indosat") == 2
    assert value(registry, "padang112_calls_offered_total", carrier="indosat", via="fallback") == 2
    assert value(registry, "padang112_calls_answered_total", carrier="indosat", via="fallback") == 1
    assert value(registry, "padang112_calls_abandoned_total", carrier="indosat", via="fallback") == 1
    assert value(registry, "padang112_call_answer_time_seconds_bucket", carrier="indosat", le="10.0") == 1
    assert value(registry, "padang112_callers_waiting") == 0


def test_a_call_handed_over_then_imported_is_offered_once_and_keeps_its_carrier() -> None:
    registry = CollectorRegistry()
    room = RoomMetrics(registry, SEATS)
    room.on_event(CallTransition("h", at(0), None, "received", data={"carrier": "three"}))
    room.on_event(CallTransition("h", at(2), "received", "handed_over"))
    call = fallback_call("h", "three", at(0), end=at(50), seat="seat03", answered=at(12))
    for event in fallback_events(call, "/rec", handed_over=True):
        room.on_event(event)

    assert value(registry, "padang112_calls_offered_total", carrier="three", via="controller") == 1
    assert value(registry, "padang112_calls_offered_total", carrier="three", via="fallback") is None
    assert value(registry, "padang112_fallback_calls_total", carrier="three") == 1
    assert value(registry, "padang112_calls_answered_total", carrier="three", via="fallback") == 1


DRAFT = IncidentDraft(
    type_code="banjir", priority=2, kecamatan="Kuranji", description="air setinggi lutut", agencies=("bpbd", "pupr")
)
CAMERA = CameraDraft("Simpang Haru", "Padang Timur", "", -0.95, 100.37, "traffic", "snapshot", "http://10.0.0.9/s.jpg")


async def test_store_figures_count_call_backs_agency_tasks_cameras_and_acknowledge_times(
    engine: AsyncEngine, clock: FakeClock, tmp_path: Path
) -> None:
    registry = CollectorRegistry()
    figures = StoreMetrics(registry, engine, tmp_path, clock)
    callbacks = CallbackStore(engine, clock)
    await callbacks.abandoned("c1", "081200000001", "telkomsel", deadline_s=300)
    incidents = IncidentStore(engine, clock)
    flood = await incidents.create(DRAFT, "rina", routing.ack_deadline_s)  # BPBD and PUPR, 120 s deadline
    cameras = CameraRegistry(engine, clock=clock)
    up = await cameras.add(CAMERA, by="admin1")
    down = await cameras.add(CameraDraft(**{**CAMERA.__dict__, "name": "Pasar Raya"}), by="admin1")
    await cameras.record_probe(ProbeResult(up.id, True, clock.now))
    await cameras.record_probe(ProbeResult(down.id, False, clock.now, "timeout"))

    clock.advance(seconds=25)
    await incidents.set_task_state(flood.id, "bpbd", TaskState.ACKNOWLEDGED, by="bpbd1")
    clock.advance(seconds=400)
    await figures.refresh()

    assert value(registry, "padang112_callbacks_pending") == 1
    assert value(registry, "padang112_callbacks_overdue") == 1
    assert value(registry, "padang112_agency_tasks_waiting", agency="pupr") == 1
    assert value(registry, "padang112_agency_tasks_overdue", agency="pupr") == 1
    assert value(registry, "padang112_agency_tasks_waiting", agency="bpbd") == 0
    assert value(registry, "padang112_agency_acknowledge_time_seconds_bucket", agency="bpbd", le="30.0") == 1
    assert value(registry, "padang112_agency_acknowledge_time_seconds_bucket", agency="bpbd", le="15.0") == 0
    assert value(registry, "padang112_cameras", status="online") == 1
    assert value(registry, "padang112_cameras", status="offline") == 1
    assert value(registry, "padang112_camera_down_seconds", camera=str(down.id), name="Pasar Raya") == 425
    assert (
        value(registry, "padang112_recordings_disk_size_bytes")
        > value(registry, "padang112_recordings_disk_free_bytes")
        > 0
    )

    await figures.refresh()  # an acknowledgement is observed once, however often Prometheus scrapes
    assert value(registry, "padang112_agency_acknowledge_time_seconds_count", agency="bpbd") == 1


# ---- who may scrape ----------------------------------------------------------------------------------


@pytest.fixture
async def metrics_server(
    settings: config.Settings, engine: AsyncEngine, writer: EventWriter
) -> AsyncIterator[TestServer]:
    """``/metrics`` behind the real sign-in layer; only 127.0.0.1 is a scrape address."""
    settings.metrics.scrape_addresses = ("127.0.0.1/32",)
    app = web.Application()
    auth.setup(app, settings, engine=engine)
    metrics_http.setup(app)
    controller = Controller(settings, writer, Repository(engine))  # built, never started: no Asterisk here
    app[keys.METRICS] = Metrics(settings, controller, writer, engine)
    async with TestServer(app, host="127.0.0.1") as server:
        yield server


async def get_metrics(server: TestServer, source: str, cookie: str | None = None) -> tuple[int, str]:
    connector = aiohttp.TCPConnector(local_addr=(source, 0))
    cookies = {auth.SESSION_COOKIE: cookie} if cookie else None
    async with aiohttp.ClientSession(connector=connector, cookies=cookies) as http:
        async with http.get(server.make_url("/metrics")) as response:
            return response.status, await response.text()


async def session_of(server: TestServer, role: str) -> str:
    users: UserStore = server.app[auth.AUTH].users
    user = await users.create(f"u{role.replace('_', '')}", role=role, password="kuranji-banjir-2023")
    return (await server.app[auth.AUTH].sessions.open(user.id)).token


async def test_each_committed_write_is_observed_as_its_event_to_commit_lag(
    metrics_server: TestServer, writer: EventWriter
) -> None:
    for n in range(3):
        await writer.write([CallTransition(f"lag-{n}", datetime(2026, 12, 3, 1, 0, tzinfo=UTC), None, "received")])
    _, text = await get_metrics(metrics_server, "127.0.0.1")
    assert "padang112_event_commit_lag_seconds_count 3.0" in text
    assert 'padang112_event_commit_lag_seconds_bucket{le="10.0"} 3.0' in text


async def test_metrics_are_served_to_a_scrape_address_without_a_session(metrics_server: TestServer) -> None:
    status, text = await get_metrics(metrics_server, "127.0.0.1")
    assert status == 200
    for name in ("padang112_callers_waiting", "padang112_call_answer_time_seconds", "padang112_ari_connected 0.0"):
        assert name in text


async def test_metrics_are_refused_to_other_addresses_unless_a_supervisor_is_signed_in(
    metrics_server: TestServer,
) -> None:
    status, text = await get_metrics(metrics_server, "127.0.0.2")
    assert status == 403 and "padang112_" not in text
    call_taker = await session_of(metrics_server, "call_taker")
    assert (await get_metrics(metrics_server, "127.0.0.2", call_taker))[0] == 403
    assert (await get_metrics(metrics_server, "127.0.0.2", "forged-token"))[0] == 403
    supervisor = await session_of(metrics_server, "supervisor")
    status, text = await get_metrics(metrics_server, "127.0.0.2", supervisor)
    assert status == 200 and "padang112_seats" in text


def test_scrape_addresses_accept_hosts_networks_and_ipv4_mapped_peers() -> None:
    networks = scrape_networks(["10.1.2.3", "192.168.7.0/24", "::1/128"])
    assert from_scraper("10.1.2.3", networks)
    assert from_scraper("192.168.7.200", networks)
    assert from_scraper("::ffff:10.1.2.3", networks)
    assert from_scraper("::1", networks)
    assert not from_scraper("10.1.2.4", networks)
    assert not from_scraper(None, networks)
    assert not from_scraper("/run/padang112.sock", networks)
    with pytest.raises(ValueError):
        scrape_networks(["not-an-address"])


def test_the_asterisk_metrics_password_is_generated_and_handed_to_prometheus_in_a_0640_file(
    settings: config.Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "prometheus" / "asterisk.password"
    assert cli.main(["--config", str(settings.config_path), "secrets", "--metrics-password-file", str(target)]) == 0
    password = settings.secrets().metrics_password
    assert len(password) >= 24 and target.read_text() == password
    assert target.stat().st_mode & 0o777 == 0o640
    assert password not in capsys.readouterr().out
