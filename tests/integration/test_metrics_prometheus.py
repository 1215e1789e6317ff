"""The real Prometheus (Debian package) scrapes the live controller and Asterisk with the shipped config and rules.

Prometheus runs with its own data directory on a loopback port of this slot, the job names, rules and Asterisk
Basic auth of ``ops/prometheus/``, and 1 s scrape and evaluation intervals. Calls answered by a seat must land
in the answer-time histogram; a caller kept waiting behind a busy seat must fire CallerWaitingTooLong and
NoSeatReady, read back through Prometheus's HTTP API. Its third job reads the taskprocessor exporter
(``padang112 asterisk taskprocessors``) beside the test Asterisk.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from padang112 import config, logs
from padang112.simulator import fleet
from tests.fixtures.controller import background, eventually, seat_is
from tests.slot import SLOT

pytestmark = pytest.mark.live

OPS = config.PROJECT_ROOT / "ops" / "prometheus"
PORT = 9190 + 100 * SLOT
JOBS = ("padang112", "asterisk", "asterisk-taskprocessors")


class Prometheus:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    async def api(self, path: str, **params: str) -> Any:
        async with aiohttp.ClientSession() as http:
            async with http.get(self.base_url + path, params=params, timeout=aiohttp.ClientTimeout(total=5)) as r:
                body = await r.json()
        assert body["status"] == "success", body
        return body["data"]

    async def value(self, query: str) -> float | None:
        """The query's single value now (None when it has no result)."""
        result = (await self.api("/api/v1/query", query=query))["result"]
        return float(result[0]["value"][1]) if result else None

    async def firing(self) -> set[str]:
        return {
            a["labels"]["alertname"] for a in (await self.api("/api/v1/alerts"))["alerts"] if a["state"] == "firing"
        }


def live_config(settings: config.Settings, password_file: Path, taskprocessors: str) -> dict[str, Any]:
    """ops/prometheus/prometheus.yml with this slot's targets, 1 s intervals and absolute paths."""
    conf = yaml.safe_load((OPS / "prometheus.yml").read_text())
    conf["global"].update(scrape_interval="1s", evaluation_interval="1s", scrape_timeout="1s")
    conf["rule_files"] = [str(OPS / name) for name in conf["rule_files"]]
    targets = {
        "padang112": f"{settings.web.host}:{settings.web.port}",
        "asterisk": f"{settings.asterisk.bind_address}:{settings.asterisk.http_port}",
        "asterisk-taskprocessors": taskprocessors,
    }
    for job in conf["scrape_configs"]:
        job["static_configs"] = [{"targets": [targets[job["job_name"]]]}]
        if "basic_auth" in job:
            job["basic_auth"]["password_file"] = str(password_file)
    return conf


@pytest.fixture
async def prometheus(
    controller, taskprocessor_exporter: str, live_settings: config.Settings, tmp_path: Path, artefacts_dir: Path
) -> AsyncIterator[Prometheus]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("prometheus not installed (scripts/setup.sh installs the Debian package)")
    password = tmp_path / "asterisk.password"
    password.write_text(live_settings.secrets().metrics_password)
    conf = tmp_path / "prometheus.yml"
    conf.write_text(yaml.safe_dump(live_config(live_settings, password, taskprocessor_exporter)))
    command = [
        binary,
        f"--config.file={conf}",
        f"--storage.tsdb.path={tmp_path / 'data'}",
        f"--web.listen-address=127.0.0.1:{PORT}",
        "--log.level=warn",
    ]
    server = Prometheus(f"http://127.0.0.1:{PORT}")

    async def ready() -> bool:
        try:
            return all([await server.value(f'up{{job="{job}"}}') == 1 for job in JOBS])
        except (aiohttp.ClientError, OSError, AssertionError, KeyError):
            return False

    what = "Prometheus scraping the controller, Asterisk and its taskprocessors"
    async with background(command, artefacts_dir / "prometheus.log", ready, what):
        yield server


async def test_prometheus_reads_answer_times_and_fires_the_waiting_caller_alerts(
    prometheus: Prometheus, seat_phones, simulator, seat_pool, live_settings: config.Settings, controller, repo
) -> None:
    log_start = controller.log_path.stat().st_size
    # Asterisk's own metrics come through res_prometheus, behind the generated password; the dashboard's exist
    assert await prometheus.value("asterisk_core_uptime_seconds") is not None
    # Asterisk's internal queues, through the exporter: read, and none in high-water alert on a calm switch
    assert await prometheus.value("padang112_asterisk_taskprocessors_up") == 1
    assert await prometheus.value('padang112_asterisk_taskprocessor_alerts{subsystem="pjsip"}') == 0
    assert await prometheus.value("count(padang112_asterisk_taskprocessor_queue)") == 10
    dashboard = (OPS / "grafana-dashboard.json").read_text()
    for name in sorted(set(re.findall(r"\basterisk_[a-z_]+", dashboard))):
        assert await prometheus.value(f"count({name})"), f"{name} (used by the dashboard) is not exported"
    assert await eventually(lambda: prometheus.value("padang112_ari_connected"), 10, what="ARI connected")
    # the heartbeat keeps the links' last-event ages near its 5 s interval on a quiet switch
    assert await prometheus.value("max(padang112_ari_last_event_age_seconds)") < 2 * live_settings.metrics.heartbeat_s
    assert await prometheus.value("max(padang112_ami_last_event_age_seconds)") < 2 * live_settings.metrics.heartbeat_s

    (seat,) = seat_pool(1)
    await seat_phones([seat], answer_after=0.5)
    citizen = await simulator("citizen")
    target, trunk = fleet.target_uri(live_settings), fleet.carrier_address(live_settings, "telkomsel")
    answered_before = await prometheus.value('sum(padang112_call_answer_time_seconds_count{carrier="telkomsel"})') or 0
    within_5s = 'sum(padang112_call_answer_time_seconds_bucket{carrier="telkomsel",le="5.0"})'
    within_before = await prometheus.value(within_5s) or 0  # the session's earlier callers may have waited longer
    for n in range(3):
        await citizen.call(f"quick{n}", target, bind=trunk, caller=f"+62812000091{n}", hangup_after=3)
        await citizen.wait_call_state(f"quick{n}", "DISCONNECTED", 20)
        await eventually(lambda: seat_is(repo, seat, "available"), 10, what="the seat ready again after wrap-up")

    answered = 'sum(padang112_call_answer_time_seconds_count{carrier="telkomsel"})'
    await eventually(
        lambda: _at_least(prometheus, answered, answered_before + 3), 10, what="3 more answered calls in Prometheus"
    )
    assert await prometheus.value(within_5s) >= within_before + 3, "answered after 0.5 s: all in the 5 s bucket"
    seconds = 'sum(padang112_call_answer_time_seconds_sum{carrier="telkomsel"})'
    mean = await prometheus.value(f"{seconds} / {answered}")
    print(f"\nPrometheus: 3 more answered calls, all in the <=5 s bucket; mean time to answer {mean:.2f} s (session)")

    # the seat is busy with a long call; the next caller waits with no seat ready
    await citizen.call("long", target, bind=trunk, caller="+628120000920", hangup_after=40)
    await eventually(lambda: prometheus.value('padang112_seats{state="busy"}'), 15, what="the seat busy")
    started = time.monotonic()
    await citizen.call("waiting", target, bind=trunk, caller="+628120000921", hangup_after=30)
    await eventually(lambda: _fires(prometheus, "NoSeatReady"), 25, 0.5, what="NoSeatReady firing")
    no_seat_s = time.monotonic() - started
    await eventually(lambda: _fires(prometheus, "CallerWaitingTooLong"), 25, 0.5, what="CallerWaitingTooLong firing")
    waiting_s = time.monotonic() - started
    oldest = await prometheus.value("max(padang112_caller_oldest_wait_seconds)")
    print(
        f"Prometheus: NoSeatReady firing after {no_seat_s:.1f} s, CallerWaitingTooLong after {waiting_s:.1f} s "
        f"(oldest wait {oldest:.1f} s)"
    )
    assert waiting_s >= 15 and oldest > 15
    await citizen.hangup("waiting")
    await citizen.hangup("long")

    # the controller logged these calls (the abandoned one put on the call-back list) without a number in clear
    numbers = [f"+62812000091{n}" for n in range(3)] + ["+628120000920", "+628120000921"]
    await eventually(
        lambda: _logged(controller.log_path, log_start, logs.mask_number(numbers[-1])),
        10,
        what="the call-back line with the masked number",
    )
    written = controller.log_path.read_bytes()[log_start:].decode(errors="replace")
    assert not [number for number in numbers if number in written]


async def _logged(path: Path, start: int, text: str) -> bool:
    return text in path.read_bytes()[start:].decode(errors="replace")


async def _at_least(prometheus: Prometheus, query: str, floor: float) -> bool:
    value = await prometheus.value(query)
    return value is not None and value >= floor


async def _fires(prometheus: Prometheus, alert: str) -> bool:
    return alert in await prometheus.firing()
