"""The process's own health: ARI and AMI links, the event loop, the event writer, failed effects.

A connected flag alone does not show a link that went quiet (Asterisk keeps a dead ARI WebSocket "connected",
DESIGN §4), and a quiet night has no call events. So a heartbeat sends a round trip over each link every
``metrics.heartbeat_s``: an ARI user event to our own application (it comes back over the WebSocket like any
event) and an AMI ``queue show`` of the fallback queue (which also gives the callers waiting there). The
last-event ages then stay near the heartbeat interval while a link works, and grow when it does not.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from padang112.config import MetricsSettings
from padang112.controller import Controller
from padang112.storage.repository import EventWriter

log = logging.getLogger(__name__)

HEARTBEAT_EVENT = "padang112-heartbeat"
LAG_BUCKETS_S = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
BATCH_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
COMMIT_LAG_BUCKETS_S = (0.0025, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class LinkMetrics:
    def __init__(
        self, registry: CollectorRegistry, controller: Controller, writer: EventWriter, settings: MetricsSettings
    ) -> None:
        self._controller = controller
        self._writer = writer
        self._settings = settings
        self._tasks: list[asyncio.Task[None]] = []
        self.started_at = time.monotonic()
        self.ari_heard_at = self.started_at  # a link never heard from ages from the process start
        self.ari_recording_failures = 0
        self.fallback_callers: int | None = None
        self.loop_lag = Histogram(
            "padang112_event_loop_lag_seconds",
            "How late the event loop woke up a sleeping task (time it spent busy elsewhere)",
            buckets=LAG_BUCKETS_S,
            registry=registry,
        )
        self.batch_time = Histogram(
            "padang112_event_writer_batch_seconds",
            "Time to commit one batch of domain events (one transaction, one fsync)",
            buckets=BATCH_BUCKETS_S,
            registry=registry,
        )
        self.commit_lag = Histogram(
            "padang112_event_commit_lag_seconds",
            "From the room's decision handing its events to the writer to their commit (queue wait included)",
            buckets=COMMIT_LAG_BUCKETS_S,
            registry=registry,
        )
        controller.ari_observers.append(self.on_ari_event)
        writer.batch_observers.append(self.on_batch)
        writer.lag_observers.append(self.commit_lag.observe)
        registry.register(self)

    # ---- observers ---------------------------------------------------------------------------------
    def on_ari_event(self, event: dict[str, Any]) -> None:
        self.ari_heard_at = time.monotonic()
        if event.get("type") == "RecordingFailed":
            self.ari_recording_failures += 1

    def on_batch(self, events: int, seconds: float) -> None:
        self.batch_time.observe(seconds)

    # ---- background --------------------------------------------------------------------------------
    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._measure_lag(), name="metrics-loop-lag"),
            asyncio.create_task(self._heartbeat(), name="metrics-heartbeat"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        for observers, observer in (
            (self._controller.ari_observers, self.on_ari_event),
            (self._writer.batch_observers, self.on_batch),
            (self._writer.lag_observers, self.commit_lag.observe),
        ):
            if observer in observers:
                observers.remove(observer)  # type: ignore[arg-type]

    async def _measure_lag(self) -> None:
        interval = self._settings.loop_lag_interval_s
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(interval)
            self.loop_lag.observe(max(0.0, loop.time() - before - interval))

    async def _heartbeat(self) -> None:
        controller = self._controller
        app = controller.settings.asterisk.app
        while True:
            if controller.ari_connected:
                try:
                    await controller.ari.post(f"/events/user/{HEARTBEAT_EVENT}", application=app)
                except Exception as exc:  # reported by the growing last-event age
                    log.debug("ARI heartbeat failed: %s", exc)
            if controller.ami.connected:
                try:
                    self.fallback_callers = await controller.ami.fallback_callers()
                except Exception as exc:
                    log.debug("AMI heartbeat failed: %s", exc)
                    self.fallback_callers = None
            else:
                self.fallback_callers = None
            await asyncio.sleep(self._settings.heartbeat_s)

    # ---- scrape ------------------------------------------------------------------------------------
    def collect(self) -> Iterator[Metric]:
        controller, now = self._controller, time.monotonic()
        yield GaugeMetricFamily(
            "padang112_ari_connected", "1 while ARI events flow (socket open, echo heard)", controller.ari_connected
        )
        lost = CounterMetricFamily(
            "padang112_ari_app_lost",
            "Times the ARI app's events stopped reaching this controller: another WebSocket took the app "
            "(replaced) or the echo went unheard (deaf); each time it reconnected (every node's link together)",
            labels=["how"],
        )
        for how in ("replaced", "deaf"):
            lost.add_metric([how], sum(link.listener.app_lost[how] for link in controller.links))
        yield lost
        yield GaugeMetricFamily("padang112_ami_connected", "1 while AMI is logged in", controller.ami.connected)
        linked = GaugeMetricFamily(
            "padang112_node_linked",
            "1 while the Asterisk node's ARI events flow, its calls are rebuilt and its AMI answers",
            labels=["node"],
        )
        for node, status in controller.node_status().items():
            linked.add_metric([node], status["ari"] and status["ami"])
        yield linked
        yield GaugeMetricFamily(
            "padang112_ari_last_event_age_seconds", "Since the last event read from ARI", now - self.ari_heard_at
        )
        ami_heard = controller.ami.last_reply_at
        yield GaugeMetricFamily(
            "padang112_ami_last_event_age_seconds",
            "Since AMI last answered",
            now - (ami_heard if ami_heard is not None else self.started_at),
        )
        if self.fallback_callers is not None:
            yield GaugeMetricFamily(
                "padang112_fallback_queue_callers",
                "Callers waiting in Asterisk's fallback queue now",
                self.fallback_callers,
            )
        yield GaugeMetricFamily(
            "padang112_event_writer_queue_depth", "Writes waiting for the event writer", self._writer.queue_depth
        )
        yield CounterMetricFamily(
            "padang112_event_writer_events", "Domain events committed by the event writer", self._writer.events
        )
        yield GaugeMetricFamily(
            "padang112_event_writer_backlog", "Domain events written and not yet stored", self._writer.backlog
        )
        waiting_since = self._writer.waiting_since
        yield GaugeMetricFamily(
            "padang112_event_writer_waiting_seconds",
            "How long the event writer has been waiting for the database (0: it is not)",
            0.0 if waiting_since is None else time.monotonic() - waiting_since,
        )
        yield GaugeMetricFamily(
            "padang112_room_inbox_depth",
            "ARI events, timers and requests waiting for the room",
            controller.inbox.qsize(),
        )
        failures = controller.runner.failures
        recordings = CounterMetricFamily(
            "padang112_recording_failures",
            "Recordings that failed to start or that Asterisk reported failed",
            labels=["stage"],
        )
        recordings.add_metric(["start"], failures["StartRecording"])
        recordings.add_metric(["asterisk"], self.ari_recording_failures)
        yield recordings
        effects = CounterMetricFamily(
            "padang112_effect_failures", "ARI/AMI requests that failed, by kind", labels=["effect"]
        )
        for effect, count in sorted(failures.items()):
            effects.add_metric([effect], count)
        yield effects
