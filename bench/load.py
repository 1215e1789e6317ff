"""Benchmark under load: padang112 against Asterisk's own app_queue, same switch, same seats, stepped call rates.

For each system in turn it starts a private Asterisk instance of the slot (P112_TEST_SLOT): "bench<slot>" with
the controller (greeting, recording, stored events: everything on), then "queue<slot>" whose dialplan is only
``Answer() -> Queue()`` into the fallback queue the project renders, the same seats as its dynamic members.
pjsua2 seats answer after 100 ms; SIPp callers from all six carriers' addresses send G.711 audio once answered
(bench/caller_audio.xml), hold, and hang up. Each step places rate x duration calls; tcpdump on loopback
(capture filter: the instance's SIP port) timestamps both the caller's INVITE and the seat's INVITE in the
kernel, one clock. CPU per call is the step's utime+stime delta (/proc/<pid>/stat) over the calls placed. The
controller's event lag (a decision's events handed to the writer -> committed) is its own histogram
``padang112_event_commit_lag_seconds``, read from ``/metrics`` before and after the step.

    .venv/bin/python bench/load.py                       # steps 2,10,20,50 calls/s, 15 s each (~4 min)
    .venv/bin/python bench/load.py --steps 10 --duration 30
    .venv/bin/python bench/load.py --steps 10 --systems padang112 --profile /tmp/prof   # where the time goes
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import hops
import pyspy
from stack import Stack, bench_settings, bench_stack, percentile

from padang112 import config
from padang112.pbx import bootstrap, chroot
from padang112.pbx.layout import layout
from padang112.pbx.render import write_all
from padang112.simulator import fleet

SCENARIO = Path(__file__).with_name("caller_audio.xml")
PLAIN_DIALPLAN = """; bench/load.py: Asterisk's own queue, nothing else
[from-carrier]
exten => _[0-9+].,1,Answer()
 same => n,Queue({queue})
 same => n,Hangup()
"""
CALLS = {"wrap_up_s": 0.0}  # a seat takes the next call at once: seats are never the bottleneck
ANSWER_AFTER_S = 0.1
COMMIT_LAG = "padang112_event_commit_lag_seconds"  # the event writer's histogram (padang112/metrics/links.py)
FROM_RE = re.compile(rb"^(?:From|f):[^<\r\n]*<sips?:([^@;>]+)@", re.M | re.I)


@dataclass
class Step:
    system: str
    rate: float
    delays_ms: list[float]
    placed: int
    failed: int
    no_seat: int
    cpu_ms: dict[str, float]  # process -> CPU ms per call placed
    rss_mib: dict[str, float]  # process -> RSS at the end of the step
    load: float = 0.0  # the machine's 1-minute load average as the step began (the machine may be shared)
    commit_lag_ms: tuple[float, float] | None = None  # the controller's event -> committed p50, p99 (its metric)


# ---- pure helpers (tests/unit/test_bench_load.py) ---------------------------------------------------------


def parse_stat(text: str) -> tuple[int, int]:
    """``/proc/<pid>/stat`` -> (utime + stime in clock ticks, all threads; RSS in pages)."""
    fields = text.rsplit(")", 1)[1].split()  # the command name may hold spaces and parentheses
    return int(fields[11]) + int(fields[12]), int(fields[21])


def udp_payloads(pcap: bytes) -> Iterator[tuple[float, int, int, bytes]]:
    """(time, source port, destination port, payload) of each IPv4 UDP packet of a classic pcap file."""
    for t, proto, sport, dport, payload in hops.ip_payloads(pcap):
        if proto == 17:
            yield t, sport, dport, payload


def setup_times(pcap: bytes, sip_port: int) -> tuple[dict[str, float], dict[str, float]]:
    """Caller number -> time of its first INVITE to the switch, and -> time of the first INVITE the switch
    sent to a seat for it (the seat's From carries the caller's number)."""
    callers: dict[str, float] = {}
    seats: dict[str, float] = {}
    for t, sport, dport, payload in udp_payloads(pcap):
        if not payload.startswith(b"INVITE "):
            continue
        found = FROM_RE.search(payload)
        if found is None:
            continue
        number = found.group(1).decode(errors="replace")
        if dport == sip_port:
            callers.setdefault(number, t)
        elif sport == sip_port:
            seats.setdefault(number, t)
    return callers, seats


def lag_buckets(exposition: str) -> dict[float, float]:
    """Upper bound (s) -> cumulative count of the controller's ``padang112_event_commit_lag_seconds`` histogram."""
    out: dict[float, float] = {}
    for family in text_string_to_metric_families(exposition):
        if family.name == COMMIT_LAG:
            for sample in family.samples:
                if sample.name == f"{COMMIT_LAG}_bucket":
                    out[float(sample.labels["le"])] = sample.value
    return out


def histogram_quantile(q: float, before: dict[float, float], after: dict[float, float]) -> float:
    """Prometheus's ``histogram_quantile`` of what was observed between two scrapes (linear within a bucket;
    the +Inf bucket answers its lower bound). NaN when nothing was observed."""
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0.0) for b in bounds]
    if not counts or counts[-1] <= 0:
        return float("nan")
    rank, lower, below = q * counts[-1], 0.0, 0.0
    for bound, count in zip(bounds, counts, strict=True):
        if count >= rank:
            if bound == float("inf"):
                return lower
            return lower + (bound - lower) * (rank - below) / max(count - below, 1e-12)
        lower, below = bound, count
    return lower


def ratio(a: float, b: float) -> str:
    return f"{a / b:.1f}x" if b > 0 else "-"


def table(steps: list[Step]) -> str:
    """One row a step and system; padang112's rows end with its p50 and p99 over app_queue's."""
    head = "| calls/s | system | p50 ms | p90 ms | p99 ms | max ms | placed | failed | no seat | Asterisk CPU ms/call "
    head += "| controller CPU ms/call | Asterisk RSS MiB | controller RSS MiB | event→commit p50 ms | p99 ms "
    head += "| p50 ratio | p99 ratio | load |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    base = {s.rate: s for s in steps if s.system == "app_queue"}
    for s in sorted(steps, key=lambda s: (s.rate, s.system != "padang112")):
        d = s.delays_ms or [float("nan")]
        p50, p99 = percentile(d, 50), percentile(d, 99)
        other = base.get(s.rate) if s.system == "padang112" else None
        ratios = ["-", "-"]
        if other is not None and other.delays_ms:
            ratios = [ratio(p50, percentile(other.delays_ms, 50)), ratio(p99, percentile(other.delays_ms, 99))]
        cells = [f"{s.rate:g}", s.system, f"{p50:.1f}", f"{percentile(d, 90):.1f}", f"{p99:.1f}", f"{max(d):.1f}"]
        cells += [str(s.placed), str(s.failed), str(s.no_seat)]
        cells += [f"{s.cpu_ms.get(p, 0):.1f}" if p in s.cpu_ms else "-" for p in ("asterisk", "controller")]
        cells += [f"{s.rss_mib[p]:.0f}" if p in s.rss_mib else "-" for p in ("asterisk", "controller")]
        cells += [f"{ms:.1f}" for ms in s.commit_lag_ms] if s.commit_lag_ms else ["-", "-"]
        lines.append("| " + " | ".join([*cells, *ratios, f"{s.load:.1f}"]) + " |")
    return "\n".join(lines)


def hold_s(rate: float, seats: int, longest: float = 2.5) -> float:
    """How long a caller stays: ``longest`` while the seats stay at most ~60 % busy, shorter at high rates."""
    return max(min(0.3, longest), min(longest, 0.6 * seats / rate - 0.3))


# ---- processes ---------------------------------------------------------------------------------------------


def usage(pid: int) -> tuple[float, float]:
    """(CPU seconds so far, RSS in MiB) of a process."""
    ticks, pages = parse_stat(Path(f"/proc/{pid}/stat").read_text())
    return ticks / os.sysconf("SC_CLK_TCK"), pages * os.sysconf("SC_PAGE_SIZE") / 2**20


async def commit_lags(stack: Stack) -> dict[float, float]:
    """The controller's commit-lag histogram now (its ``/metrics``, served to loopback)."""
    async with aiohttp.ClientSession() as http, http.get(f"{stack.base_url}/metrics") as response:
        return lag_buckets(await response.text())


def free_udp_port(address: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((address, 0))
        return int(sock.getsockname()[1])


def sipp(
    settings: config.Settings,
    source: str,
    numbers: list[str],
    rate: float,
    hold: float,
    work: Path,
    scenario: Path = SCENARIO,
    timeout_s: int = 180,
):
    """One SIPp process for one carrier: ``numbers`` at ``rate`` calls/s; statistics in <work>/<source>.csv.
    ``timeout_s``: the whole run's limit (bench/waiting.py's callers wait minutes for a seat)."""
    callers = work / f"{source}.numbers"
    callers.write_text("SEQUENTIAL\n" + "".join(f"{n};\n" for n in numbers))
    ast = settings.asterisk
    cmd = ["sipp", "-sf", str(scenario), "-s", "112", "-i", source, "-p", str(free_udp_port(source))]
    cmd += ["-mp", str(free_udp_port(source)), "-inf", str(callers), "-r", str(len(numbers))]
    cmd += ["-rp", str(round(len(numbers) / rate * 1000)), "-m", str(len(numbers)), "-l", "10000"]
    cmd += ["-d", str(round(hold * 1000)), "-nostdin", "-timeout", f"{timeout_s}s", "-recv_timeout", "20000"]
    cmd += ["-trace_stat", "-stf", str(work / f"{source}.csv"), f"{ast.bind_address}:{ast.sip_port}"]
    return subprocess.Popen(cmd, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def sipp_failed(stat_file: Path) -> int:
    """FailedCall(C) of the last line of a SIPp statistics file (-trace_stat)."""
    lines = stat_file.read_text().splitlines() if stat_file.exists() else []
    if len(lines) < 2:
        return -1
    head, last = lines[0].split(";"), lines[-1].split(";")
    return int(last[head.index("FailedCall(C)")])


@contextlib.contextmanager
def capture(port: int, ari_port: int, path: Path) -> Iterator[None]:
    """tcpdump of the instance's SIP and ARI traffic on loopback (kernel timestamps) while the block runs."""
    what = f"udp port {port} or tcp port {ari_port}"
    cmd = ["tcpdump", "-i", "lo", "--immediate-mode", "-U", "-B", "16384", "-w", str(path), what]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # listening before the first call
    try:
        yield
    finally:
        time.sleep(1.0)  # the last packets into the file
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)


# ---- systems -----------------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def app_queue_stack(seats: int, slot: int) -> AsyncIterator[Stack]:
    """Instance "queue<slot>": the project's configuration, its dialplan replaced by Answer() -> Queue()."""
    state = Path(tempfile.mkdtemp(prefix="padang112-load-"))
    settings = bench_settings(state, seats, slot, CALLS, name="queue", offset=10)
    lay = layout(settings)
    (lay.host(lay.lib) / "astdb.sqlite3").unlink(missing_ok=True)  # no members left from an earlier run
    if chroot.start(settings) != 0:
        raise SystemExit("could not start the app_queue Asterisk instance")
    stack = Stack(settings, state)
    try:
        uid, gid = bootstrap.asterisk_ids(lay.root)
        dialplan = PLAIN_DIALPLAN.format(queue=settings.calls.fallback_queue)
        write_all({"extensions.conf": dialplan}, lay.etc_dir, uid, gid, remove_stale=False)
        chroot.asterisk_rx(settings, "dialplan reload")
        for seat in settings.seats:
            chroot.asterisk_rx(settings, f"queue add member PJSIP/{seat} to {settings.calls.fallback_queue}")
        yield stack
    finally:
        for sim in stack.sims:
            await sim.close()
        chroot.stop(settings)


async def run_step(
    stack: Stack, system: str, rate: float, duration: float, hold: float, index: int, profile: Path | None = None
) -> Step:
    settings = stack.settings
    work = stack.state / f"step{index}"
    work.mkdir()
    count = max(len(settings.carriers), round(rate * duration))
    numbers = [f"0812{index}{i:06d}" for i in range(count)]
    pids = {"asterisk": chroot.pid(settings), "controller": stack.controller_pid}
    procs = {name: pid for name, pid in pids.items() if pid is not None}
    load = os.getloadavg()[0]
    print(
        f"[load] {system} {rate:g}/s: {count} calls in {duration:g} s, hold {hold:.1f} s, load {load:.1f}", flush=True
    )
    spy = None
    if profile is not None and stack.controller_pid is not None:
        spy = pyspy.start(stack.controller_pid, profile / f"{system}-{rate:g}.txt", duration)
    lags_before = await commit_lags(stack) if system == "padang112" else None
    with capture(settings.asterisk.sip_port, settings.asterisk.http_port, work / "sip.pcap"):
        before = {name: usage(pid)[0] for name, pid in procs.items()}
        carriers = settings.carriers
        callers = []
        for k, carrier in enumerate(carriers):  # one SIPp a carrier, staggered: together one steady rate
            share = numbers[k :: len(carriers)]
            callers.append(sipp(settings, carrier.address, share, rate / len(carriers), hold, work))
            await asyncio.sleep(1 / rate)
        for proc in callers:
            await asyncio.to_thread(proc.wait, duration + hold + 120)
        after = {name: usage(pid) for name, pid in procs.items()}
    captured = (work / "sip.pcap").read_bytes()
    sent, rang = setup_times(captured, settings.asterisk.sip_port)
    delays = [(rang[n] - sent[n]) * 1000 for n in numbers if n in sent and n in rang]
    failed = sum(max(0, sipp_failed(work / f"{c.address}.csv")) for c in carriers)
    failed += sum(1 for n in numbers if n not in sent)  # never left SIPp
    lags = None
    if lags_before is not None:
        lags_after = await commit_lags(stack)
        lags = (
            histogram_quantile(0.5, lags_before, lags_after) * 1000,
            histogram_quantile(0.99, lags_before, lags_after) * 1000,
        )
    step = Step(
        system,
        rate,
        delays,
        count,
        failed,
        sum(1 for n in numbers if n not in rang),
        {name: (after[name][0] - before[name]) * 1000 / count for name in procs},
        {name: after[name][1] for name in procs},
        load,
        lags,
    )
    if system == "padang112":
        calls = hops.hop_times(captured, settings.asterisk.sip_port, settings.asterisk.http_port)
        ours = {n: calls[n] for n in numbers if n in calls}
        print(f"[load] {system} {rate:g}/s, hop by hop:\n{hops.hop_table(ours)}", flush=True)
    if spy is not None:
        await asyncio.to_thread(spy.wait, 30)
        assert profile is not None
        with (profile / f"{system}-{rate:g}.txt").open() as stacks:
            print(f"[load] {system} {rate:g}/s, the controller's time:\n{pyspy.summary(pyspy.parse_collapsed(stacks))}")
    d = delays or [float("nan")]
    print(
        f"[load] {system} {rate:g} calls/s: p50 {percentile(d, 50):.1f} ms, p99 {percentile(d, 99):.1f} ms, "
        f"{step.failed} failed, {step.no_seat} never reached a seat; "
        + ", ".join(f"{name} {step.cpu_ms[name]:.1f} ms CPU/call" for name in procs)
        + (f"; event→commit p50 {lags[0]:.1f} ms, p99 {lags[1]:.1f} ms" if lags else ""),
        flush=True,
    )
    return step


def left_on_switch(settings: config.Settings) -> str:
    """What the calls may have left behind on Asterisk (a leak would grow its memory call by call)."""
    channels = chroot.asterisk_rx(settings, "core show channels count").strip().splitlines()
    bridges = [line for line in chroot.asterisk_rx(settings, "bridge show all").splitlines()[1:] if line.strip()]
    return f"{'; '.join(channels)}; {len(bridges)} bridges"


async def run_system(
    system: str, steps: list[float], duration: float, seats: int, hold: float, slot: int, profile: Path | None
) -> list[Step]:
    stack_cm = bench_stack(seats, slot, CALLS) if system == "padang112" else app_queue_stack(seats, slot)
    async with stack_cm as stack:
        settings = stack.settings
        await fleet.start_seats(settings, settings.seats, stack.simulator, answer_after=ANSWER_AFTER_S, tone_hz=None)
        instance = settings.asterisk.instance
        print(f"[load] {system}: {len(settings.seats)} seats on {instance}; captures in {stack.state}", flush=True)
        await asyncio.sleep(2.0)
        out = []
        for i, rate in enumerate(steps):
            out.append(await run_step(stack, system, rate, duration, hold_s(rate, seats, hold), i, profile))
            await asyncio.sleep(2.0)  # the last callers' BYEs, the controller's wrap-up
            print(f"[load] {system}: left on the switch after the step: {left_on_switch(settings)}", flush=True)
        return out


async def run(args: argparse.Namespace, slot: int) -> int:
    results: list[Step] = []
    steps = [float(r) for r in args.steps.split(",")]
    for system in args.systems.split(","):
        results += await run_system(system, steps, args.duration, args.seats, args.hold, slot, args.profile)
    print(f"\n{table(results)}\nload average {os.getloadavg()[0]:.2f} (1 min) at the end")
    return 0 if all(s.failed == 0 and s.no_seat == 0 for s in results) else 2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", default="2,10,20,50", help="calls per second of each step (comma-separated)")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds of calls per step")
    parser.add_argument("--seats", type=int, default=48, help="pjsua2 seats (2 a process)")
    parser.add_argument("--hold", type=float, default=2.5, help="seconds a caller stays (less at high rates)")
    parser.add_argument("--systems", default="padang112,app_queue")
    parser.add_argument(
        "--profile", type=Path, default=None, help="sample the controller with py-spy into this folder, a file a step"
    )
    args = parser.parse_args()
    for tool in ("sipp", "tcpdump"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not installed (scripts/setup.sh installs it)")
    slot = int(os.environ.get("P112_TEST_SLOT", "0"))
    return asyncio.run(run(args, slot))


if __name__ == "__main__":
    sys.exit(main())
