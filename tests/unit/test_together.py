"""``controller.together``: the reconcile's reads at the same time, results in order; one that fails cancels the
others instead of leaving them running."""

from __future__ import annotations

import asyncio

import pytest

from padang112.controller import together


async def test_the_steps_run_at_the_same_time_and_their_results_keep_their_order() -> None:
    async def after(seconds: float, value: str) -> str:
        await asyncio.sleep(seconds)
        return value

    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await together(after(0.2, "switch"), after(0.1, "stored"), after(0.0, "notes")) == [
        "switch",
        "stored",
        "notes",
    ]
    assert loop.time() - started < 0.3  # not 0.2 + 0.1 one after the other


async def test_a_failing_step_cancels_the_others_and_is_raised() -> None:
    cancelled = asyncio.Event()

    async def slow() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def failing() -> None:
        await asyncio.sleep(0.01)
        raise TimeoutError("the switch is silent")

    with pytest.raises(TimeoutError):
        await together(slow(), failing())
    assert cancelled.is_set()
