"""Benchmark: time from a citizen's INVITE to the call taker's phone ringing, through the real switch.

Starts its own Asterisk instance ("bench", own ports) and controller, registers simulated seats that answer
after 300 ms and hang up after 1 s, places N calls at a steady rate from all six carriers, and prints
p50/p90/p99/max of (seat INVITE arrival - caller INVITE sent), both taken from the same machine's clock.

    .venv/bin/python bench/call_setup.py --calls 50 --rate 2
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from padang112 import config
from padang112.pbx import chroot
from padang112.simulator import fleet
from padang112.simulator.client import Simulator


def settings_for_bench(state: Path, seats: int) -> config.Settings:
    toml = state / "padang112.toml"
    toml.write_text(f"""
state_dir = "{state}"
recordings_dir = "{state / 'recordings'}"
[asterisk]
instance = "bench"
sip_port = 5080
http_port = 8118
ami_port = 5068
rtp_start = 45000
rtp_end = 49999
[calls]
seat_count = {seats}
wrap_up_s = 0.5
[web]
port = 8110
""")
    (state / "recordings").mkdir(exist_ok=True)
    return config.load(toml, environ={})


async def wait_ready(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(url) as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit(f"controller not ready at {url}")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def run(calls: int, rate: float, seats: int) -> int:
    state = Path(tempfile.mkdtemp(prefix="padang112-bench-"))
    settings = settings_for_bench(state, seats)
    if chroot.start(settings) != 0:
        return 1
    log = (state / "controller.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "padang112.cli", "serve"], stdout=log, stderr=subprocess.STDOUT,
                            env=dict(os.environ, PADANG112_CONFIG=str(settings.config_path)))
    sims: list[Simulator] = []
    try:
        await wait_ready(f"http://127.0.0.1:{settings.web.port}/readyz")

        async def factory(name: str) -> Simulator:
            sim = Simulator(name=name, log_path=state / "sim.log")
            await sim.start()
            sims.append(sim)
            return sim

        phones = await fleet.start_seats(settings, settings.seats, factory, answer_after=0.3, hangup_after=1.0)
        citizens = [await factory(f"citizens{i}") for i in range(max(1, calls // 25 + 1))]
        await asyncio.sleep(1.0)
        print(f"[bench] {len(phones)} seats registered; placing {calls} calls at {rate}/s", flush=True)
        sent: dict[str, float] = {}
        target = fleet.target_uri(settings)
        for i in range(calls):
            carrier = settings.carriers[i % len(settings.carriers)]
            number = f"+62812{i:07d}"
            sim = citizens[i % len(citizens)]
            sent[number] = time.time()
            await sim.call(f"b{i}", target, bind=carrier.address, caller=number, hangup_after=1.5)
            await asyncio.sleep(1 / rate)
        await asyncio.sleep(4.0)
        rings: dict[str, float] = {}
        for sim in {id(s): s for s in phones.values()}.values():
            for event in sim.events(pred=lambda e: e.get("event") == "seat_ringing"):
                for number in sent:
                    if number in str(event.get("remote", "")):
                        rings.setdefault(number, event["t"])
        delays = [(rings[n] - sent[n]) * 1000 for n in sent if n in rings]
        missing = len(sent) - len(delays)
        print(f"[bench] INVITE -> seat ringing over {len(delays)} calls: p50 {percentile(delays, 50):.1f} ms, "
              f"p90 {percentile(delays, 90):.1f} ms, p99 {percentile(delays, 99):.1f} ms, "
              f"max {max(delays):.1f} ms, mean {statistics.mean(delays):.1f} ms; {missing} calls never rang a seat")
        return 0 if missing == 0 else 2
    finally:
        for sim in sims:
            await sim.close()
        proc.terminate()
        proc.wait(timeout=15)
        chroot.stop(settings)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--rate", type=float, default=2.0, help="calls per second")
    parser.add_argument("--seats", type=int, default=8)
    args = parser.parse_args()
    return asyncio.run(run(args.calls, args.rate, args.seats))


if __name__ == "__main__":
    sys.exit(main())
