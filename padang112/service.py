"""``padang112 serve``: storage, controller and web console in one asyncio process."""

from __future__ import annotations

import logging

from aiohttp import web

from padang112 import logs
from padang112.config import Settings
from padang112.web.app import create_app

log = logging.getLogger(__name__)


def run(settings: Settings) -> int:
    logs.setup(settings.log_level)
    settings.secrets()  # generated on first run, never shipped
    app = create_app(settings)
    log.info("padang112 console on http://%s:%d/", settings.web.host, settings.web.port)
    web.run_app(app, host=settings.web.host, port=settings.web.port, print=None,
                handle_signals=True, shutdown_timeout=5)
    return 0
