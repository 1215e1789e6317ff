"""Ask a running edge what it does, over Kamailio's control socket (``kamcmd``): which nodes its dispatcher sends
calls to, which phones are registered at it. Read by ``padang112 cluster status`` and the tests."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable

from padang112 import config
from padang112.edge import render

TIMEOUT_S = 10


class EdgeUnreachable(RuntimeError):
    pass


def rpc(settings: config.Settings, *command: str) -> str:
    """One ``kamcmd`` command over the edge's control socket; its output."""
    sock = f"unix:{render.control_socket(settings)}"
    try:
        done = subprocess.run(["kamcmd", "-s", sock, *command], capture_output=True, text=True, timeout=TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EdgeUnreachable(str(exc)) from exc
    if done.returncode != 0:
        raise EdgeUnreachable(done.stderr.strip() or f"kamcmd exited with {done.returncode}")
    return done.stdout


def node_flags(settings: config.Settings) -> dict[str, str]:
    """Dispatcher set 1: node URI -> its flags (``AP`` active and probed, ``IP`` inactive, ``TP`` trying)."""
    return dict(re.findall(r"URI: (\S+)\s+FLAGS: (\S+)", rpc(settings, "dispatcher.list")))


def registered(settings: config.Settings) -> set[str]:
    """The phones registered at the edge now (usrloc)."""
    return set(re.findall(r"AoR: (\S+)", rpc(settings, "ul.dump"), flags=re.I))


def wait_active(
    settings: config.Settings,
    running: Callable[[], bool],
    timeout_s: float,
    live: set[str] | None = None,
    steady_s: float = 0.0,
) -> None:
    """Until the dispatcher has the nodes ``live`` (URIs; None: all of them) active after their first probes, and
    for ``steady_s`` in a row (a node just started again: the edge may not have probed it yet).

    Raises EdgeUnreachable when the edge stops ``running`` or ``timeout_s`` passes first.
    """
    deadline = time.monotonic() + timeout_s
    flags: dict[str, str] = {}
    since: float | None = None  # when every wanted node was first seen active (this stretch)
    while time.monotonic() < deadline:
        if not running():
            raise EdgeUnreachable("Kamailio exited")
        try:
            flags = node_flags(settings)
        except EdgeUnreachable:
            flags = {}
        wanted = set(flags) if live is None else live
        if flags and all(flags.get(uri, "").startswith("A") for uri in wanted):
            since = time.monotonic() if since is None else since
            if time.monotonic() - since >= steady_s:
                return
        else:
            since = None
        time.sleep(0.1)
    raise EdgeUnreachable(f"the edge's nodes are not active after {timeout_s:g} s: {flags}")
