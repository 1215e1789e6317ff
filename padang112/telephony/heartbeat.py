"""The controller's heartbeat, which the dialplan reads before it hands a caller to the controller.

Every ``INTERVAL_S`` the controller writes the epoch second into an Asterisk global variable over ARI, but only
while it is healthy (its ARI event link answered a ping recently and the room has been reconciled). Asterisk
itself then knows when the controller is dead (killed), deaf (stopped) or cut off: the value goes stale. The
dialplan (dialplans/extensions.conf.j2) sends new 112 calls to the fallback queue when the value is more than
``STALE_AFTER_S`` seconds old, and each waiting caller's watchdog moves that caller there. A stopping
controller writes 0 first, so calls stop arriving at once. When it becomes healthy after a silence it first
writes ``SINCE_VARIABLE``: callers who arrived before that are the outage's, and their watchdogs keep them in
arrival order with those already moved to the fallback queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from padang112.telephony.ari import AriClient

log = logging.getLogger(__name__)

VARIABLE = "P112_ALIVE"
SINCE_VARIABLE = "P112_ALIVE_SINCE"  # epoch second the current healthy stretch began
INTERVAL_S = 1.0
# Whole seconds (the dialplan compares ${EPOCH} with the stored epoch second). Longer than a standby needs to lead
# (lease 3 s; measured 2.6-3.5 s): a takeover keeps the waiting callers in the one line, across every node, in
# arrival order. At 2 s each node's watchdogs moved them into that node's own fallback queue first, and two nodes'
# queues then raced for the same seats out of arrival order (tests/integration/test_cluster.py). The callers hear
# music meanwhile (the dialplan answers and starts it before Stasis), and one late write of a busy switch no
# longer sends every waiting caller to the fallback queue.
STALE_AFTER_S = 5
REQUEST_TIMEOUT_S = 0.8


class HeartbeatWriter:
    def __init__(self, ari: AriClient, healthy: Callable[[], bool]) -> None:
        self.ari = ari
        self.healthy = healthy
        self.last_written: float | None = None  # monotonic time of the last successful write
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Write now instead of at the next tick: the controller has just become able to take calls."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            started = time.monotonic()
            self._wake.clear()
            if self.healthy():
                now = str(int(time.time()))
                if self.last_written is None or time.monotonic() - self.last_written > STALE_AFTER_S:
                    await self._write(SINCE_VARIABLE, now)
                await self._write(VARIABLE, now)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(0.0, INTERVAL_S - (time.monotonic() - started)))

    async def mark_dead(self) -> None:
        """Tell the dialplan at once that this controller takes no more calls (shutdown)."""
        await self._write(VARIABLE, "0")

    async def _write(self, variable: str, value: str) -> None:
        try:
            await asyncio.wait_for(
                self.ari.post_liveness("/asterisk/variable", variable=variable, value=value), timeout=REQUEST_TIMEOUT_S
            )
            if variable == VARIABLE:
                self.last_written = time.monotonic()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the dialplan notices the stale value by itself
            log.warning("heartbeat not written: %s", exc)
