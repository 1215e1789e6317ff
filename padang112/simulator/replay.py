"""``padang112 simulate --profile NAME --speed 60``: a profile's callers on the real switch, compressed in time.

The callers are :func:`padang112.planning.callers.draw`'s for the profile and seed, the same as the virtual day's.
Each is a pjsua2 citizen calling 112 over their carrier's trunk at ``at_s / speed``: silent callers send silence,
the others a tone; a caller not answered by a seat within ``patience / speed`` hangs up (dropped callers within
seconds, so mostly while the seat rings). Seats (softphones registered as the shift's call takers) answer
``answer_s / speed`` after they start ringing and the conversation lasts ``talk / speed``; then the caller, or for
silent and genuine calls the call taker, hangs up. The room's own timers are not compressed here: run the controller
with ``calls.wrap_up_s`` and ``calls.ring_timeout_s`` divided by the speed (``bench/replay_error.py`` does).
Dispositions are not marked (no console), so the replay's pranksters are never flagged.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from padang112 import config
from padang112.planning.callers import Caller, draw, lognormal
from padang112.planning.profile import Profile
from padang112.simulator import fleet
from padang112.simulator.client import Simulator, SimulatorError

MAX_CITIZEN_PROCESSES = 12
DRAIN_S = 120.0  # after the last caller is placed, calls still going get this long (real seconds)


@dataclass
class Live:
    caller: Caller
    name: str
    sim: Simulator
    seat: str | None = None
    connected: bool = False
    ended: bool = False


class Replay:
    def __init__(
        self,
        settings: config.Settings,
        profile: Profile,
        *,
        seed: int,
        speed: float,
        start_hour: int,
        hours: float,
        seats: Sequence[str] | None = None,
        say: Callable[[str], None] = print,
    ) -> None:
        self.settings = settings
        self.profile = profile
        self.speed = speed
        self.callers = draw(profile, seed, start_hour * 3600.0, hours)
        self.seats = list(seats or settings.seats[: profile.seats_at_hour(start_hour)])
        self.rng = random.Random(seed ^ 0x5EA7)
        self.say = say
        self.sims: list[Simulator] = []
        self.lines = fleet.CitizenLines(self._process, MAX_CITIZEN_PROCESSES)
        self.seat_sims: dict[str, Simulator] = {}
        self.live: dict[str, Live] = {}
        self.at_seat: dict[str, Live] = {}
        self.tasks: set[asyncio.Task[Any]] = set()
        self.started = 0.0
        self.stats: Counter[str] = Counter()
        self.placed_all = False
        self.done = asyncio.Event()  # every caller placed and every call ended

    async def _process(self, name: str) -> Simulator:
        sim = Simulator(name=name, log_path=self.settings.state_dir / "replay-simulator.log")
        await sim.start()
        self.sims.append(sim)
        self._spawn(self._follow(sim.subscribe()))
        return sim

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def run(self) -> float:
        """Place every caller, wait for the last call to end; returns the wall-clock time the replay started."""
        try:
            self.seat_sims = await fleet.start_seats(
                self.settings, list(self.seats), self._process, answer_after=None, tone_hz=1000
            )
            self.say(f"{len(self.seats)} kursi terdaftar; {len(self.callers)} penelepon, kecepatan {self.speed:g}x")
            self.started = time.time()
            for caller in self.callers:
                delay = self.started + caller.at_s / self.speed - time.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                await self._place(caller)
            self.placed_all = True
            self._check_done()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.done.wait(), DRAIN_S)
        finally:
            for task in list(self.tasks):
                task.cancel()
            await asyncio.gather(*(sim.close() for sim in self.sims), return_exceptions=True)
        self.say(f"selesai: {dict(self.stats)}")
        return self.started

    async def _place(self, caller: Caller) -> None:
        sim = await self.lines.take()
        if sim is None:
            self.stats["skipped"] += 1
            return
        live = Live(caller, f"r{caller.n}", sim)
        self.live[live.name] = live
        try:
            address = fleet.carrier_address(self.settings, caller.carrier)
        except KeyError:
            address = self.settings.carriers[0].address
        try:
            await sim.call(
                live.name,
                target=fleet.target_uri(self.settings),
                bind=address,
                caller=caller.number,
                tone_hz=None if caller.cls == "silent" else 440,
            )
        except SimulatorError as exc:
            live.ended = True
            self.lines.release(sim)
            self.stats["failed"] += 1
            self._check_done()
            self.say(f"panggilan {live.name} gagal: {exc}")
            return
        self.stats["placed"] += 1
        self._spawn(self._give_up(live))

    async def _give_up(self, live: Live) -> None:
        await asyncio.sleep(live.caller.patience_s / self.speed)
        if not live.connected and not live.ended:
            self.stats["gave_up"] += 1
            with contextlib.suppress(SimulatorError):
                await live.sim.hangup(live.name)

    async def _follow(self, q: asyncio.Queue[dict[str, Any]]) -> None:
        while True:
            event = await q.get()
            kind = event.get("event")
            if kind == "seat_ringing":
                self._ringing(event["seat"], str(event.get("remote", "")))
            elif kind == "seat_answered" and event["seat"] in self.at_seat:
                self._answered(self.at_seat[event["seat"]])
            elif kind == "seat_call_ended":
                self.at_seat.pop(event["seat"], None)
            elif kind == "call_state" and event.get("state") == "DISCONNECTED" and event.get("call") in self.live:
                live = self.live[event["call"]]
                if not live.ended:
                    live.ended = True
                    self.lines.release(live.sim)
                    self._check_done()

    def _check_done(self) -> None:
        if self.placed_all and all(c.ended for c in self.live.values()):
            self.done.set()

    def _ringing(self, seat: str, remote: str) -> None:
        match = fleet.USER_RE.search(remote)
        number = match.group(1) if match else ""
        waiting = [c for c in self.live.values() if c.caller.number == number and not c.connected and not c.ended]
        if not waiting:
            return
        live = waiting[0]
        live.seat = seat
        self.at_seat[seat] = live
        delay = lognormal(self.rng, self.profile.answer_s, self.profile.cv) if self.profile.answer_s else 0.0
        self._spawn(self._answer(seat, delay / self.speed))

    async def _answer(self, seat: str, delay: float) -> None:
        await asyncio.sleep(delay)
        with contextlib.suppress(SimulatorError):
            await self.seat_sims[seat].request("seat_answer", seat=seat)

    def _answered(self, live: Live) -> None:
        live.connected = True
        self.stats["answered"] += 1
        self._spawn(self._talk(live))

    async def _talk(self, live: Live) -> None:
        # never shorter than calls.min_talk_s: the room takes a seat hanging up sooner for a dropped call (a phone
        # fault) and gives the caller back to the line; a replay plays conversations, not faults
        await asyncio.sleep(max(live.caller.talk_s / self.speed, self.settings.calls.min_talk_s * 1.2))
        with contextlib.suppress(SimulatorError):
            if self.profile.classes[live.caller.cls].ends == "seat" and live.seat:
                await self.seat_sims[live.seat].seat_hangup(live.seat)
            else:
                await live.sim.hangup(live.name)
