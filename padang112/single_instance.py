"""One controller per Asterisk instance.

A second ``padang112 serve`` against the same switch would take over the ARI application (Asterisk gives the
app's events to the newest WebSocket) and, dying on the taken web port, edit the fallback queue on its way out.
So ``serve`` first takes a lock named after the switch's ARI address, before it touches anything. The lock is an
abstract Unix socket: the kernel releases it when the process dies, however it dies, so a supervisor's restart
never finds a stale lock.
"""

from __future__ import annotations

import socket

from padang112.config import Settings


class AlreadyRunning(RuntimeError):
    pass


def lock_name(settings: Settings) -> str:
    ast = settings.asterisk
    return f"padang112-controller-{ast.bind_address}:{ast.http_port}"


def claim(settings: Settings) -> socket.socket:
    """Hold the controller lock for this switch (keep the returned socket open), or raise ``AlreadyRunning``."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind("\0" + lock_name(settings))
    except OSError as exc:
        sock.close()
        ast = settings.asterisk
        raise AlreadyRunning(
            f"another padang112 controller is already running for the Asterisk instance at "
            f"{ast.bind_address}:{ast.http_port} (ARI app {ast.app}); this one stops without changing anything"
        ) from exc
    return sock
