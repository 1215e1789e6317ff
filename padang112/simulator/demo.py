"""``padang112 simulate``: call-taker softphones and citizens calling 112, against the configured Asterisk.

Seats register (2 per simulator process: a process holds only 4 concurrent calls, see fleet), answer after a random
1–3 s and hang up after a random 5–20 s of talk; citizens with plausible Indonesian numbers arrive as a
Poisson process on random carriers, each from its carrier's trunk address. One line per event, in WIB.
The agencies' duty phones register too: they answer an escalation call after 3–8 s and press 1 a few seconds
into the spoken notice. Each carrier trunk's address has a phone line listening on port 5060, so a call-back
from the console reaches "the caller" over the carrier it used. Ctrl-C (SIGINT) or SIGTERM hang everything up,
unregister the seats and stop.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import random
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from padang112 import config
from padang112.simulator import fleet
from padang112.simulator.client import Simulator, SimulatorError
from padang112.simulator.demo_args import build_parser, log_path
from padang112.simulator.people import Citizen, carrier_label, citizen, short_number, wib

if TYPE_CHECKING:
    from padang112.simulator.demo_room import DemoRoom

MAX_CITIZEN_PROCESSES = 8


@dataclass
class LiveCall:
    name: str
    who: Citizen
    sim: Simulator
    number: str  # dialled: 112 (sometimes 110, 113, 118, 119)
    seat: str | None = None
    answered: float | None = None

    def label(self) -> str:
        return f"{carrier_label(self.who.carrier)} {short_number(self.who.number)} -> {self.number}"


class Demo:
    def __init__(
        self, settings: config.Settings, args: argparse.Namespace, out: Callable[[str], None] | None = None
    ) -> None:
        self.settings = settings
        self.args = args
        self.out = out or (lambda line: print(line, flush=True))
        self.log_path = log_path(settings, args.log)
        self.stop = asyncio.Event()
        self.sims: list[Simulator] = []
        self.lines = fleet.CitizenLines(self.start_sim, MAX_CITIZEN_PROCESSES)
        self.queues: list[tuple[Simulator, asyncio.Queue[dict[str, Any]]]] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.calls: dict[str, LiveCall] = {}
        self.by_number: dict[str, LiveCall] = {}
        self.at_seat: dict[str, LiveCall] = {}
        self.stats: Counter[str] = Counter()
        self._names = itertools.count(1)
        self.duty_phones: dict[str, Simulator] = {}
        self.seats: list[str] = []
        self.room: DemoRoom | None = None

    def say(self, text: str, t: float | None = None) -> None:
        self.out(f"{wib(t or time.time())}  {text}")

    async def start_sim(self, name: str) -> Simulator:
        sim = Simulator(name=name, log_path=self.log_path)
        await sim.start()
        self.sims.append(sim)
        q = sim.subscribe()  # before yielding to the loop: no event can slip past
        self.queues.append((sim, q))
        self.tasks.append(asyncio.create_task(self._follow(q), name=f"demo-follow-{name}"))
        return sim

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stop.set)
        timer: asyncio.TimerHandle | None = None
        code = 0
        try:
            if not self.args.no_seats:
                code = await self._start_seats()
            if code == 0 and self.args.room:
                from padang112.simulator.demo_room import DemoRoom  # the console client: only for --room

                self.room = DemoRoom(self.settings, self.seats, self.say, self.args.free_seats)
                await self.room.start()
            if code == 0:
                if not self.args.no_callers and self.args.rate > 0:
                    self.tasks.append(asyncio.create_task(self._callers(), name="demo-callers"))
                if not self.args.no_callers and self.args.burst > 0:
                    self.tasks.append(asyncio.create_task(self._bursts(), name="demo-bursts"))
                self.say(f"simulasi berjalan (log mesin: {self.log_path}); Ctrl-C untuk berhenti")
                if self.args.duration > 0:  # counted from here: a busy machine's slow start-up does not eat it
                    timer = loop.call_later(self.args.duration, self.stop.set)
                await self.stop.wait()
        finally:
            if timer is not None:
                timer.cancel()
            await self._shutdown()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
        return code

    async def _start_seats(self) -> int:
        seats = self.settings.seats
        if self.args.seats is not None:
            if not 0 <= self.args.seats <= len(seats):
                self.say(f"--seats must be between 0 and {len(seats)} (the configured seats)")
                return 2
            seats = seats[: self.args.seats]
        if self.args.seat_names:
            seats = [s for s in self.args.seat_names.split(",") if s]
            if not set(seats) <= set(self.settings.seats):
                self.say(f"--seat-names: unknown seats {sorted(set(seats) - set(self.settings.seats))}")
                return 2
        self.seats = seats
        answer = self.args.answer_after if self.args.answer_after is not None else [1.0, 3.0]
        talk = self.args.talk if self.args.talk is not None else [5.0, 20.0]
        self.say(f"mendaftarkan {len(seats)} kursi ke {fleet.registrar(self.settings, seats[0] if seats else None)}")
        try:
            await fleet.start_seats(self.settings, seats, self.start_sim, answer_after=answer, hangup_after=talk)
            duty = list(self.settings.duty_phones.values())
            self.say(f"mendaftarkan {len(duty)} telepon piket OPD")
            self.duty_phones = await fleet.start_seats(
                self.settings, duty, self.start_sim, answer_after=[3.0, 8.0], tone_hz=600
            )
        except (SimulatorError, KeyError) as exc:
            self.say(f"kursi gagal mendaftar: {exc}")
            return 1
        await self._carrier_lines()
        return 0

    async def _carrier_lines(self) -> None:
        """Where call-backs arrive; an address another program holds is skipped (see ``fleet.carrier_lines``)."""
        for carrier, error in await fleet.carrier_lines(self.settings, await self.start_sim("carrier-lines")):
            self.say(f"telepon penelepon {carrier} tidak tersedia (panggilan balik tak terjawab): {error}")

    async def _callers(self) -> None:
        per_second = self.args.rate / 60.0
        carriers = [c.name for c in self.settings.carriers]
        while not self.stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), random.expovariate(per_second))
                return
            await self._place(citizen(carriers))

    async def _bursts(self) -> None:
        """A few citizens at once now and then (a crash on the by-pass): some wait, the impatient hang up."""
        delay = 20.0
        while not self.stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), delay)
                return
            delay = self.args.burst_every
            self.say(f"{self.args.burst} warga menelepon bersamaan")
            carriers = [c.name for c in self.settings.carriers]
            await asyncio.gather(*(self._place(citizen(carriers)) for _ in range(self.args.burst)))

    def _patience(self) -> float:
        return random.uniform(6.0, 25.0) if random.random() < self.args.impatient else self.args.patience

    async def _place(self, who: Citizen) -> None:
        sim = await self.lines.take()
        if sim is None:
            self.say(f"semua saluran simulasi penuh: panggilan dari {short_number(who.number)} dilewati")
            return
        numbers = self.settings.calls.emergency_numbers
        number = "112" if "112" in numbers and random.random() < 0.9 else random.choice(numbers)
        call = LiveCall(f"c{next(self._names)}", who, sim, number)
        self.calls[call.name] = call
        self.by_number[who.number] = call
        self.stats["placed"] += 1
        try:
            await sim.call(
                call.name,
                target=fleet.target_uri(self.settings, number),
                bind=fleet.carrier_address(self.settings, who.carrier),
                caller=who.number,
                caller_name=who.name,
                tone_hz=440,
                hangup_after=self._patience(),
            )
        except SimulatorError as exc:
            self.lines.release(sim)
            self.say(f"{call.label()}  gagal memanggil: {exc}")

    async def _follow(self, q: asyncio.Queue[dict[str, Any]]) -> None:
        while True:
            self._show(await q.get())

    def _show(self, e: dict[str, Any]) -> None:
        kind, t = e.get("event"), e.get("t")
        if kind == "call_state" and e.get("call") in self.calls:
            self._show_call(self.calls[e["call"]], e)
        elif kind == "registered":
            self.say(f"{e['seat']} terdaftar, siap menerima panggilan", t)
        elif kind == "unregistered":
            self.say(f"{e['seat']} tidak terdaftar lagi ({e.get('code')} {e.get('reason', '')})", t)
        elif kind == "seat_media" and e.get("seat") in self.duty_phones:
            self.say(f"{e['seat']} mengangkat telepon eskalasi; menekan 1 sebentar lagi", t)
            task = asyncio.create_task(self._press_one(e["seat"]), name="duty-key")
            self.tasks.append(task)
            task.add_done_callback(self._forget_task)
        elif kind in ("seat_ringing", "seat_answered", "seat_call_ended", "seat_busy"):
            self._show_seat(e)
        elif kind == "error":
            self.say(f"galat simulator: {e.get('error')}", t)

    def _show_call(self, call: LiveCall, e: dict[str, Any]) -> None:
        state, t = e["state"], e.get("t")
        if state == "CALLING":
            self.say(f"{call.label()}  memanggil" + (f" ({call.who.name})" if call.who.name else ""), t)
        elif state == "CONFIRMED":
            self.say(f"{call.label()}  diangkat switch (sapaan / antrean)", t)
        elif state == "DISCONNECTED":
            self.lines.release(call.sim)
            self.by_number.pop(call.who.number, None)
            served = call.answered is not None
            how = f"dilayani {call.seat}" if served else "tanpa petugas"
            self.stats["served" if served else "unserved"] += 1
            self.say(f"{call.label()}  selesai, {how} (SIP {e.get('code')} {e.get('reason', '')})", t)

    def _show_seat(self, e: dict[str, Any]) -> None:
        seat, kind, t = e["seat"], e["event"], e.get("t")
        if kind == "seat_busy":
            self.say(f"{seat} sibuk: panggilan kedua ditolak (486)", t)
            return
        if kind == "seat_ringing":
            m = fleet.USER_RE.search(e.get("remote", ""))
            call = self.by_number.get(m.group(1)) if m else None
            if call is not None:
                call.seat = seat
                self.at_seat[seat] = call
            else:
                self.at_seat.pop(seat, None)
            who = call.label() if call else f"{e.get('remote')}"
            self.say(f"{who}  berdering di {seat}", t)
            return
        call = self.at_seat.get(seat) if kind == "seat_answered" else self.at_seat.pop(seat, None)
        who = call.label() if call else "panggilan"
        if kind == "seat_answered":
            if call is not None:
                call.answered = t
            self.say(f"{who}  tersambung ke {seat}", t)
        else:
            talk = f", {t - call.answered:.0f} s bicara" if call and call.answered and t else ""
            self.say(f"{seat} menutup / ditinggal ({who}{talk})", t)

    def _forget_task(self, done: asyncio.Task[None]) -> None:
        if done in self.tasks:
            self.tasks.remove(done)

    async def _press_one(self, phone: str) -> None:
        await asyncio.sleep(random.uniform(3.0, 6.0))
        with contextlib.suppress(SimulatorError):
            await self.duty_phones[phone].seat_dtmf(phone, "1")
            self.say(f"{phone} menekan 1: tugas diterima lewat telepon piket")

    async def _shutdown(self) -> None:
        self.say("menghentikan simulasi: menutup panggilan dan keluar dari registrar…")
        for task in self.tasks:
            if task.get_name() in ("demo-callers", "demo-bursts"):
                task.cancel()
        if self.room is not None:
            await self.room.stop()
        await asyncio.gather(*(sim.close() for sim in self.sims), return_exceptions=True)
        for _, q in self.queues:  # the last events (hang-ups) of every process, in order
            while not q.empty():
                self._show(q.get_nowait())
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        s = self.stats
        self.say(
            f"ringkasan: {s['placed']} panggilan, {s['served']} dilayani petugas, "
            f"{s['unserved']} berakhir tanpa petugas"
        )


def main(settings: config.Settings, argv: list[str]) -> int:
    if argv[:1] == ["--"]:  # ``padang112 simulate -- --seats 2``: the CLI hands the separator through
        argv = argv[1:]
    args = build_parser(settings).parse_args(argv)
    if args.rate < 0 or args.duration < 0:
        print("padang112 simulate: --rate and --duration must not be negative", file=sys.stderr)
        return 2
    if args.profile:
        return _replay(settings, args)
    return asyncio.run(Demo(settings, args).run())


def _replay(settings: config.Settings, args: argparse.Namespace) -> int:
    from padang112.planning import profile
    from padang112.simulator.replay import Replay

    try:
        chosen = profile.load(args.profile)
    except profile.ProfileError as exc:
        print(f"padang112 simulate: {exc}", file=sys.stderr)
        return 2
    seats = settings.seats[: args.seats] if args.seats is not None else None  # default: the profile's shift
    replay = Replay(
        settings, chosen, seed=args.seed, speed=args.speed, start_hour=args.start, hours=args.hours, seats=seats
    )
    asyncio.run(replay.run())
    return 0
