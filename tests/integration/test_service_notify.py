"""``padang112 serve`` under a systemd-like manager: READY=1 once it takes calls, WATCHDOG=1 from its loop, a hung
loop goes silent (what makes systemd restart it), STOPPING=1 on SIGTERM.

The manager is a real unix datagram socket handed over in ``$NOTIFY_SOCKET`` with ``$WATCHDOG_USEC``, as
systemd does for ``Type=notify`` + ``WatchdogSec=``. The controller's ARI/AMI ports point nowhere: this is
about the process, not the switch.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fixtures.controller import free_port
from tests.slot import SLOT

pytestmark = pytest.mark.live

WATCHDOG_S = 1.0


def receive(sock: socket.socket, until: float) -> list[str]:
    """Every line received before ``until`` (monotonic)."""
    lines: list[str] = []
    while (left := until - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            lines += sock.recv(4096).decode().split("\n")
        except TimeoutError:
            break
    return lines


def wait_for(sock: socket.socket, line: str, timeout: float) -> list[str]:
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            seen += sock.recv(4096).decode().split("\n")
        except TimeoutError:
            break
        if line in seen:
            return seen
    raise AssertionError(f"{line} not received within {timeout} s (got {seen})")


def test_serve_notifies_ready_pings_from_its_loop_and_goes_silent_when_the_loop_hangs(tmp_path: Path) -> None:
    manager = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    manager.bind(str(tmp_path / "notify"))
    toml = tmp_path / "padang112.toml"
    toml.write_text(
        f'state_dir = "{tmp_path / "state"}"\nrecordings_dir = "{tmp_path / "recordings"}"\n'
        f'[asterisk]\nhttp_port = 9\nami_port = 9\ninstance = "notify{SLOT}"\n[web]\nport = {free_port()}\n'
        "insecure_http = true\n"  # plain HTTP on loopback (web/tls.py)
    )
    env = dict(
        os.environ,
        PADANG112_CONFIG=str(toml),
        NOTIFY_SOCKET=str(tmp_path / "notify"),
        WATCHDOG_USEC=str(int(WATCHDOG_S * 1e6)),
    )
    log = (tmp_path / "serve.log").open("ab")
    proc = subprocess.Popen([sys.executable, "-m", "padang112.cli", "serve"], env=env, stdout=log, stderr=log)
    try:
        try:
            seen = wait_for(manager, "READY=1", 60)
        except AssertionError as exc:
            raise AssertionError(
                f"{exc}; exit code {proc.poll()}; log:\n{(tmp_path / 'serve.log').read_text()}"
            ) from None
        assert "STATUS=taking calls" in seen
        pings = receive(manager, time.monotonic() + 3 * WATCHDOG_S).count("WATCHDOG=1")
        assert pings >= 4, f"{pings} pings in {3 * WATCHDOG_S} s"

        os.kill(proc.pid, signal.SIGSTOP)  # the event loop stops turning, as in a hang
        try:
            time.sleep(0.1)
            receive(manager, time.monotonic() + 0.1)  # what was already sent
            assert receive(manager, time.monotonic() + 2 * WATCHDOG_S).count("WATCHDOG=1") == 0
        finally:
            os.kill(proc.pid, signal.SIGCONT)
        assert "WATCHDOG=1" in wait_for(manager, "WATCHDOG=1", 5 * WATCHDOG_S)

        proc.send_signal(signal.SIGTERM)
        wait_for(manager, "STOPPING=1", 20)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        manager.close()
