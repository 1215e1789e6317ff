"""Callers of a chaos scenario, measured from their side: when they were answered, when a call taker's tone
reached them, the longest silence they heard while waiting.

Every caller records what it hears; seats play a 1000 Hz tone, so the first stretch of that tone in a caller's
recording is the moment it was put through (by the controller or by the fallback queue, whichever did it).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from padang112 import config
from padang112.pbx import prompt_texts, prompts
from padang112.simulator import fleet, tones
from padang112.simulator.client import Simulator
from tests.fixtures.controller import eventually
from tests.integration.test_call_path import call_of

SEAT_TONE_HZ = 1000


@dataclass
class Caller:
    name: str
    number: str
    record: Path
    placed: float  # monotonic
    states: dict[str, float] = field(default_factory=dict)  # pjsua call state -> monotonic time first seen
    code: int | None = None

    @property
    def answered(self) -> float | None:
        return self.states.get("CONFIRMED")

    @property
    def ended(self) -> float | None:
        return self.states.get("DISCONNECTED")

    def put_through_after(self) -> float | None:
        """Seconds from being answered to hearing a call taker (None: never)."""
        if not self.record.exists():
            return None
        return tones.first_tone_at(self.record, SEAT_TONE_HZ)

    @property
    def served(self) -> float | None:
        """Monotonic time this caller was put through to a seat."""
        after = self.put_through_after()
        return None if after is None or self.answered is None else self.answered + after

    def heard_prompt_at(self, root: Path, name: str) -> float | None:
        """Seconds from being answered to hearing the switch's voice prompt ``name`` (None: never); ``root`` is
        the switch's chroot."""
        folder = prompts.resolve_in_root(root, prompts.SOUNDS_DIR / prompt_texts.LANGUAGE / prompts.FOLDER)
        return tones.prompt_at(self.record, folder / f"{name}.wav") if self.record.exists() else None

    def worst_gap(self) -> float:
        """Longest silence this caller heard while waiting (from answer until put through, or the end)."""
        if not self.record.exists():
            return float("inf")
        return tones.longest_silence(self.record, end_s=self.put_through_after())


class Crowd:
    """Citizens calling 112 through one carrier; a new simulator process for every 4 callers (pjsua's limit)."""

    def __init__(
        self,
        start_simulator: Callable[[str], Awaitable[Simulator]],
        settings: config.Settings,
        workdir: Path,
        carrier: str = "telkomsel",
        reuse_lines: bool = True,
    ) -> None:
        """``reuse_lines=False``: at most 4 calls per process in all (a switch that dies mid-call leaves pjsua
        holding a line after it reported the call ended: a 5th call there fails with PJ_ETOOMANY)."""
        self.start_simulator = start_simulator
        self.settings = settings
        self.workdir = workdir
        self.carrier = carrier
        self.reuse_lines = reuse_lines
        self.callers: dict[str, Caller] = {}
        self._sims: list[Simulator] = []
        self._sim_of: dict[str, Simulator] = {}
        self._stampers: list[asyncio.Task[None]] = []

    async def _stamp(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        while True:
            event = await queue.get()
            caller = self.callers.get(str(event.get("call")))
            if caller is not None and event.get("event") == "call_state":
                caller.states.setdefault(str(event.get("state")), time.monotonic())
                if event.get("state") == "DISCONNECTED":
                    caller.code = event.get("code")

    async def _simulator(self) -> Simulator:
        """A process with fewer than 4 callers still on the line, or a new one."""
        for sim in self._sims:
            placed = [c for c in self.callers.values() if self._sim_of.get(c.name) is sim]
            live = placed if not self.reuse_lines else [c for c in placed if c.ended is None]
            if len(live) < fleet.CALLS_PER_PROCESS:
                return sim
        sim = await self.start_simulator(f"citizens{len(self._sims) + 1}")
        self._sims.append(sim)
        self._stampers.append(asyncio.create_task(self._stamp(sim.subscribe())))
        return sim

    async def call(self, name: str, number: str, hangup_after: float | None = None) -> Caller:
        sim = await self._simulator()
        caller = Caller(name, number, self.workdir / f"{name}.wav", time.monotonic())
        self.callers[name] = caller
        self._sim_of[name] = sim
        await sim.call(
            name,
            fleet.target_uri(self.settings),
            bind=fleet.carrier_address(self.settings, self.carrier),
            caller=number,
            tone_hz=440,
            record=caller.record,
            hangup_after=hangup_after,
        )
        return caller

    async def wait(self, name: str, state: str, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if state in self.callers[name].states:
                return self.callers[name].states[state]
            await asyncio.sleep(0.05)
        raise AssertionError(f"{name}: no {state} within {timeout} s (states {self.callers[name].states})")

    async def hangup(self, name: str) -> None:
        await self._sim_of[name].hangup(name)

    async def all_ended(self, timeout: float) -> None:
        for name in self.callers:
            await self.wait(name, "DISCONNECTED", timeout)

    async def close(self) -> None:
        for task in self._stampers:
            task.cancel()


async def all_stored_ended(repo: Any, numbers: dict[str, str], timeout: float, what: str) -> dict[str, Any]:
    """Wait until every caller's newest call is stored as ended (fallback calls imported too); name -> call."""

    async def ended() -> dict[str, Any]:
        calls = {name: await call_of(repo, number) for name, number in numbers.items()}
        return calls if all(c is not None and c.state == "ended" for c in calls.values()) else {}

    return await eventually(ended, timeout, 0.5, what=what)
