"""A private stack for benchmarks: Asterisk instance "bench" (own ports), a controller, simulator processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from padang112 import config
from padang112.edge import process
from padang112.pbx import chroot
from padang112.pbx.layout import layout
from padang112.simulator.client import Simulator


def bench_settings(
    state: Path,
    seats: int,
    slot: int = 0,
    calls: dict[str, float] | None = None,
    name: str = "bench",
    offset: int = 0,
    edge: bool = False,
    rtp: tuple[int, int] | None = None,
) -> config.Settings:
    """Instance "bench" (slot 0) or "bench<slot>" on ports shifted by 100 per slot (RTP: the slot's test range,
    or ``rtp``); another ``name`` with another port ``offset`` is a second instance of the slot (bench/load.py's
    app_queue). ``edge``: with the SIP edge (Kamailio on 127.0.3.<1 + slot>, every seat registered there)."""
    shift = 100 * slot + offset
    rtp = rtp or ((45000, 49999) if slot == 0 else (30000 + 2000 * slot, 31999 + 2000 * slot))
    extra = "".join(f"{key} = {value}\n" for key, value in (calls or {}).items() if key != "wrap_up_s")
    toml = state / "padang112.toml"
    toml.write_text(f"""
state_dir = "{state}"
recordings_dir = "{state / "recordings"}"
[asterisk]
instance = "{f"{name}{slot}" if slot else name}"
sip_port = {5080 + shift}
http_port = {8118 + shift}
ami_port = {5068 + shift}
rtp_start = {rtp[0]}
rtp_end = {rtp[1]}
[calls]
seat_count = {seats}
wrap_up_s = {(calls or {}).get("wrap_up_s", 0.5)}
{extra}[web]
port = {8110 + shift}
insecure_http = true
[cameras]
allowed_networks = ["127.0.0.1/32"]  # bench/wall.py's local test cameras
[edge]
enabled = {"true" if edge else "false"}
address = "127.0.3.{1 + slot}"
port = {5085 + shift}
run_dir = "{state / "edge-run"}"
""")
    (state / "recordings").mkdir(exist_ok=True)
    return config.load(toml, environ={})


async def wait_ready(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(url) as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.2)
    raise SystemExit(f"controller not ready at {url}")


@dataclass
class Stack:
    settings: config.Settings
    state: Path
    sims: list[Simulator] = field(default_factory=list)
    controller: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.web.port}"

    @property
    def controller_pid(self) -> int | None:
        return None if self.controller is None else self.controller.pid

    async def simulator(self, name: str) -> Simulator:
        sim = Simulator(name=name, log_path=self.state / "sim.log")
        await sim.start()
        self.sims.append(sim)
        return sim

    def start_controller(self) -> None:
        """``padang112 serve`` on this stack's configuration (stopped when the stack closes)."""
        log = (self.state / "controller.log").open("ab")
        self.controller = subprocess.Popen(
            [sys.executable, "-m", "padang112.cli", "serve"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(os.environ, PADANG112_CONFIG=str(self.settings.config_path)),
        )


@contextlib.asynccontextmanager
async def bench_stack(
    seats: int,
    slot: int = 0,
    calls: dict[str, float] | None = None,
    edge: bool = False,
    rtp: tuple[int, int] | None = None,
    controller: bool = True,
) -> AsyncIterator[Stack]:
    """The slot's bench switch and (``controller``, else the bench calls ``Stack.start_controller``) its controller,
    ready; everything stopped on leaving."""
    state = Path(tempfile.mkdtemp(prefix="padang112-bench-"))
    settings = bench_settings(state, seats, slot, calls, edge=edge, rtp=rtp)
    lay = layout(settings)
    # a fresh switch: an earlier run's fallback notes in astdb would be imported as this run's calls
    (lay.host(lay.lib) / "astdb.sqlite3").unlink(missing_ok=True)
    if chroot.start(settings) != 0:
        raise SystemExit("could not start the bench Asterisk instance")
    kamailio = None
    if edge:
        argv = process.command(settings, process.prepare(settings))
        kamailio = subprocess.Popen(argv, stdout=(state / "edge.log").open("wb"), stderr=subprocess.STDOUT)
    stack = Stack(settings, state)
    try:
        if controller:
            stack.start_controller()
            await wait_ready(f"{stack.base_url}/readyz")
        yield stack
    finally:
        try:
            for sim in stack.sims:
                await sim.close()
            for proc, wait_s in ((stack.controller, 60), (kamailio, 15)):
                if proc is not None:
                    stop_process(proc, wait_s)
        finally:
            chroot.stop(settings)  # always: a switch left behind holds its callers (and the machine's CPU)


def stop_process(proc: subprocess.Popen[bytes], wait_s: float) -> None:
    """SIGTERM, and SIGKILL after ``wait_s`` (a controller handing over a thousand waiting callers takes a while)."""
    proc.terminate()
    try:
        proc.wait(timeout=wait_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]
