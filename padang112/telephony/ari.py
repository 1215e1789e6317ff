"""ARI adapter: a small REST client and a WebSocket event listener (aiohttp).

The listener does nothing but hand each event to a callback that must not block: Asterisk drops a
WebSocket reader slower than its write timeout and never replays what it dropped.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from padang112.cluster.fence import UNFENCED, Fence, Fenced
from padang112.telephony.reconnect import Reconnect

log = logging.getLogger(__name__)

PING_S = 2.0  # WebSocket ping after this long without a frame; the pong must come within half of it
CONNECT_TIMEOUT_S = 1.0  # longer than reconnect.MAX_S: the next attempt after a timeout starts at once
ECHO_S = 1.0  # a user event to ourselves this often: proof that the app's events still reach this WebSocket
DEAF_S = 3.0  # no frame for this long on an open WebSocket (a new one: since it opened): deaf
# Asterisk hands a user event to the app's socket before it answers the POST: a new connection whose first echo was
# answered and which heard nothing this long after the answer gets nothing of the app (another socket has it)
FIRST_ECHO_S = 0.5
ECHO_ANSWERED, ECHO_NO_APP = "answered", "no app"  # Asterisk's answers to an echo ("" when none came)
ECHO_EVENT = "p112-echo"
APP_REPLACED_EVENT = "ApplicationReplaced"  # what Asterisk tells the socket whose app another socket just took
SUBSCRIBE_BATCH = 100  # Asterisk refuses 128 or more event sources in one subscription request
# Connections to ARI's HTTP server (asterisk/http.conf.j2 sessionlimit, 100: beyond it Asterisk refuses new ones):
# the calls' requests share a pool of REQUEST_CONNECTIONS; the WebSocket, its echo and the heartbeat have their own
# LIVENESS_CONNECTIONS, so proof of life never waits behind call requests. With one pool of 100 (aiohttp's
# default), 1,000 waiting callers' requests on a slow switch took every connection: the heartbeat went stale, every
# caller was moved to the fallback queue, and the WebSocket could not reconnect ("HTTP session count exceeded").
REQUEST_CONNECTIONS = 64
LIVENESS_CONNECTIONS = 4


class AriError(Exception):
    def __init__(self, method: str, path: str, status: int, text: str) -> None:
        super().__init__(f"ARI {method} {path} -> {status}: {text[:200]}")
        self.status = status


class AriClient:
    def __init__(self, base_url: str, user: str, password: str, app: str, fence: Fence = UNFENCED) -> None:
        """``fence`` is checked before every request and connection: every ARI request of the controller (the
        effect runner's, the heartbeat's, the lines', the echo) passes here, so a controller that is no longer the
        leader sends none (``padang112.cluster.fence.Fenced`` is raised instead)."""
        self.base_url = base_url.rstrip("/")
        self.app = app
        self.fence = fence
        self._auth = aiohttp.BasicAuth(user, password)
        self._session: aiohttp.ClientSession | None = None
        self._liveness: aiohttp.ClientSession | None = None  # the WebSocket, the echo, the heartbeat

    async def open(self) -> None:
        timeout = aiohttp.ClientTimeout(total=10)
        self._session = aiohttp.ClientSession(
            auth=self._auth, timeout=timeout, connector=aiohttp.TCPConnector(limit=REQUEST_CONNECTIONS)
        )
        self._liveness = aiohttp.ClientSession(
            auth=self._auth, timeout=timeout, connector=aiohttp.TCPConnector(limit=LIVENESS_CONNECTIONS)
        )

    async def close(self) -> None:
        for session in (self._session, self._liveness):
            if session is not None:
                await session.close()
        self._session = self._liveness = None

    async def request(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        liveness: bool = False,
    ) -> Any:
        """``liveness``: on the connections kept for proof of life (the echo, the heartbeat)."""
        session = self._liveness if liveness else self._session
        assert session is not None, "AriClient.open() first"
        self.fence.check()
        clean = {k: str(v) for k, v in (params or {}).items() if v is not None}
        async with session.request(method, f"{self.base_url}/ari{path}", params=clean, json=body) as resp:
            text = await resp.text()
            if resp.status >= 300:
                raise AriError(method, path, resp.status, text)
            return json.loads(text) if text else None

    async def get(self, path: str, **params: Any) -> Any:
        return await self.request("GET", path, params)

    async def post(self, path: str, body: dict[str, Any] | None = None, **params: Any) -> Any:
        return await self.request("POST", path, params, body)

    async def post_liveness(self, path: str, **params: Any) -> Any:
        """A POST that never waits behind the calls' requests (the echo, the heartbeat)."""
        return await self.request("POST", path, params, liveness=True)

    async def delete(self, path: str, missing_ok: bool = True, **params: Any) -> Any:
        try:
            return await self.request("DELETE", path, params)
        except AriError as exc:
            if missing_ok and exc.status == 404:
                return None
            raise

    def websocket_url(self) -> str:
        return self.base_url.replace("http", "ws", 1) + "/ari/events"


async def subscribe(ari: AriClient, app: str, sources: list[str]) -> None:
    """Subscribe ``app`` to ``sources`` in batches: a room has hundreds of seats and duty phones."""
    for start in range(0, len(sources), SUBSCRIBE_BATCH):
        batch = sources[start : start + SUBSCRIBE_BATCH]
        await ari.post(f"/applications/{app}/subscription", eventSource=",".join(batch))


CLOSED_TYPES = (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)


class AppTaken(Exception):
    """Another WebSocket took the app (Asterisk said so): this connection will hear nothing more."""


class AriListener:
    """Keeps one WebSocket to ARI open, reconnecting with backoff (``reconnect.py``).

    ``on_connect`` runs after each (re)connection once the connection has heard its first frame, before the other
    events are read, so the caller can resync from the switch instead of assuming an empty one.

    An open socket is not proof that events flow: Asterisk gives an app's events to its newest WebSocket, so a
    stale connection attempt completing later (a link that froze and came back) takes them. Asterisk says so to
    the socket it left (``ApplicationReplaced``): the listener reconnects at once, which takes the app back
    (backing off if it is taken again and again). In case that notice is lost too, every ``ECHO_S`` the listener
    sends the app a user event; with no frame for ``DEAF_S`` it is deaf (``hearing`` is False, so no heartbeat is
    written and ``/readyz`` is red) and reconnects. A new connection sends its first echo at once and waits for a
    first frame before the resync: none within ``FIRST_ECHO_S`` of Asterisk's answer to that echo (at once if
    Asterisk answers that the app has no socket; ``DEAF_S`` after the opening if no answer comes) and it is deaf,
    without a resync for nothing. That is what the thaw of a frozen link brings: Asterisk then completes the
    attempts given up during the freeze, one of them takes the app, and closing it leaves the app without a socket
    and this connection without a notice (found only by the echo's 1 s tick, 1.5 s after the resync: ready 2.3-3.1 s
    after the thaw). ``app_lost`` counts both ways of losing the app, for the ops team.
    """

    def __init__(
        self,
        client: AriClient,
        on_event: Callable[[dict[str, Any]], None],
        on_connect: Callable[[], Awaitable[None]],
        on_disconnect: Callable[[], None],
    ) -> None:
        self.client = client
        self.on_event = on_event
        self.on_connect = on_connect
        self.on_disconnect = on_disconnect
        self.connected = False
        self._heard_at = 0.0  # monotonic time of the last frame from ARI
        self._heard = False  # a frame arrived on this connection (its first echo at the latest)
        self._reading = False  # the resync after a (re)connection is over and frames are read
        self.app_lost = {"replaced": 0, "deaf": 0}
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._opened_at: float | None = None  # monotonic time this try's connection opened (None: it did not)
        self._dropping: asyncio.Task[bool] | None = None
        self.reconnect = Reconnect()

    @property
    def hearing(self) -> bool:
        """Connected, a frame arrived on this connection, and one within ``DEAF_S`` (the echo guarantees one a
        second). A connection that has heard nothing yet is not hearing: the app's events may be going to a stale
        connection attempt that completed after it (a link that froze and came back), and until the deafness is
        noticed new callers must go to the fallback queue, not into an app nobody listens to (the frozen-link
        chaos test: /readyz green 0.2 s after the thaw, the caller dialled then went to the fallback queue)."""
        return self.connected and self._heard and time.monotonic() - self._heard_at <= DEAF_S

    async def run(self) -> None:
        fenced = ""
        while True:
            started = time.monotonic()
            self._opened_at = None
            failure = ""
            try:
                await self._session_once()
                fenced = ""
            except asyncio.CancelledError:
                raise
            except AppTaken:
                failure = "app taken by another WebSocket; taking it back"
            except Fenced as exc:  # a suspended leader: it connects again once it may act (cluster/leadership.py)
                if str(exc).split(":")[0] != fenced:
                    log.warning("ARI not connected: %s", exc)
                fenced = str(exc).split(":")[0]
            except (TimeoutError, aiohttp.ClientError, OSError, AriError) as exc:
                failure = f"connection failed: {type(exc).__name__} {exc}"
            if self.connected:
                self.connected = False
                self.on_disconnect()
            now = time.monotonic()
            if self._opened_at is None:
                wait = self.reconnect.failed(now - started)
            else:
                wait = self.reconnect.lost(now - self._opened_at)
            if failure:
                log.warning("ARI %s (again in %.1f s)", failure, wait)
            await asyncio.sleep(wait)

    async def _session_once(self) -> None:
        assert self.client._liveness is not None
        self.client.fence.check()  # a fenced ex-leader never takes the app's WebSocket back
        params = {"app": self.client.app, "subscribeAll": "false"}
        # A link that dies silently (packets dropped, no close) is noticed by the ping: no pong within
        # PING_S / 2 closes it. A connection attempt into a dead link gives up after CONNECT_TIMEOUT_S.
        connecting = self.client._liveness.ws_connect(self.client.websocket_url(), params=params, heartbeat=PING_S)
        async with await asyncio.wait_for(connecting, CONNECT_TIMEOUT_S) as ws:
            self._ws = ws
            self.connected = True
            self._opened_at = self._heard_at = time.monotonic()
            self._heard = False
            self._reading = False
            log.info("ARI connected (app %s)", self.client.app)
            early = await self._first_frames(ws)
            if early is not None:
                echo = asyncio.create_task(self._echo(ws), name="ari-echo")
                try:
                    await self.on_connect()
                    for event in early:
                        self.on_event(event)
                    await self._read(ws)
                finally:
                    echo.cancel()
        log.warning("ARI WebSocket closed")

    def drop(self) -> None:
        """Close the WebSocket now (if one is open): the listener connects again when it can, and the controller
        reconciles then."""
        if self._ws is not None and not self._ws.closed:
            self._dropping = asyncio.get_running_loop().create_task(self._ws.close(), name="ari-drop")

    async def _send_echo(self) -> str:
        """One echo: ``ECHO_ANSWERED`` (the event is on the app's socket, ours or not), ``ECHO_NO_APP`` (Asterisk
        has no such app: no socket holds it), or "" (no answer: timed out, the link, a fence)."""
        try:
            await asyncio.wait_for(
                self.client.post_liveness(f"/events/user/{ECHO_EVENT}", application=self.client.app), ECHO_S
            )
        except AriError as exc:
            log.debug("echo refused: %s", exc)
            return ECHO_NO_APP if exc.status == 404 else ""
        except (TimeoutError, aiohttp.ClientError, OSError, Fenced) as exc:
            log.debug("echo not sent: %s", exc)
            return ""
        return ECHO_ANSWERED

    async def _first_frames(self, ws: aiohttp.ClientWebSocketResponse) -> list[dict[str, Any]] | None:
        """Send the first echo and read until a first frame: the events read meanwhile (handed on after the
        resync), or None when the WebSocket closed or is deaf (then closed here)."""
        held: list[dict[str, Any]] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DEAF_S
        echo = asyncio.create_task(self._send_echo(), name="ari-first-echo")
        try:
            async with asyncio.timeout_at(deadline) as limit:

                def answered(sent: asyncio.Task[str]) -> None:
                    if sent.cancelled() or limit.expired() or not sent.result():
                        return
                    grace = FIRST_ECHO_S if sent.result() == ECHO_ANSWERED else 0.0
                    limit.reschedule(min(deadline, loop.time() + grace))

                echo.add_done_callback(answered)
                try:
                    while not self._heard:
                        msg = await ws.receive()
                        if msg.type in CLOSED_TYPES:
                            return None
                        event = self._frame(msg)
                        if event is not None:
                            held.append(event)
                finally:
                    echo.remove_done_callback(answered)
        except TimeoutError:
            log.warning(
                "ARI deaf: no frame %.1f s after connecting (its echo: %s); reconnecting",
                DEAF_S - (deadline - loop.time()),
                (echo.done() and not echo.cancelled() and echo.result()) or "no answer",
            )
            self.app_lost["deaf"] += 1
            await ws.close()
            return None
        return held

    async def _echo(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """An echo every ``ECHO_S`` after the first (sent by ``_first_frames``). A leader that may no longer act
        (its lease could not be renewed) closes the WebSocket: Asterisk then finds the app inactive and the
        dialplan's fallback takes new callers at once; connecting again later brings a reconcile."""
        while not ws.closed:
            slept = time.monotonic()
            await asyncio.sleep(ECHO_S)
            if time.monotonic() - slept > ECHO_S + 1.0:  # this process was stopped: its silence, not the app's
                self._heard_at = time.monotonic()
            silent = time.monotonic() - self._heard_at
            if self._reading and silent > DEAF_S:
                log.warning("ARI deaf: no event for %.1f s on an open WebSocket; reconnecting", silent)
                self.app_lost["deaf"] += 1
                await ws.close()
                return
            if not self.client.fence.valid():
                log.warning("ARI: pengendali tidak boleh bertindak, WebSocket ditutup / may not act: WebSocket closed")
                await ws.close()
                return
            await self._send_echo()

    def _frame(self, msg: aiohttp.WSMessage) -> dict[str, Any] | None:
        """A frame heard: the app's event it carries (None for our echo and what is not an event)."""
        self._heard_at = time.monotonic()
        self._heard = True
        if msg.type != aiohttp.WSMsgType.TEXT:
            return None
        try:
            event: dict[str, Any] = json.loads(msg.data)
        except ValueError:
            log.error("ARI sent a frame that is not JSON: %r", msg.data[:200])
            return None
        if event.get("type") == APP_REPLACED_EVENT:
            self._heard = False  # not hearing from now on: no heartbeat, /readyz red until it is back
            self.app_lost["replaced"] += 1
            raise AppTaken
        return None if event.get("eventname") == ECHO_EVENT else event

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._heard_at = time.monotonic()  # the resync (on_connect) is over: from now on a silence means deafness
        self._reading = True
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.ERROR:
                break
            event = self._frame(msg)
            if event is not None:
                self.on_event(event)
