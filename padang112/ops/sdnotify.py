"""systemd's notification protocol, done by hand: one datagram per message to ``$NOTIFY_SOCKET``.

``padang112.service`` is ``Type=notify`` with ``WatchdogSec=``: the controller sends ``READY=1`` once the console
listens and the controller is started, then ``WATCHDOG=1`` from a task *on the event loop* every half watchdog
interval. If the loop hangs (a blocking call, a deadlock), the pings stop and systemd kills and restarts the
process. Outside systemd (no ``$NOTIFY_SOCKET``) every call does nothing.

The protocol (sd_notify(3)): ``NOTIFY_SOCKET`` is a filesystem path or, starting with ``@``, an abstract socket
name; messages are newline-separated ``KEY=VALUE`` lines in one ``SOCK_DGRAM`` datagram. ``WATCHDOG_USEC`` is
the interval, meant for us only if ``WATCHDOG_PID`` is unset or our pid.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)


class Notifier:
    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        self._address = "\0" + address[1:] if address.startswith("@") else address
        self.watchdog_s: float | None = None
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        if usec.isdigit() and int(usec) > 0 and (not pid or pid == str(os.getpid())):
            self.watchdog_s = int(usec) / 1e6

    @property
    def enabled(self) -> bool:
        return bool(self._address)

    def notify(self, *lines: str) -> bool:
        """Send ``lines`` as one message; False (logged) if there is no socket or it cannot be reached."""
        if not self._address:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto("\n".join(lines).encode(), self._address)
            return True
        except OSError as exc:
            log.warning("sd_notify to %r failed: %s", self._address.replace("\0", "@"), exc)
            return False

    def ready(self, status: str = "") -> bool:
        return self.notify("READY=1", *([f"STATUS={status}"] if status else []))

    def stopping(self) -> bool:
        return self.notify("STOPPING=1")

    async def watchdog(self) -> None:
        """Ping every half interval while the event loop runs (cancel to stop); returns at once without one."""
        if self.watchdog_s is None or not self.enabled:
            return
        while True:
            self.notify("WATCHDOG=1")
            await asyncio.sleep(self.watchdog_s / 2)
