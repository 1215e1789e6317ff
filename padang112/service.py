"""``padang112 serve``: storage, controller and web console in one asyncio process.

Shutdown is ours, not aiohttp's ``run_app``: a Ctrl-C in a terminal reaches every process of the group and
a supervisor then often sends SIGTERM as well; ``run_app`` treats the second signal as a new exit and cancels
everything while the first shutdown is still handing callers over and storing their events, which left the
process hanging. Here the first SIGINT/SIGTERM starts one orderly shutdown and later ones are only logged.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from padang112 import logs
from padang112.config import Settings
from padang112.web.app import create_app

log = logging.getLogger(__name__)


async def serve(settings: Settings) -> None:
    app = create_app(settings)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def request_stop(signum: int) -> None:
        if stop.is_set():
            log.info("%s received: already stopping", signal.Signals(signum).name)
        else:
            log.info("%s received: stopping (waiting callers go to the fallback queue)", signal.Signals(signum).name)
            stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, request_stop, signum)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.web.host, settings.web.port, shutdown_timeout=5)
        await site.start()
        log.info("padang112 console on http://%s:%d/", settings.web.host, settings.web.port)
        await stop.wait()
    finally:
        await runner.cleanup()
    log.info("stopped")


def run(settings: Settings) -> int:
    logs.setup(settings.log_level)
    settings.secrets()  # generated on first run, never shipped
    asyncio.run(serve(settings))
    return 0
