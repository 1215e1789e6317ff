"""The composition root: everything ``padang112 serve`` runs, built in one order and stopped in reverse.

Order (each part uses only parts above it):

1. the database, migrated, and its single event writer;
2. the controller: ARI, AMI, the room, and the lines it serves; the metrics that watch it (built before it
   starts, so the events of its first reconcile are counted);
3. the incident service, the agencies' duty-phone line and the escalation watch;
4. the call-back list and its dialer (fed by the controller's domain events), then the console's desk (its one
   door to the controller: the room's inbox and the call-back line);
5. the information desk (questions between call takers and agencies);
6. the cameras: registry, stream proxy, RTSP restreams, health probes;
7. operations: the recording sealer (SHA-256 of each closed recording), daily retention, keep marks.

``stop`` undoes the parts in reverse (an :class:`~contextlib.AsyncExitStack`), so the controller hands waiting
callers to the fallback queue while storage is still open. The web console is not built here: it mounts its
routes on a started runtime and receives :attr:`Runtime.notices` (messages for live screens, already shaped for
the browser) through :meth:`Runtime.listen`; who sees which one is the console's audience table.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import shutil
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112.callbacks.store import CallbackStore
from padang112.cameras.access import CameraAccess
from padang112.cameras.addresses import GuardedResolver, networks
from padang112.cameras.model import Camera
from padang112.cameras.probe import ProbeLoop
from padang112.cameras.proxy import CameraProxy
from padang112.cameras.registry import CameraRegistry
from padang112.cameras.restream import Restreamer
from padang112.cameras.views import camera_view
from padang112.cluster.fence import UNFENCED, Fence
from padang112.config import Settings
from padang112.controller import Controller
from padang112.desk import Desk
from padang112.incidents import routing
from padang112.incidents.messages import InfoDesk, MessageStore
from padang112.incidents.service import IncidentService
from padang112.incidents.store import IncidentStore
from padang112.integrity.seals import Sealer
from padang112.metrics.registry import Metrics
from padang112.ops.keep import KeepStore
from padang112.ops.retention import Retention
from padang112.storage.db import create_engine
from padang112.storage.migrate import upgrade_async
from padang112.storage.outage import log_failure
from padang112.storage.repository import EventWriter, Repository
from padang112.telephony.callback_dialer import CallbackDialer
from padang112.telephony.duty_caller import DutyCaller

log = logging.getLogger(__name__)

Notice = dict[str, Any]
NoticeListener = Callable[[Notice], None]

ESCALATION_INTERVAL_S = 5.0
CAMERA_REAP_EVERY_S = 5.0


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Runtime:
    """The running parts of one padang112 process; attributes exist once :meth:`start` returned."""

    engine: AsyncEngine
    writer: EventWriter
    repo: Repository
    controller: Controller
    metrics: Metrics
    desk: Desk
    incidents: IncidentService
    duty: DutyCaller
    callback_store: CallbackStore
    dialer: CallbackDialer
    info: InfoDesk
    cameras: CameraRegistry
    camera_proxy: CameraProxy
    camera_access: CameraAccess
    restreamer: Restreamer
    keep: KeepStore

    def __init__(self, settings: Settings, fence: Fence = UNFENCED) -> None:
        """``fence``: the leadership (PostgreSQL, ``padang112.cluster``) that the event writer, ARI and AMI check
        before acting; none on SQLite."""
        self.settings = settings
        self.fence = fence
        self._listeners: list[NoticeListener] = []
        self._stack = contextlib.AsyncExitStack()

    # ---- console notices ---------------------------------------------------------------------------------
    def listen(self, listener: NoticeListener) -> Callable[[], None]:
        """Receive every notice (incident, escalation, duty call, info request, call-back, camera status);
        returns the function that stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def notify(self, notice: Notice) -> None:
        for listener in list(self._listeners):
            listener(notice)

    # ---- lifecycle -----------------------------------------------------------------------------------------
    async def start(self) -> None:
        try:
            await self._start_storage()
            await self._start_controller()
            self._start_incidents()
            self._start_callbacks()
            self.info = InfoDesk(MessageStore(self.engine, clock=_utc_now), self.incidents.store, self.notify)
            self._start_cameras()
            self._start_operations()
        except BaseException:
            await self._stack.aclose()
            raise

    async def stop(self) -> None:
        await self._stack.aclose()

    async def _start_storage(self) -> None:
        await upgrade_async(self.settings.db_url)
        self.engine = create_engine(self.settings.db_url, application_name=self.fence.application_name)
        self._stack.push_async_callback(self.engine.dispose)
        self.writer = EventWriter(self.engine, fence=self.fence)
        await self.writer.start()
        self._stack.push_async_callback(self.writer.stop)
        self.repo = Repository(self.engine)

    async def _start_controller(self) -> None:
        self.controller = Controller(self.settings, self.writer, self.repo, self.fence)
        self.metrics = Metrics(self.settings, self.controller, self.writer, self.engine)
        await self.controller.start()
        self._stack.push_async_callback(self.controller.stop)
        self.metrics.start()
        self._stack.push_async_callback(self.metrics.stop)

    def _start_incidents(self) -> None:
        calls, controller = self.settings.calls, self.controller
        store = IncidentStore(self.engine, clock=_utc_now)
        self.incidents = IncidentService(store, self.notify, routing.ack_deadline_s)
        self.duty = DutyCaller(
            controller.runner,
            controller.dial_policy,
            self.incidents,
            calls.duty_retry_s,
            calls.duty_ring_s,
            where=controller.line_node,
        )
        self._stack.callback(controller.add_line(self.duty))
        self._spawn(self._escalation_watch(), "incident-escalation")
        self._spawn(self.duty.run(), "duty-calls")

    def _start_callbacks(self) -> None:
        settings, controller = self.settings, self.controller
        self.callback_store = CallbackStore(self.engine, clock=_utc_now)
        self.dialer = CallbackDialer(
            controller.runner,
            controller.dial_policy,
            self.callback_store,
            controller,
            self.notify,
            settings.calls.callback_deadline_s,
            settings.calls.ring_timeout_s * 2,
            str(settings.recordings_dir),
            where=controller.line_node,
        )
        controller.subscribers.append(self.dialer.on_domain_event)
        self._stack.callback(controller.subscribers.remove, self.dialer.on_domain_event)
        self._stack.callback(controller.add_line(self.dialer))
        self._spawn(self.dialer.run(), "callbacks")
        self.desk = Desk(controller, self.dialer)  # the console's door: the room's inbox and the call-back line

    def _start_cameras(self) -> None:
        settings = self.settings
        cams = settings.cameras
        self.cameras = CameraRegistry(self.engine)
        allowed = networks(cams.allowed_networks)  # the SSRF guard (cameras/addresses.py)
        http = aiohttp.ClientSession(  # every name resolved through the address guard
            connector=aiohttp.TCPConnector(limit=256, resolver=GuardedResolver(allowed)), auto_decompress=False
        )
        self._stack.push_async_callback(http.close)
        self.restreamer = Restreamer(
            settings.state_dir / "restream", cams.ffmpeg, cams.restream_idle_s, allowed=allowed
        )
        self._stack.push_async_callback(self._close_restreams)
        key = hmac.new(settings.secrets().session_key.encode(), b"camera-refs", hashlib.sha256).digest()
        self.camera_proxy = CameraProxy(
            http, key, self.restreamer, timeout_s=max(cams.probe_timeout_s, 10.0), allowed=allowed
        )
        registry = self.cameras
        self.camera_access = CameraAccess(
            lambda: registry.all(include_disabled=False), self.incidents.queue_view, cams.near_radius_m, cams.near_limit
        )
        probes = ProbeLoop(
            registry,
            http,
            self.restreamer,
            cams.probe_interval_s,
            cams.probe_timeout_s,
            str(shutil.which("ffprobe") or "ffprobe"),
            notify=self._camera_status,
            allowed=allowed,
        )
        self._spawn(probes.run(), "camera-probe")
        self._spawn(self._reap_restreams(), "camera-restream-reaper")

    def _start_operations(self) -> None:
        recordings = Path(self.settings.recordings_dir)
        self.keep = KeepStore(self.engine, _utc_now)
        self._spawn(Sealer(self.engine, recordings).run(), "recording-sealer")
        self._spawn(Retention(self.engine, self.settings.retention, recordings).run_daily(), "retention-daily")

    # ---- parts' loops --------------------------------------------------------------------------------------
    async def _escalation_watch(self) -> None:
        """Every few seconds: escalate tasks past their deadline, and keep the duty-phone calls in step."""
        while True:
            try:
                for incident, task in await self.incidents.escalate_overdue(_utc_now()):
                    log.warning("incident %s: %s missed its acknowledge deadline", incident.number, task.agency)
                self.duty.sync(await self.incidents.escalated_waiting())
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the watch must keep watching
                log_failure(log, "escalation check failed", exc)
            await asyncio.sleep(ESCALATION_INTERVAL_S)

    async def _reap_restreams(self) -> None:
        while True:
            await asyncio.sleep(CAMERA_REAP_EVERY_S)
            try:
                await self.restreamer.reap()
            except Exception:  # keep reaping
                log.exception("restream reap failed")

    async def _close_restreams(self) -> None:
        with contextlib.suppress(Exception):
            await self.restreamer.close()

    def _camera_status(self, camera: Camera) -> None:
        self.notify({"type": "camera_status", "camera": camera_view(camera)})

    # ---- wiring helpers ------------------------------------------------------------------------------------
    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=name)

        async def cancel() -> None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

        self._stack.push_async_callback(cancel)
