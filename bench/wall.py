"""Benchmark: the video wall with 9 tiles in Chromium for N minutes; CPU and memory of Chromium and padang112.

Starts its own stack (bench/stack.py), the local test cameras (tests/fixtures/camera_streams.py: ffmpeg test
patterns served as HLS, MJPEG and snapshots on loopback), 9 cameras (3 of each kind) registered with
``padang112 camera add``, a supervisor signed in to ``/dinding`` in Debian's Chromium with a 9-tile layout.
Every minute it prints, from /proc: CPU (% of one core over that minute) and memory of all Chromium processes
(PSS, so shared pages count once) and of the padang112 process (RSS), plus the page's JS heap and DOM size.

    .venv/bin/python bench/wall.py --minutes 10
    .venv/bin/python bench/wall.py --minutes 5 --only mjpeg     # 9 tiles of one type, to see which one costs
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, __file__.rsplit("/", 1)[0])
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from playwright.async_api import async_playwright
from stack import bench_stack

from tests.fixtures.camera_streams import CameraStreams

MARKER = "--p112-bench-wall"  # unknown to Chromium, kept on its command line: how its process tree is found
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    MARKER,
]
TICKS = os.sysconf("SC_CLK_TCK")
PAGE_STATS = """() => ({heap: performance.memory ? performance.memory.usedJSHeapSize : null,
  nodes: document.getElementsByTagName('*').length,
  playing: [...document.querySelectorAll('.camera-tile')].filter((t) => t.dataset.status === 'online').length})"""


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every process."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            found[int(entry)] = (int(stat.rsplit(")", 1)[1].split()[1]), cmdline)
    return found


def _tree(roots: set[int], table: dict[int, tuple[int, str]]) -> set[int]:
    pids = set(roots)
    grew = True
    while grew:
        more = {pid for pid, (parent, _) in table.items() if parent in pids} - pids
        pids |= more
        grew = bool(more)
    return pids


def _cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except OSError:
        return 0


def _memory_kib(pid: int, field: str) -> int:
    source = "smaps_rollup" if field == "Pss" else "status"
    key = "Pss:" if field == "Pss" else "VmRSS:"
    try:
        for line in Path(f"/proc/{pid}/{source}").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class Meter:
    """CPU and memory of a set of process trees, between two calls of :meth:`sample`."""

    def __init__(self, name: str, find_roots, memory_field: str) -> None:
        self.name = name
        self.find_roots = find_roots
        self.memory_field = memory_field
        self.last: tuple[float, int] | None = None
        self.by_type: dict[str, int] = {}

    def sample(self) -> str:
        table = _processes()
        pids = _tree(self.find_roots(table), table)
        ticks = sum(_cpu_ticks(p) for p in pids)
        memory = sum(_memory_kib(p, self.memory_field) for p in pids)
        self.by_type = {}  # Chromium's process types (renderer, gpu-process, utility, browser)
        for pid in pids:
            kind = re.search(r"--type=(\S+)", table[pid][1])
            name = kind.group(1) if kind else "main"
            self.by_type[name] = self.by_type.get(name, 0) + _memory_kib(pid, self.memory_field)
        now = time.monotonic()
        cpu = "   -  "
        if self.last is not None:
            cpu = f"{100 * (ticks - self.last[1]) / TICKS / (now - self.last[0]):5.1f}%"
        self.last = (now, ticks)
        return f"{self.name} CPU {cpu} {self.memory_field} {memory / 1024:6.1f} MiB ({len(pids)} processes)"

    def breakdown(self) -> str:
        return ", ".join(f"{k} {v / 1024:.0f}" for k, v in sorted(self.by_type.items(), key=lambda kv: -kv[1]))


def add_camera(config: str, name: str, url: str, kind: str, n: int) -> int:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "padang112.cli",
            "camera",
            "add",
            name,
            "--kecamatan",
            "Padang Barat",
            "--lat",
            f"{-0.95 - n * 0.001}",
            "--lon",
            "100.36",
            "--type",
            kind,
            "--url-stdin",
        ],
        input=url + "\n",
        text=True,
        capture_output=True,
        check=True,
        env=dict(os.environ, PADANG112_CONFIG=config),
    )
    return int(re.search(r"camera (\d+) ", done.stdout).group(1))  # type: ignore[union-attr]


async def run(minutes: float, only: str | None) -> int:
    async with bench_stack(seats=1) as stack:
        config = str(stack.settings.config_path)
        streams = CameraStreams(stack.state / "cameras")
        streams.start()
        try:
            kinds = {"hls": "/hls/index.m3u8", "mjpeg": "/mjpeg", "snapshot": "/snapshot.jpg"}
            if only:
                kinds = {only: kinds[only]}
            tiles = [(kind, path) for _ in range(9 // len(kinds)) for kind, path in kinds.items()]
            ids = [
                add_camera(config, f"Bench {kind} {n}", streams.url(path), kind, n)
                for n, (kind, path) in enumerate(tiles)
            ]
            password = secrets.token_urlsafe(12)
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "padang112.cli",
                    "user",
                    "add",
                    "joni",
                    "--role",
                    "supervisor",
                    "--password-stdin",
                ],
                input=password + "\n",
                text=True,
                check=True,
                env=dict(os.environ, PADANG112_CONFIG=config),
            )
            controller = Meter(
                "padang112",
                lambda t: {p for p, (_, c) in t.items() if "padang112.cli serve" in c and _config_of(p) == config},
                "VmRSS",
            )
            chromium = Meter(
                "chromium ", lambda t: {p for p, (_, c) in t.items() if MARKER in c and "--type=" not in c}, "Pss"
            )
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS)
                page = await browser.new_page(viewport={"width": 1920, "height": 1080})
                await page.goto(stack.base_url + "/")
                await page.get_by_label("Nama pengguna").fill("joni")
                await page.get_by_label("Kata sandi").fill(password)
                await page.get_by_role("button", name="Masuk").click()
                await page.wait_for_url("**/supervisor")
                await page.goto(stack.base_url + "/dinding")
                await page.locator("#wall[data-ready]").wait_for(state="attached")
                await page.locator("#grid").select_option("9")
                for tile, camera_id in enumerate(ids):
                    await page.locator(f'.wall-slot[data-index="{tile}"] select').select_option(str(camera_id))
                await page.get_by_role("button", name="Simpan tata letak").click()
                mix = f"9 {only}" if only else "3 HLS, 3 MJPEG, 3 snapshot"
                print(f"[bench] wall with 9 tiles ({mix}) for {minutes} min; one line a minute", flush=True)
                chromium.sample()
                controller.sample()
                started = time.monotonic()
                for minute in range(1, int(minutes) + 1):
                    await asyncio.sleep(max(0.0, started + 60 * minute - time.monotonic()))
                    stats = await page.evaluate(PAGE_STATS)
                    heap = f"{stats['heap'] / 2**20:5.1f} MiB" if stats["heap"] else "n/a"
                    print(
                        f"[bench] {minute:3d} min  {chromium.sample()}  |  {controller.sample()}  |  "
                        f"JS heap {heap}, DOM {stats['nodes']} nodes, {stats['playing']}/9 tiles online",
                        flush=True,
                    )
                    print(f"[bench]          chromium PSS MiB by process type: {chromium.breakdown()}", flush=True)
                await browser.close()
        finally:
            streams.stop()
    return 0


def _config_of(pid: int) -> str | None:
    try:
        for item in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
            if item.startswith(b"PADANG112_CONFIG="):
                return item.split(b"=", 1)[1].decode()
    except OSError:
        pass
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--only", choices=["hls", "mjpeg", "snapshot"], help="9 tiles of one stream type")
    args = parser.parse_args()
    return asyncio.run(run(args.minutes, args.only))


if __name__ == "__main__":
    sys.exit(main())
