"""``/ws``: domain events pushed live to each signed-in user, according to role.

Supervisors and admins see every call and seat event. A call taker sees the events of the seat they are
signed in to, and gets a ``screen_pop`` the moment a call is offered to that seat: the call and its caller's
earlier calls of the last 30 days and prank score, as the ``offered`` event carries them.
Agency operators get nothing here yet (their incident queue is its own feature).

Publishing never blocks the controller: each client has a bounded queue drained by its own task; a client
that falls that far behind is disconnected and reloads its state when it reconnects.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from padang112.accounts.users import UserRecord
from padang112.desk import Desk
from padang112.domain.events import CallTransition, DomainEvent, SeatPhoneFailed, SeatTransition
from padang112.views import event_view
from padang112.web import auth, live_guard
from padang112.web.audience import WATCH_ALL, Notice, notice_for

log = logging.getLogger(__name__)

QUEUE_LIMIT = 500
HISTORY_DAYS = 30


@dataclass(eq=False)
class Client:
    user: UserRecord
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    closed: bool = False

    def send(self, message: dict[str, Any]) -> None:
        if self.closed:
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.closed = True  # its writer task ends the connection
            log.warning("live client %s fell behind; disconnecting it", self.user.username)


class Hub:
    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.clients: set[Client] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._unsubscribe = desk.subscribe(self.publish)

    def seat_of(self, user: UserRecord) -> str | None:
        return self.desk.seat_of(user.username)

    def _sees(self, client: Client, event: DomainEvent) -> bool:
        if client.user.role in WATCH_ALL:
            return True
        if client.user.role != "call_taker":
            return False
        seat = self.seat_of(client.user)
        if seat is None:
            return False
        if isinstance(event, SeatTransition | SeatPhoneFailed):  # a phone failure is told to its own call taker
            return event.seat == seat
        if isinstance(event, CallTransition):
            return event.seat == seat
        facts = self.desk.facts(event.call_id)
        return facts is not None and facts.seat == seat

    def publish(self, event: DomainEvent) -> None:
        message = event_view(event)
        for client in list(self.clients):
            if self._sees(client, event):
                client.send(message)
        if isinstance(event, CallTransition) and event.to_state == "offered" and event.seat:
            self._screen_pop(event)

    def notice(self, notice: Notice) -> None:
        """A notice from the runtime (incident, call-back, camera status...): to whom the audience table says."""
        for client in list(self.clients):
            if (shaped := notice_for(client.user, notice)) is not None:
                client.send(shaped)

    def _screen_pop(self, event: CallTransition) -> None:
        """The pop the offer carries (``data["screen_pop"]``: the call, its caller's earlier calls and prank score),
        as it is: no query, and the same screen a replay of the stored event gives."""
        pop = event.data.get("screen_pop")
        if pop is None:
            return
        message = {"type": "screen_pop", **pop}
        for client in list(self.clients):
            if client.user.role == "call_taker" and self.seat_of(client.user) == event.seat:
                client.send(message)

    def spawn(self, coro: Any) -> None:
        """Run a follow-up look-up (history, an incident record) beside the hub; cancelled when it closes."""
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        self._unsubscribe()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


HUB = web.AppKey("hub", Hub)


async def websocket(request: web.Request) -> web.WebSocketResponse:
    user = auth.current_user(request)
    assert user is not None  # the auth middleware lets no anonymous request through
    hub = request.app[HUB]
    if not live_guard.origin_allowed(request):
        raise web.HTTPForbidden(text="cross-origin WebSocket refused")
    ws = web.WebSocketResponse(heartbeat=20)
    await ws.prepare(request)
    client = Client(user)
    hub.clients.add(client)
    client.send(
        {
            "type": "hello",
            "user": user.username,
            "role": user.role,
            "seat": hub.seat_of(user),
            "room": hub.desk.room() if user.role in WATCH_ALL else None,
        }
    )
    writer = asyncio.create_task(_pump(ws, client), name=f"ws:{user.username}")
    try:
        async with live_guard.guarded(request, ws):  # closed when its session ends
            async for msg in ws:
                if msg.type == WSMsgType.TEXT and msg.data == "ping":
                    client.send({"type": "pong"})
                elif msg.type == WSMsgType.ERROR:
                    break
    finally:
        hub.clients.discard(client)
        writer.cancel()
        await asyncio.gather(writer, return_exceptions=True)
    return ws


async def _pump(ws: web.WebSocketResponse, client: Client) -> None:
    while not client.closed or not client.queue.empty():
        message = await client.queue.get()
        await ws.send_str(json.dumps(message, ensure_ascii=False))
        if client.closed and client.queue.empty():
            break
    await ws.close()
