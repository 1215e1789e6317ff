"""The room's surge meter (``stats/surge.py``) fed live: every call transition, and the queue's length every
2 s and at each event. Read by ``GET /api/v1/room`` (``surge``) for the supervisor's figures and sparkline."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from aiohttp import web

from padang112.domain.events import CallTransition, DomainEvent
from padang112.stats.surge import SurgeMeter
from padang112.web.keys import DESK

SURGE = web.AppKey("surge", SurgeMeter)
SAMPLE_S = 2.0


async def surge_stack(app: web.Application) -> AsyncIterator[None]:
    desk = app[DESK]
    meter = SurgeMeter()
    app[SURGE] = meter

    def on_event(event: DomainEvent) -> None:
        if isinstance(event, CallTransition):
            meter.observe(event)
            meter.sample(event.at, desk.waiting())

    async def sampler() -> None:
        while True:
            meter.sample(datetime.now(UTC), desk.waiting())
            await asyncio.sleep(SAMPLE_S)

    unsubscribe = desk.subscribe(on_event)
    task = asyncio.create_task(sampler(), name="surge-sampler")
    try:
        yield
    finally:
        unsubscribe()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def setup(app: web.Application) -> None:
    app.cleanup_ctx.append(surge_stack)
