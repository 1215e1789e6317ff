"""Benchmark: a thousand callers wait with no call taker signed in, then the seats come back and the line drains.

Starts the slot's own stack (bench/stack.py, P112_TEST_SLOT) with no seat registered. SIPp callers from all six
carriers' addresses (bench/caller_waits.xml: G.711 audio once answered, then on the line until the switch hangs
up) arrive at ``--rate``; a few pjsua2 callers (probes) arrive last and record what they hear. Once everyone
waits it measures, for ``--measure`` seconds: ``/healthz`` (p50/p99, one request every 50 ms), the supervisor's
console (``GET /supervisor`` and ``GET /api/v1/room`` with a signed-in session), what the switch holds (callers
answered and in the application, from ``core show channels concise``; the fullest taskprocessor queues) and the
controller's own count of waiting callers (``padang112_callers_waiting`` on /metrics). Then ``--seats`` pjsua2
seats register (answer after 0.1 s, a 1000 Hz tone, hang up after 1 s) and the queue drains: time to drain, and
the order from the database (calls' ``offered_at`` and ``connected_at`` against ``received_at``). The probes'
longest silence before a call taker's tone says whether anyone waited in silence (music and the position
announcements play over each other, never nothing).

    P112_TEST_SLOT=6 .venv/bin/python bench/waiting.py                         # 1,000 callers at 20/s, 48 seats
    P112_TEST_SLOT=6 .venv/bin/python bench/waiting.py --callers 60 --seats 8  # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import aiohttp

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from load import sipp, sipp_failed, usage
from stack import Stack, bench_stack, percentile

from padang112.pbx import chroot
from padang112.pbx.taskprocessors import fullest, parse_taskprocessors
from padang112.simulator import fleet, tones
from padang112.simulator.client import Simulator
from padang112.simulator.console_client import ConsoleSession

SCENARIO = Path(__file__).with_name("caller_waits.xml")
# the seats take the next caller at once; their phones hang up on purpose after TALK_S, never a drop (min_talk_s:
# under load the seat leg's StasisStart reaches the controller late, and a short talk looked like a dropped call)
CALLS = {"wrap_up_s": 0.0, "min_talk_s": 0.0}
TALK_S = 1.0
ANSWER_AFTER_S = 0.1
SEAT_TONE_HZ = 1000
# a thousand callers hold a thousand RTP ports pairs at once, more than a test slot's 2,000 ports: 20000-29999 is no
# test slot's (Asterisk skips a port another program holds)
RTP = (20000, 29999)
PROBES = 4  # pjsua2 callers that record what they hear (one simulator process: 4 calls)
WAITING = "padang112_callers_waiting"


# ---- pure helpers (tests/unit/test_bench_waiting.py) ------------------------------------------------------


def metric(text: str, name: str) -> float | None:
    """The value of an unlabelled sample ``name`` in a Prometheus text exposition (None if absent)."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def caller_channels(concise: str, carriers: Iterable[str]) -> Counter[str]:
    """``core show channels concise`` -> the carriers' channels counted by "<state> <application>"
    (``Up Stasis``: answered and with the controller)."""
    prefixes = tuple(f"PJSIP/{name}-" for name in carriers)
    found: Counter[str] = Counter()
    for line in concise.splitlines():
        fields = line.split("!")
        if len(fields) > 5 and fields[0].startswith(prefixes):
            found[f"{fields[4]} {fields[5]}"] += 1
    return found


@dataclass(frozen=True)
class Order:
    """How callers were served against the order they arrived in."""

    served: int  # callers with a time of being served
    ahead: int  # callers served before someone who arrived earlier
    worst_s: float  # the most a caller was served before an earlier one (0: strict arrival order)


def serving_order(calls: Iterable[tuple[str, datetime, datetime | None]]) -> Order:
    """``calls``: (id, arrived, served or None). Walking in arrival order (id breaks ties), a caller served before
    the latest time an earlier caller was served went ahead of that caller."""
    served = sorted((arrived, call_id, at) for call_id, arrived, at in calls if at is not None)
    ahead, worst, latest = 0, 0.0, None
    for _, _, at in served:
        if latest is not None and at < latest:
            ahead += 1
            worst = max(worst, (latest - at).total_seconds())
        latest = at if latest is None or at > latest else latest
    return Order(len(served), ahead, worst)


def table(rows: list[tuple[str, str]]) -> str:
    lines = ["| figure | value |", "|---|---|"]
    return "\n".join(lines + [f"| {what} | {value} |" for what, value in rows])


def spread(values: list[float], unit: str = "ms") -> str:
    if not values:
        return "-"
    return (
        f"p50 {percentile(values, 50):.1f} {unit}, p99 {percentile(values, 99):.1f} {unit}, "
        f"max {max(values):.1f} {unit} ({len(values)} requests)"
    )


# ---- measurement ---------------------------------------------------------------------------------------------


async def timed(fetch: Callable[[], Awaitable[object]]) -> float:
    start = time.perf_counter()
    await fetch()
    return (time.perf_counter() - start) * 1000


async def sample(fetch: Callable[[], Awaitable[object]], duration: float, every: float) -> list[float]:
    """Milliseconds of ``fetch`` called every ``every`` seconds for ``duration`` seconds."""
    out: list[float] = []
    end = time.monotonic() + duration
    while time.monotonic() < end:
        out.append(await timed(fetch))
        await asyncio.sleep(every)
    return out


async def get_text(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(url) as resp:
        text = await resp.text()
        if resp.status != 200:
            raise RuntimeError(f"GET {url} -> {resp.status}")
        return text


async def waiting_now(http: aiohttp.ClientSession, stack: Stack) -> float:
    return metric(await get_text(http, f"{stack.base_url}/metrics"), WAITING) or 0.0


async def until(check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> float:
    """Seconds until ``check()`` is true (polled every 0.2 s); SystemExit after ``timeout``."""
    start = time.monotonic()
    while not await check():
        if time.monotonic() - start > timeout:
            raise SystemExit(f"[waiting] {what}: not within {timeout:.0f} s")
        await asyncio.sleep(0.2)
    return time.monotonic() - start


async def supervisor(stack: Stack) -> ConsoleSession:
    """A supervisor account made with the command line, signed in through the sign-in form."""
    password = secrets.token_urlsafe(12)
    env = dict(os.environ, PADANG112_CONFIG=str(stack.settings.config_path))
    cmd = [sys.executable, "-m", "padang112.cli", "user", "add", "pak-joni", "--role", "supervisor"]
    subprocess.run([*cmd, "--password-stdin"], input=password + "\n", text=True, env=env, check=True)
    console = ConsoleSession(stack.base_url, "pak-joni")
    await console.sign_in(password)
    return console


STORED = """SELECT c.id, c.caller_number, c.received_at, MIN(e.at), c.connected_at FROM calls c
LEFT JOIN call_events e ON e.call_id = c.id AND e.to_state = 'offered' WHERE c.via = 'controller' GROUP BY c.id"""


def stored_calls(db: Path, numbers: set[str]) -> list[tuple[str, datetime, datetime | None, datetime | None]]:
    """(id, received_at, first offer, connected_at) of the bench's callers, from the controller's database (a
    call offered again after a seat's phone failed keeps its place but its ``offered_at`` is the later offer)."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        rows = conn.execute(STORED).fetchall()

    def when(text: str | None) -> datetime | None:
        return datetime.fromisoformat(text) if text else None

    return [
        (cid, datetime.fromisoformat(received), when(offered), when(connected))
        for cid, number, received, offered, connected in rows
        if number in numbers
    ]


def switch_view(stack: Stack) -> tuple[Counter[str], str]:
    """The carriers' channels by state and application, and the three fullest taskprocessor queues."""
    settings = stack.settings
    channels = caller_channels(
        chroot.asterisk_rx(settings, "core show channels concise"), (c.name for c in settings.carriers)
    )
    queues = fullest(parse_taskprocessors(chroot.asterisk_rx(settings, "core show taskprocessors")), 3)
    top = ", ".join(f"{t.name} {t.queued} queued (deepest {t.max_depth}, high water {t.high_water})" for t in queues)
    return channels, top


# ---- the run -------------------------------------------------------------------------------------------------


async def run(args: argparse.Namespace, slot: int) -> int:
    rows: list[tuple[str, str]] = []
    async with bench_stack(args.seats, slot, CALLS, rtp=RTP) as stack, aiohttp.ClientSession() as http:
        settings = stack.settings
        console = await supervisor(stack)
        seat_sims = [await stack.simulator(f"seats{i + 1}") for i in range(len(fleet.chunks(settings.seats)))]
        probe_sim = await stack.simulator("probes")
        work = stack.state / "callers"
        work.mkdir()
        numbers = [f"0813{i:07d}" for i in range(args.callers)]
        probes = {f"probe{i}": f"0819{i:07d}" for i in range(PROBES)}
        total = args.callers + PROBES
        load_start = os.getloadavg()[0]
        print(f"[waiting] {args.callers} SIPp callers at {args.rate:g}/s, no seat registered; load {load_start:.1f}")
        carriers = settings.carriers
        arrival_start = time.monotonic()
        callers = []
        for k, carrier in enumerate(carriers):  # one SIPp a carrier, staggered: together one steady rate
            share = numbers[k :: len(carriers)]
            rate = args.rate / len(carriers)
            callers.append(sipp(settings, carrier.address, share, rate, 0, work, SCENARIO, timeout_s=3600))
            await asyncio.sleep(1 / args.rate)
        await asyncio.sleep(max(0.0, args.callers / args.rate - (time.monotonic() - arrival_start)))
        for i, (name, number) in enumerate(probes.items()):
            record = work / f"{name}.wav"
            bind = carriers[i % len(carriers)].address
            await probe_sim.call(name, fleet.target_uri(settings), bind=bind, caller=number, record=record)

        async def everyone_waits() -> bool:
            return await waiting_now(http, stack) >= total

        await until(everyone_waits, 120 + args.callers / args.rate, f"{total} callers waiting")
        arrived_s = time.monotonic() - arrival_start
        print(f"[waiting] all {total} callers waiting {arrived_s:.1f} s after the first; measuring {args.measure:g} s")
        pids = {"asterisk": chroot.pid(settings), "controller": stack.controller_pid}
        cpu_before = {name: usage(pid)[0] for name, pid in pids.items() if pid is not None}
        health, room_api, page = await asyncio.gather(
            sample(lambda: get_text(http, f"{stack.base_url}/healthz"), args.measure, 0.05),
            sample(lambda: console.get("/api/v1/room"), args.measure, 1.0),
            sample(lambda: get_text(console.http, f"{stack.base_url}/supervisor"), args.measure, 1.0),
        )
        idle = {name: usage(pid) for name, pid in pids.items() if pid is not None}
        channels, queues = switch_view(stack)
        waiting = await waiting_now(http, stack)
        room = await console.get("/api/v1/room")
        load_wait = os.getloadavg()[0]

        # the seats come back
        print(f"[waiting] {args.seats} seats register now; load {load_wait:.1f}", flush=True)
        seats_start = time.monotonic()
        spare = iter(seat_sims)

        async def next_process(name: str) -> Simulator:
            return next(spare)

        await fleet.start_seats(
            settings,
            settings.seats,
            next_process,
            answer_after=ANSWER_AFTER_S,
            hangup_after=TALK_S,
            tone_hz=SEAT_TONE_HZ,
        )
        registered_s = time.monotonic() - seats_start

        async def nobody_waits() -> bool:
            return await waiting_now(http, stack) == 0

        drained_s = await until(nobody_waits, 60 + 5 * total, "the queue drained") + registered_s
        for proc in callers:
            await asyncio.to_thread(proc.wait, 120)
        for name in probes:
            with contextlib.suppress(TimeoutError):
                await probe_sim.wait_call_state(name, "DISCONNECTED", 30)
        await console.close()
        load_end = os.getloadavg()[0]

        calls = stored_calls(settings.state_dir / "padang112.db", set(numbers) | set(probes.values()))
        offered = serving_order((cid, received, at) for cid, received, at, _ in calls)
        connected = serving_order((cid, received, at) for cid, received, _, at in calls)
        firsts = [at for *_, at in calls if at is not None]
        failed = sum(max(0, sipp_failed(work / f"{c.address}.csv")) for c in carriers)
        gaps = []
        for name in probes:
            record = work / f"{name}.wav"
            through = tones.first_tone_at(record, SEAT_TONE_HZ) if record.exists() else None
            gaps.append(tones.longest_silence(record, end_s=through) if record.exists() else float("inf"))

    waited_s = args.measure
    cpu = ", ".join(f"{name} {(idle[name][0] - cpu_before[name]) / waited_s * 100:.0f} %" for name in cpu_before)
    rss = ", ".join(f"{name} {idle[name][1]:.0f} MiB" for name in idle)
    rows += [
        ("callers (SIPp, 6 carriers, G.711) + pjsua2 probes", f"{args.callers} + {PROBES} at {args.rate:g}/s"),
        ("first arrival → all waiting", f"{arrived_s:.1f} s"),
        ("waiting, controller's count (/metrics)", f"{waiting:.0f}"),
        ("waiting, supervisor's room API (waiting_total)", str(room.get("waiting_total"))),
        ("carriers' channels on the switch", ", ".join(f"{n} {k}" for k, n in channels.most_common()) or "none"),
        ("fullest taskprocessors while waiting", queues),
        ("/healthz while waiting", spread(health)),
        ("GET /api/v1/room (supervisor) while waiting", spread(room_api)),
        ("GET /supervisor page while waiting", spread(page)),
        ("CPU while everyone waits (of one core)", cpu),
        ("RSS while everyone waits", rss),
        ("seats registered", f"{args.seats} in {registered_s:.1f} s"),
        ("seats start → nobody waiting", f"{drained_s:.1f} s"),
        ("first → last caller connected (database)", f"{(max(firsts) - min(firsts)).total_seconds():.1f} s"),
        ("connected (database) / SIPp failed", f"{len(firsts)} of {total} / {failed}"),
        (
            "offered in arrival order (first offer)",
            f"{offered.ahead} of {offered.served} offered before an earlier caller (worst {offered.worst_s:.3f} s)",
        ),
        (
            "connected in arrival order",
            f"{connected.ahead} of {connected.served} connected before an earlier caller "
            f"(worst {connected.worst_s:.3f} s: seats answer in parallel)",
        ),
        ("probes' longest silence before a call taker", ", ".join(f"{g:.1f} s" for g in gaps)),
        ("load average (1 min): start / waiting / end", f"{load_start:.1f} / {load_wait:.1f} / {load_end:.1f}"),
    ]
    print(f"\n{table(rows)}\n(2 cores shared with other sessions: figures are noisy)")
    ok = failed == 0 and len(firsts) == total and offered.ahead == 0
    return 0 if ok else 2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--callers", type=int, default=1000, help="SIPp callers")
    parser.add_argument("--rate", type=float, default=20.0, help="arrivals per second")
    parser.add_argument("--seats", type=int, default=48, help="pjsua2 seats that come back (2 a process)")
    parser.add_argument("--measure", type=float, default=20.0, help="seconds of measuring while everyone waits")
    args = parser.parse_args()
    slot = int(os.environ.get("P112_TEST_SLOT", "0"))
    return asyncio.run(run(args, slot))


if __name__ == "__main__":
    sys.exit(main())
