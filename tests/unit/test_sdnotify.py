"""The sd_notify protocol against a real unix datagram socket, as systemd's manager would receive it."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from padang112.ops.sdnotify import Notifier


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify"))
    sock.settimeout(2.0)
    yield sock
    sock.close()


def received(sock: socket.socket) -> list[str]:
    return sock.recv(4096).decode().split("\n")


def test_ready_is_one_datagram_with_status(manager: socket.socket) -> None:
    notifier = Notifier({"NOTIFY_SOCKET": manager.getsockname()})
    assert notifier.ready("menerima panggilan")
    assert received(manager) == ["READY=1", "STATUS=menerima panggilan"]


def test_an_abstract_socket_name_starts_with_at() -> None:
    name = f"p112-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(2.0)
        assert Notifier({"NOTIFY_SOCKET": "@" + name}).stopping()
        assert received(sock) == ["STOPPING=1"]


async def test_watchdog_pings_at_half_the_interval_from_the_event_loop(manager: socket.socket) -> None:
    notifier = Notifier({"NOTIFY_SOCKET": manager.getsockname(), "WATCHDOG_USEC": "200000"})
    assert notifier.watchdog_s == 0.2
    task = asyncio.create_task(notifier.watchdog())
    await asyncio.sleep(0.35)  # pings at 0, 0.1, 0.2, 0.3 s
    task.cancel()
    manager.setblocking(False)
    pings = []
    while True:
        try:
            pings += received(manager)
        except BlockingIOError:
            break
    assert pings.count("WATCHDOG=1") in (3, 4, 5)


async def test_a_blocked_loop_sends_no_ping(manager: socket.socket) -> None:
    """What makes systemd restart a hung controller: the pings come from the loop itself."""
    import time

    notifier = Notifier({"NOTIFY_SOCKET": manager.getsockname(), "WATCHDOG_USEC": "100000"})
    task = asyncio.create_task(notifier.watchdog())
    await asyncio.sleep(0)  # first ping
    manager.settimeout(1.0)
    assert received(manager) == ["WATCHDOG=1"]
    time.sleep(0.3)  # the loop is stuck: three intervals, no ping
    manager.setblocking(False)
    with pytest.raises(BlockingIOError):
        manager.recv(4096)
    task.cancel()


def test_watchdog_meant_for_another_pid_is_ignored(manager: socket.socket) -> None:
    env = {"NOTIFY_SOCKET": manager.getsockname(), "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"}
    assert Notifier(env).watchdog_s is None
    assert Notifier({**env, "WATCHDOG_PID": str(os.getpid())}).watchdog_s == 1.0


def test_outside_systemd_nothing_is_sent() -> None:
    notifier = Notifier({})
    assert not notifier.enabled and not notifier.ready()


def test_an_unreachable_socket_is_reported_not_raised(tmp_path: Path) -> None:
    assert not Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone")}).ready()
