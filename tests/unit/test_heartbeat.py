"""The controller's heartbeat (telephony/heartbeat.py): written only while healthy, and at once when woken (the
controller just reconciled), so new calls reach it without waiting for the next one-second tick."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from padang112.telephony import heartbeat
from padang112.telephony.heartbeat import HeartbeatWriter


class FakeAri:
    def __init__(self) -> None:
        self.writes: list[str] = []

    async def post_liveness(self, path: str, **params: Any) -> None:
        """The heartbeat goes on the connections kept for proof of life, never behind the calls' requests."""
        assert path == "/asterisk/variable" and params["variable"] == heartbeat.VARIABLE
        self.writes.append(params["value"])


async def test_nothing_is_written_while_unhealthy_and_a_wake_writes_at_once_once_healthy() -> None:
    ari = FakeAri()
    healthy = False
    writer = HeartbeatWriter(ari, lambda: healthy)  # type: ignore[arg-type]
    task = asyncio.create_task(writer.run())
    try:
        await asyncio.sleep(0.05)
        assert ari.writes == []
        healthy = True
        writer.wake()
        await asyncio.sleep(0.05)  # far less than the 1 s tick
        assert len(ari.writes) == 1 and int(ari.writes[0]) > 0
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_a_stopping_controller_writes_zero() -> None:
    ari = FakeAri()
    await HeartbeatWriter(ari, lambda: True).mark_dead()  # type: ignore[arg-type]
    assert ari.writes == ["0"]
