"""AMI adapter (panoramisk): keeps Asterisk's own fallback queue in step with the seats, and reads the
switch's database where the fallback dialplan notes the calls it handled while the controller was down.

Nothing sent here is replayed after a reconnect: every action is a resync the controller repeats itself
when it reconnects, and a late replay of anything else could be dangerous on an emergency line.

The AMI account may do only this (``asterisk/manager.conf.j2``: write ``agent,reporting``): QueueAdd, QueueRemove,
QueuePause and DBGetTree. It cannot run CLI commands, originate, write astdb or reload (docs/SECURITY.md).
"""

from __future__ import annotations

import asyncio
import logging
import time

from panoramisk import Manager

from padang112.cluster.fence import UNFENCED, Fence, Fenced

log = logging.getLogger(__name__)

PING_INTERVAL_S = 1.0
PING_TIMEOUT_S = 1.5
ALIVE_WITHIN_S = 3.5  # /readyz turns red within 5 s of a silent loss
OUR_ACTIONS = ("ping", "login", "logoff", "queueadd", "queueremove", "queuepause", "dbgettree", "queuestatus")


class AmiLink:
    def __init__(self, host: str, port: int, user: str, secret: str, queue: str, fence: Fence = UNFENCED) -> None:
        """``fence``: checked before every action (the queue's resync and membership changes, the pings), so a
        controller that is no longer the leader changes nothing on the switch."""
        self.queue = queue
        self.fence = fence
        self.last_reply_at: float | None = None  # time.monotonic() of the last answer AMI gave us
        self.last_pong: float | None = None  # monotonic time of the last answered Ping
        self._manager = Manager(
            host=host,
            port=port,
            username=user,
            secret=secret,
            events="off",
            ping_delay=5,
            ping_interval=5,
            reconnect_timeout=1,
            forgetable_actions=OUR_ACTIONS,
            loop=asyncio.get_running_loop(),
        )

    async def start(self) -> None:
        """Connect in the background: the controller must run (and answer 112) without AMI."""
        try:
            await asyncio.wait_for(asyncio.shield(self._manager.connect()), timeout=5)
            login = self._manager.authenticated_future
            if login is not None:
                await asyncio.wait_for(asyncio.shield(login), timeout=5)
        except (TimeoutError, OSError) as exc:
            log.warning("AMI not reachable yet (%s); retrying in the background", exc)

    @property
    def connected(self) -> bool:
        return bool(self._manager._connected and self._manager.authenticated)

    @property
    def alive(self) -> bool:
        """Connected and answering: a socket that is open but silent is not alive."""
        return self.connected and self.last_pong is not None and time.monotonic() - self.last_pong < ALIVE_WITHIN_S

    def close(self) -> None:
        self._manager.close()

    async def keepalive(self) -> None:
        """Ping every second, the first one at once (``alive``, hence ``/readyz``, needs an answered ping: a
        standby that just took over is ready a second sooner); a link that stops answering is dropped so that
        panoramisk dials it again."""
        while True:
            if self.connected:
                try:
                    await self._send({"Action": "Ping"}, timeout=PING_TIMEOUT_S)
                    self.last_pong = time.monotonic()
                except Fenced:  # a suspended leader pings nothing (so it is not alive: /readyz red)
                    pass
                except (TimeoutError, ConnectionError) as exc:
                    if not self.alive:
                        log.warning("AMI does not answer (%s): reconnecting", exc or "timeout")
                        transport = getattr(getattr(self._manager, "protocol", None), "transport", None)
                        if transport is not None:
                            transport.abort()  # panoramisk's connection_lost dials again
            await asyncio.sleep(PING_INTERVAL_S)

    async def _send(self, action: dict[str, str], timeout: float = 5.0) -> dict[str, str]:
        self.fence.check()
        if not self.connected:
            raise ConnectionError("AMI is not connected")
        # as_list=False: panoramisk otherwise waits for a list that never comes after "Added ... to queue"
        reply = await asyncio.wait_for(self._manager.send_action(action, as_list=False), timeout=timeout)
        self.last_reply_at = time.monotonic()
        return dict(reply)

    async def set_member(self, seat: str, member: bool, paused: bool) -> None:
        interface = f"PJSIP/{seat}"
        if not member:
            await self._send({"Action": "QueueRemove", "Queue": self.queue, "Interface": interface})
            return
        reply = await self._send(
            {
                "Action": "QueueAdd",
                "Queue": self.queue,
                "Interface": interface,
                "MemberName": seat,
                "StateInterface": interface,
                "Paused": "true" if paused else "false",
            }
        )
        if reply.get("Response") != "Success":  # already a member: set the pause state instead
            await self._send(
                {
                    "Action": "QueuePause",
                    "Queue": self.queue,
                    "Interface": interface,
                    "Paused": "true" if paused else "false",
                    "Reason": "padang112",
                }
            )

    async def db_tree(self, family: str, key: str = "") -> dict[str, str]:
        """The switch's database entries of ``family`` (AMI DBGetTree): {key: value}, key without the family.
        With ``key``: only the entries whose key starts with it."""
        if not self.connected:
            raise ConnectionError("AMI is not connected")
        action = {"Action": "DBGetTree", "Family": family} | ({"Key": key} if key else {})
        messages = await asyncio.wait_for(self._manager.send_action(action, as_list=True), timeout=10)
        return parse_db_tree(messages, family)

    async def fallback_callers(self) -> int:
        """Callers waiting in the fallback queue now (AMI QueueStatus: no CLI rights needed); an AMI round trip."""
        if not self.connected:
            raise ConnectionError("AMI is not connected")
        messages = await asyncio.wait_for(
            self._manager.send_action({"Action": "QueueStatus", "Queue": self.queue}, as_list=True), timeout=5
        )
        for message in messages:
            if message.get("Event") == "QueueParams" and message.get("Queue") == self.queue:
                return int(message.get("Calls", 0))
        return 0


def parse_db_tree(messages: list[dict[str, str]], family: str) -> dict[str, str]:
    """``DBGetTreeResponse`` events (``Key: /family/key``, ``Val: value``) -> {key: value}."""
    prefix = f"/{family}/"
    out: dict[str, str] = {}
    for message in messages:
        key = str(message.get("Key", ""))
        if message.get("Event") == "DBGetTreeResponse" and key.startswith(prefix):
            out[key[len(prefix) :]] = str(message.get("Val", ""))
    return out
