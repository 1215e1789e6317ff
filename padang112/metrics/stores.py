"""Figures read from the database and the disk when Prometheus scrapes (:meth:`StoreMetrics.refresh`).

Call-backs pending and overdue, agency tasks waiting for Terima and overdue, cameras up or down, free space on
the recordings volume: a few indexed ``COUNT``s per scrape instead of a copy of every store's state. The
acknowledge-time histogram is fed from the same reads: each task acknowledged since the last scrape is
observed once (tasks acknowledged before this process started are left out, as a restarted counter would).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from padang112.cameras.model import OFFLINE, ONLINE, UNKNOWN
from padang112.domain.callbacks import ACTIVE
from padang112.incidents.model import AGENCIES, TaskState
from padang112.metrics.room import Clock, utc_now
from padang112.storage.db import session_factory
from padang112.storage.models import AgencyTaskRow, CallbackRow, CameraHealthRow, CameraRow

ACK_BUCKETS_S = (15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0)  # deadlines: 60 s (priority 1) ... 900 s
ACK_SLACK = timedelta(minutes=2)  # an acknowledgement committed late (clock read before a slow commit) is still seen


@dataclass(frozen=True)
class CameraFigure:
    id: int
    name: str
    up: bool
    down_s: float  # how long it has been offline (0 when up or never probed)


@dataclass
class Snapshot:
    callbacks_pending: int = 0
    callbacks_overdue: int = 0
    tasks_waiting: dict[str, int] = field(default_factory=dict)
    tasks_overdue: dict[str, int] = field(default_factory=dict)
    cameras: list[CameraFigure] = field(default_factory=list)
    cameras_unknown: int = 0
    disk_free_bytes: float = 0.0
    disk_size_bytes: float = 0.0


class StoreMetrics:
    def __init__(
        self, registry: CollectorRegistry, engine: AsyncEngine, recordings_dir: Path, clock: Clock = utc_now
    ) -> None:
        self._read = session_factory(engine)
        self._recordings_dir = recordings_dir
        self._clock = clock
        self._since = clock()
        self._acknowledged: dict[int, datetime] = {}  # task id -> acknowledged at, within the slack window
        self.ack_time = Histogram(
            "padang112_agency_acknowledge_time_seconds",
            "From an agency task's dispatch to its Terima (acknowledge)",
            ["agency"],
            buckets=ACK_BUCKETS_S,
            registry=registry,
        )
        self.snapshot = Snapshot()
        registry.register(self)

    async def refresh(self) -> None:
        now = self._clock()
        snap = Snapshot()
        async with self._read() as session:
            active = CallbackRow.state.in_([s.value for s in ACTIVE])
            pending, overdue = (
                await session.execute(
                    select(func.count(), func.count(case((CallbackRow.deadline < now, 1)))).where(active)
                )
            ).one()
            snap.callbacks_pending, snap.callbacks_overdue = int(pending), int(overdue)
            waiting = select(
                AgencyTaskRow.agency, func.count(), func.count(case((AgencyTaskRow.ack_deadline < now, 1)))
            ).where(AgencyTaskRow.state == TaskState.DISPATCHED.value)
            for agency, count, late in (await session.execute(waiting.group_by(AgencyTaskRow.agency))).all():
                snap.tasks_waiting[agency], snap.tasks_overdue[agency] = int(count), int(late)
            await self._observe_acknowledged(session)
            cameras = select(CameraRow.id, CameraRow.name, CameraHealthRow.status, CameraHealthRow.changed_at)
            cameras = cameras.outerjoin(CameraHealthRow).where(CameraRow.enabled.is_(True)).order_by(CameraRow.id)
            for camera_id, name, status, changed_at in (await session.execute(cameras)).all():
                if status in (None, UNKNOWN):
                    snap.cameras_unknown += 1
                    continue
                down_s = (now - changed_at).total_seconds() if status == OFFLINE else 0.0
                snap.cameras.append(CameraFigure(camera_id, name, status == ONLINE, max(0.0, down_s)))
        disk = os.statvfs(self._recordings_dir)
        snap.disk_free_bytes = float(disk.f_bavail * disk.f_frsize)
        snap.disk_size_bytes = float(disk.f_blocks * disk.f_frsize)
        self.snapshot = snap

    async def _observe_acknowledged(self, session: AsyncSession) -> None:
        newest = max(self._acknowledged.values(), default=self._since)
        query = select(
            AgencyTaskRow.id, AgencyTaskRow.agency, AgencyTaskRow.dispatched_at, AgencyTaskRow.acknowledged_at
        )
        query = query.where(AgencyTaskRow.acknowledged_at >= max(self._since, newest - ACK_SLACK))
        for task_id, agency, dispatched_at, acknowledged_at in (await session.execute(query)).all():
            if task_id in self._acknowledged or acknowledged_at is None:
                continue
            self._acknowledged[task_id] = acknowledged_at
            self.ack_time.labels(agency).observe(max(0.0, (acknowledged_at - dispatched_at).total_seconds()))
        horizon = max(self._acknowledged.values(), default=self._since) - ACK_SLACK
        self._acknowledged = {task: at for task, at in self._acknowledged.items() if at >= horizon}

    def collect(self) -> Iterator[Metric]:
        snap = self.snapshot
        yield GaugeMetricFamily("padang112_callbacks_pending", "Call-backs still to be made", snap.callbacks_pending)
        yield GaugeMetricFamily(
            "padang112_callbacks_overdue", "Call-backs past their deadline, not yet made", snap.callbacks_overdue
        )
        waiting = GaugeMetricFamily(
            "padang112_agency_tasks_waiting",
            "Agency tasks dispatched, not yet acknowledged (Terima)",
            labels=["agency"],
        )
        overdue = GaugeMetricFamily(
            "padang112_agency_tasks_overdue", "Agency tasks past their acknowledge deadline", labels=["agency"]
        )
        for agency in sorted(set(AGENCIES) | set(snap.tasks_waiting)):
            waiting.add_metric([agency], snap.tasks_waiting.get(agency, 0))
            overdue.add_metric([agency], snap.tasks_overdue.get(agency, 0))
        yield waiting
        yield overdue
        cameras = GaugeMetricFamily("padang112_cameras", "Enabled cameras by last probe", labels=["status"])
        cameras.add_metric([ONLINE], sum(1 for c in snap.cameras if c.up))
        cameras.add_metric([OFFLINE], sum(1 for c in snap.cameras if not c.up))
        cameras.add_metric([UNKNOWN], snap.cameras_unknown)
        yield cameras
        down = GaugeMetricFamily(
            "padang112_camera_down_seconds", "How long a camera has been offline (0: up)", labels=["camera", "name"]
        )
        for camera in snap.cameras:
            down.add_metric([str(camera.id), camera.name], camera.down_s)
        yield down
        yield GaugeMetricFamily(
            "padang112_recordings_disk_free_bytes", "Free space on the recordings volume", snap.disk_free_bytes
        )
        yield GaugeMetricFamily(
            "padang112_recordings_disk_size_bytes", "Size of the recordings volume", snap.disk_size_bytes
        )
