"""A stand-in for systemd in the chaos tests: ``padang112 serve`` restarted 1 s after it dies.

The ops unit runs the controller with ``Restart=always`` and ``RestartSec=1``; the chaos scenarios need the same
behaviour without systemd, plus the faults: SIGKILL, SIGSTOP/SIGCONT, and a second ``serve`` started by mistake.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from padang112 import config

RESTART_S = 1.0


class Supervisor:
    def __init__(self, settings: config.Settings, log_path: Path, env: dict[str, str] | None = None) -> None:
        self.settings = settings
        self.log_path = log_path
        self.env = env or {}  # setting overrides (PADANG112_<SECTION>__<KEY>)
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts: list[float] = []  # monotonic time of every (re)start
        self.exits: list[int] = []  # exit codes of the processes that ended by themselves
        self._watch: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def url(self) -> str:
        return f"http://{self.settings.web.host}:{self.settings.web.port}"

    def spawn(self) -> subprocess.Popen[bytes]:
        env = dict(os.environ, PADANG112_CONFIG=str(self.settings.config_path), **self.env)
        with self.log_path.open("ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "padang112.cli", "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
            )

    async def start(self, timeout: float = 90.0, until: int = 200) -> None:
        """Start and wait until this process (not another one on the same port) answers /readyz with ``until``
        (503: a standby); stopped on failure."""
        self.proc = self.spawn()
        self.starts.append(time.monotonic())
        self._watch = asyncio.create_task(self._supervise())
        try:
            await self.wait_ready(timeout, until)
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited with {self.proc.returncode}; another controller? {self.log_path}")
        except BaseException:
            await self.stop()
            raise

    async def _supervise(self) -> None:
        while not self._stopping:
            await asyncio.sleep(0.1)
            if self.proc is not None and self.proc.poll() is not None and not self._stopping:
                self.exits.append(self.proc.returncode)
                await asyncio.sleep(RESTART_S)
                if not self._stopping:
                    self.proc = self.spawn()
                    self.starts.append(time.monotonic())

    def signal(self, signum: int) -> None:
        assert self.proc is not None and self.proc.poll() is None, "the supervised controller is not running"
        os.kill(self.proc.pid, signum)

    async def ready(self) -> bool:
        return (await self.readyz()) == 200

    async def readyz(self) -> int | None:
        try:
            async with aiohttp.ClientSession() as session:
                async with session.get(self.url + "/readyz", timeout=aiohttp.ClientTimeout(total=1.5)) as r:
                    return r.status
        except (TimeoutError, aiohttp.ClientError, OSError):
            return None

    async def wait_ready(self, timeout: float, status: int = 200) -> float:
        """Wait for /readyz ``status`` (200: ready); returns the monotonic time it was first seen."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if await self.readyz() == status:
                return time.monotonic()
            await asyncio.sleep(0.1)
        raise AssertionError(f"controller not ready within {timeout} s; see {self.log_path}")

    async def stop(self) -> None:
        self._stopping = True
        if self._watch is not None:
            await asyncio.gather(self._watch, return_exceptions=True)
        if self.proc is not None and self.proc.poll() is None:
            with_signal = self.proc
            with_signal.send_signal(signal.SIGCONT)  # a stopped process cannot handle SIGTERM
            with_signal.terminate()
            try:
                await asyncio.to_thread(with_signal.wait, 20)
            except subprocess.TimeoutExpired:
                with_signal.kill()
                await asyncio.to_thread(with_signal.wait)
