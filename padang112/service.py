"""``padang112 serve``: storage, controller and web console in one asyncio process.

Shutdown is ours, not aiohttp's ``run_app``: a Ctrl-C in a terminal reaches every process of the group and
a supervisor then often sends SIGTERM as well; ``run_app`` treats the second signal as a new exit and cancels
everything while the first shutdown is still handing callers over and storing their events, which left the
process hanging. Here the first SIGINT/SIGTERM starts one orderly shutdown and later ones are only logged.
The handlers are plain ``signal.signal`` handlers rather than the loop's: those are removed when the loop
closes, so a second signal arriving just as a quick shutdown finished would have killed the process (exit -15).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal

from aiohttp import web

from padang112 import logs, privileges, single_instance
from padang112.cluster import lead
from padang112.cluster.fence import Fence
from padang112.cluster.leadership import EXIT_LEADERSHIP_LOST
from padang112.config import Settings
from padang112.ops.sdnotify import Notifier
from padang112.runtime import Runtime
from padang112.web import tls
from padang112.web.app import create_app
from padang112.web.standby import create_standby_app

log = logging.getLogger(__name__)


class ShutdownSignals:
    """First SIGINT/SIGTERM asks the running loop to stop; later ones are only logged, even after it closed."""

    def __init__(self) -> None:
        self.received = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None

    def install(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._handle)

    def attach(self, loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
        self._loop, self._stop = loop, stop
        if self.received:
            stop.set()

    def _handle(self, signum: int, _frame: object) -> None:
        name = signal.Signals(signum).name
        if self.received:
            log.info("%s received: already stopping", name)
            return
        self.received = True
        log.info("%s received: stopping (waiting callers go to the fallback queue)", name)
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)


async def serve(settings: Settings, signals: ShutdownSignals) -> None:
    """On PostgreSQL, first wait to lead (a standby answers only /healthz and /readyz); then the runtime (storage,
    controller, lines, loops) under the leadership's fence, then the console on it; stopped the other way round."""
    stop = asyncio.Event()
    signals.attach(asyncio.get_running_loop(), stop)
    notifier = Notifier()  # systemd (Type=notify, WatchdogSec=): READY=1, then WATCHDOG=1 from this very loop
    watchdog = asyncio.create_task(notifier.watchdog(), name="systemd-watchdog")  # also while starting, stopping
    try:
        standby = await _standby_console(settings, notifier) if lead.clustered(settings) else None
        try:
            async with lead.leading(settings, stop, _exit_on_lost) as fence:
                if standby is not None:
                    await standby.cleanup()
                    standby = None
                if fence is not None:
                    await _lead(settings, fence, stop, notifier)
        finally:
            if standby is not None:
                await standby.cleanup()
    finally:
        watchdog.cancel()
    log.info("stopped")


async def _lead(settings: Settings, fence: Fence, stop: asyncio.Event, notifier: Notifier) -> None:
    runtime = Runtime(settings, fence)
    await runtime.start()
    try:
        runner = await _listen(create_app(settings, runtime), settings)
        try:
            notifier.ready("taking calls")
            await stop.wait()
            notifier.stopping()
        finally:
            await runner.cleanup()
    finally:
        await runtime.stop()


async def _standby_console(settings: Settings, notifier: Notifier) -> web.AppRunner:
    """/healthz green, /readyz red "siaga" until this process leads; systemd hears READY=1 (a standby is up)."""
    runner = await _listen(create_standby_app(), settings)
    notifier.ready("siaga / standby")
    return runner


async def _listen(app: web.Application, settings: Settings) -> web.AppRunner:
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    try:
        context = tls.server_context(settings.web)  # checked before anything started: see run()
        site = web.TCPSite(runner, settings.web.host, settings.web.port, shutdown_timeout=5, ssl_context=context)
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    scheme = "https" if context is not None else "http"
    log.info("padang112 console on %s://%s:%d/", scheme, settings.web.host, settings.web.port)
    return runner


def _exit_on_lost(reason: str) -> None:
    """Leadership lost: nothing more may be done (the standby may be acting), not even an orderly stop, which
    would hand callers over and write the heartbeat. Exit now; systemd (Restart=always) starts a standby."""
    log.critical(
        "bukan pemimpin lagi, keluar dengan kode %d / no longer the leader, exiting with code %d: %s",
        EXIT_LEADERSHIP_LOST,
        EXIT_LEADERSHIP_LOST,
        reason,
    )
    for handler in logging.getLogger().handlers:
        handler.flush()
    os._exit(EXIT_LEADERSHIP_LOST)


def run(settings: Settings) -> int:
    logs.setup(settings.log_level, settings.log_format)
    try:
        tls.server_context(settings.web)  # no plain HTTP off loopback, and a certificate that loads
    except tls.TlsConfigError as exc:
        log.error("not starting: %s", exc)
        return 2
    privileges.start_service(settings.state_dir)  # umask 077, state directory 0700
    try:  # on PostgreSQL the leadership decides who acts instead (padang112/cluster/lead.py)
        lock = None if lead.clustered(settings) else single_instance.claim(settings)  # before anything acts
    except single_instance.AlreadyRunning as exc:
        log.error("%s", exc)
        return 3
    settings.secrets()  # generated on first run, never shipped
    signals = ShutdownSignals()
    signals.install()
    asyncio.run(serve(settings, signals))
    # Stopped and stored. Python's exit puts its own handlers back to SIG_DFL while threads are joined, so a
    # late signal would still end us with -15; ignoring is kept through that.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    if lock is not None:
        lock.close()
    return 0
