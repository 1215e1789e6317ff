"""``/ws``: domain events pushed live to each signed-in user, according to role.

Supervisors and admins see every call and seat event. A call taker sees the events of the seat they are
signed in to, and gets a ``screen_pop`` the moment a call is offered to that seat, followed by a
``history`` message (earlier calls from that number in the last 30 days) once the database answers.
Agency operators get nothing here yet (their incident queue is its own feature).

Publishing never blocks the controller: each client has a bounded queue drained by its own task; a client
that falls that far behind is disconnected and reloads its state when it reconnects.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import WSMsgType, web

from padang112.accounts.users import UserRecord
from padang112.desk import Desk
from padang112.domain.events import CallTransition, DomainEvent, SeatTransition
from padang112.domain.prank import PRANK_DISPOSITIONS
from padang112.storage.repository import Repository
from padang112.views import event_view
from padang112.web import auth, live_guard
from padang112.web.audience import WATCH_ALL, Notice, notice_for
from padang112.wib import iso_or_none as wib

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
    def __init__(self, desk: Desk, repo: Repository) -> None:
        self.desk = desk
        self.repo = repo
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
        if isinstance(event, SeatTransition):
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
        call = self.desk.call(event.call_id)
        if call is None:
            return
        pop = {"type": "screen_pop", "call": call}
        targets = [c for c in self.clients if c.user.role == "call_taker" and self.seat_of(c.user) == event.seat]
        for client in targets:
            client.send(pop)
        if targets:
            self.spawn(self._send_history(call["id"], call["caller_number"], targets))

    async def _send_history(self, call_id: str, number: str, targets: list[Client]) -> None:
        now = datetime.now(UTC)
        earlier = [
            c for c in await self.repo.calls_from_number(number, now - timedelta(days=HISTORY_DAYS)) if c.id != call_id
        ]
        pranks = self.desk.pranks
        cleared = pranks.cleared_at(number)  # marks before a clearance ("Hapus tanda iseng") no longer count
        message = {
            "type": "history",
            "call_id": call_id,
            "prank_count": sum(
                1
                for c in earlier
                if c.disposition in PRANK_DISPOSITIONS and (cleared is None or c.received_at > cleared)
            ),
            "prank_score": round(pranks.score(number, now), 3),
            "prank_cleared_at": wib(cleared),
            "calls": [
                {
                    "id": c.id,
                    "received_at": wib(c.received_at),
                    "state": c.state,
                    "disposition": c.disposition,
                    "seat": c.seat,
                }
                for c in earlier[:20]
            ],
        }
        for client in targets:
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
