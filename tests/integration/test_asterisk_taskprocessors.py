"""The live switch: PJSIP counts only its own queues for overload, and the taskprocessor exporter reads it.

``padang112 asterisk taskprocessors --listen`` runs as its systemd unit runs it (ops/systemd/), reading the test
Asterisk through ``asterisk -rx`` in the chroot; what it serves is compared with the CLI's own table read just
before and after. Nothing here places a call: the shared switch stays as the other live tests expect it.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from padang112.pbx import taskprocessors as tp

pytestmark = pytest.mark.live


def pjsip_settings(asterisk) -> dict[str, str]:
    """``pjsip show settings`` as {option: value}."""
    rows = (line.split(":", 1) for line in asterisk.rx("pjsip show settings").splitlines() if ":" in line)
    return {key.strip(): value.strip() for key, value in rows}


async def test_pjsip_ignores_new_calls_only_for_a_backlog_of_its_own(asterisk) -> None:
    assert pjsip_settings(asterisk)["taskprocessor_overload_trigger"] == "pjsip_only"


async def scrape(address: str) -> tuple[dict[str, dict[str, float]], float]:
    """The exporter's families as {name: {label value or '': value}}, and how long the scrape took."""
    started = time.monotonic()
    async with aiohttp.ClientSession() as http, http.get(f"http://{address}/metrics") as response:
        assert response.status == 200
        text = await response.text()
    took = time.monotonic() - started
    families = {}
    for family in text_string_to_metric_families(text):
        families[family.name] = {next(iter(s.labels.values()), ""): s.value for s in family.samples}
    return families, took


async def test_the_exporter_serves_what_asterisk_shows(asterisk, taskprocessor_exporter: str) -> None:
    before = {t.name: t for t in tp.parse_taskprocessors(asterisk.rx(tp.LIST_COMMAND))}
    got, _ = await scrape(taskprocessor_exporter)
    after = {t.name: t for t in tp.parse_taskprocessors(asterisk.rx(tp.LIST_COMMAND))}

    assert got["padang112_asterisk_taskprocessors_up"] == {"": 1.0}
    assert min(len(before), len(after)) <= got["padang112_asterisk_taskprocessors"][""] <= max(len(before), len(after))
    assert got["padang112_asterisk_taskprocessor_alerts"]["pjsip"] == 0.0  # a calm switch takes calls
    depths = got["padang112_asterisk_taskprocessor_max_depth"]
    assert len(depths) == 10  # --top's default, of far more taskprocessors
    for name, depth in depths.items():  # the deepest-ever only grows between the two reads
        assert before[name].max_depth <= depth <= after[name].max_depth, name
        assert got["padang112_asterisk_taskprocessor_high_water"][name] == after[name].high_water

    timings = [(await scrape(taskprocessor_exporter))[1] * 1000 for _ in range(20)]
    print(
        f"\n{len(after)} taskprocessors, 10 exported; a scrape (two CLI reads): p50 {statistics.median(timings):.0f}"
        f" ms, max {max(timings):.0f} ms; deepest ever: "
        + ", ".join(f"{name} {depth:.0f}" for name, depth in list(depths.items())[:3])
    )


async def test_a_switch_the_exporter_cannot_reach_reads_as_down(asterisk) -> None:
    """Printed once for an instance that does not run: ``..._up 0`` and exit code 1, not an empty success."""
    env = dict(os.environ, PADANG112_ASTERISK__INSTANCE="p112-absent")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "padang112.cli",
            "--config",
            str(asterisk.settings.config_path),
            "asterisk",
            "taskprocessors",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "padang112_asterisk_taskprocessors_up 0.0" in done.stdout
    assert "padang112_asterisk_taskprocessor_queue{" not in done.stdout
