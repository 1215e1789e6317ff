"""``ops/prometheus/``: Prometheus's own checker accepts the shipped files, and they only use metrics that exist.

``promtool`` is the Debian package's (installed by scripts/setup.sh). A rule or dashboard panel that names a
metric nobody exports would never fire or always show "no data": the names are compared with what a freshly
built :class:`~padang112.metrics.registry.Metrics` registry exports, plus what the taskprocessor exporter
(``padang112 asterisk taskprocessors``) makes of a real ``core show taskprocessors``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112 import config
from padang112.controller import Controller
from padang112.metrics.registry import Metrics
from padang112.pbx import taskprocessors
from padang112.storage.repository import EventWriter, Repository

OPS = config.PROJECT_ROOT / "ops" / "prometheus"
ASTERISK_CLI = config.PROJECT_ROOT / "tests" / "fixtures" / "asterisk_cli"
METRIC_NAME = re.compile(r"\b(padang112_[a-z0-9_]+)\b")
RECORDED = re.compile(r"\bpadang112:[a-z0-9_:]+")


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("promtool") is None:
        pytest.skip("promtool not installed (scripts/setup.sh installs the Debian package prometheus)")
    return subprocess.run(["promtool", *args], cwd=OPS, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    "args",
    [
        ("check", "rules", "padang112.rules.yml"),
        ("check", "config", "prometheus.yml"),
        ("test", "rules", "padang112.rules.test.yml"),
    ],
    ids=["check-rules", "check-config", "test-rules"],
)
def test_promtool_accepts_the_shipped_files(args: tuple[str, ...]) -> None:
    done = promtool(*args)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_every_required_alert_is_defined() -> None:
    rules = yaml.safe_load((OPS / "padang112.rules.yml").read_text())
    alerts = {rule["alert"] for group in rules["groups"] for rule in group["rules"] if "alert" in rule}
    assert {
        "CallerWaitingTooLong",
        "NoSeatReady",
        "FallbackQueueInUse",
        "AriDown",
        "AriSilent",
        "DatabaseNotStoring",
        "AmiDown",
        "AmiSilent",
        "AgencyPastDeadline",
        "RecordingsDiskLow",
        "CameraDown",
        "ControllerNotScraped",
        "AsteriskPjsipOverloaded",
        "AsteriskTaskprocessorBacklog",
        "AsteriskTaskprocessorsNotRead",
    } <= alerts


async def exported_names(settings: config.Settings, engine: AsyncEngine, writer: EventWriter) -> set[str]:
    metrics = Metrics(settings, Controller(settings, writer, Repository(engine)), writer, engine)
    await metrics.stores.refresh()
    metrics.room.answer_time.labels("telkom").observe(1.0)  # families with labels show samples once used
    metrics.stores.ack_time.labels("bpbd").observe(1.0)
    metrics.room.offered.labels("telkom", "controller").inc()
    for counter in (metrics.room.answered, metrics.room.abandoned):
        counter.labels("telkom", "controller").inc()
    metrics.room.completed.labels("telkom", "ended").inc()
    metrics.room.ring_no_answer.labels("seat01").inc()
    metrics.room.fallback_calls.labels("telkom").inc()
    metrics.links.fallback_callers = 0
    families = [*metrics.registry.collect(), *taskprocessor_exporter().collect()]
    return {family.name for family in families} | {sample.name for family in families for sample in family.samples}


def taskprocessor_exporter() -> taskprocessors.TaskprocessorCollector:
    captured = {
        taskprocessors.LIST_COMMAND: (ASTERISK_CLI / "taskprocessors_burst.txt").read_text(),
        taskprocessors.ALERTS_COMMAND: (ASTERISK_CLI / "alerted_subsystems_none.txt").read_text(),
    }
    return taskprocessors.TaskprocessorCollector(captured.__getitem__, top=10)


async def test_rules_and_dashboard_use_only_metrics_that_are_exported(
    settings: config.Settings, engine: AsyncEngine, writer: EventWriter
) -> None:
    exported = await exported_names(settings, engine, writer)
    rules_text = (OPS / "padang112.rules.yml").read_text()
    dashboard = json.loads((OPS / "grafana-dashboard.json").read_text())
    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]
    used = set(METRIC_NAME.findall(rules_text + "\n".join(expressions)))
    assert used, "no padang112 metric found"
    assert used <= exported, sorted(used - exported)
    recorded = {
        rule["record"] for group in yaml.safe_load(rules_text)["groups"] for rule in group["rules"] if "record" in rule
    }
    assert set(RECORDED.findall("\n".join(expressions))) <= recorded


def test_the_dashboard_is_one_grafana_dashboard_with_unique_panels() -> None:
    dashboard = json.loads((OPS / "grafana-dashboard.json").read_text())
    assert dashboard["uid"] == "padang112-room" and dashboard["timezone"] == "Asia/Jakarta"
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["type"] == "row" or panel["targets"], panel["title"]
