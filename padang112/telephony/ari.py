"""ARI adapter: a small REST client and a WebSocket event listener (aiohttp).

The listener does nothing but hand each event to a callback that must not block: Asterisk drops a
WebSocket reader slower than its write timeout and never replays what it dropped.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

PING_S = 2.0  # WebSocket ping after this long without a frame; the pong must come within half of it
CONNECT_TIMEOUT_S = 1.0
MAX_BACKOFF_S = 0.5  # /readyz must turn green within 2 s of the link coming back
SUBSCRIBE_BATCH = 100  # Asterisk refuses 128 or more event sources in one subscription request


class AriError(Exception):
    def __init__(self, method: str, path: str, status: int, text: str) -> None:
        super().__init__(f"ARI {method} {path} -> {status}: {text[:200]}")
        self.status = status


class AriClient:
    def __init__(self, base_url: str, user: str, password: str, app: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.app = app
        self._auth = aiohttp.BasicAuth(user, password)
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        timeout = aiohttp.ClientTimeout(total=10)
        self._session = aiohttp.ClientSession(auth=self._auth, timeout=timeout)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(
        self, method: str, path: str, params: dict[str, Any] | None = None, body: dict[str, Any] | None = None
    ) -> Any:
        assert self._session is not None, "AriClient.open() first"
        clean = {k: str(v) for k, v in (params or {}).items() if v is not None}
        async with self._session.request(method, f"{self.base_url}/ari{path}", params=clean, json=body) as resp:
            text = await resp.text()
            if resp.status >= 300:
                raise AriError(method, path, resp.status, text)
            return json.loads(text) if text else None

    async def get(self, path: str, **params: Any) -> Any:
        return await self.request("GET", path, params)

    async def post(self, path: str, body: dict[str, Any] | None = None, **params: Any) -> Any:
        return await self.request("POST", path, params, body)

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


class AriListener:
    """Keeps one WebSocket to ARI open, reconnecting with backoff.

    ``on_connect`` runs after each (re)connection, before events are read, so the caller can resync
    from the switch instead of assuming an empty one.
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

    async def run(self) -> None:
        backoff = 0.2
        while True:
            try:
                await self._session_once()
                backoff = 0.2
            except asyncio.CancelledError:
                raise
            except (TimeoutError, aiohttp.ClientError, OSError, AriError) as exc:
                log.warning("ARI connection failed: %s (retry in %.1f s)", exc, backoff)
            if self.connected:
                self.connected = False
                self.on_disconnect()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)

    async def _session_once(self) -> None:
        assert self.client._session is not None
        params = {"app": self.client.app, "subscribeAll": "false"}
        # A link that dies silently (packets dropped, no close) is noticed by the ping: no pong within
        # PING_S / 2 closes it. A connection attempt into a dead link gives up after CONNECT_TIMEOUT_S.
        connecting = self.client._session.ws_connect(self.client.websocket_url(), params=params, heartbeat=PING_S)
        async with await asyncio.wait_for(connecting, CONNECT_TIMEOUT_S) as ws:
            self.connected = True
            log.info("ARI connected (app %s)", self.client.app)
            await self.on_connect()
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    try:
                        event = json.loads(msg.data)
                    except ValueError:
                        log.error("ARI sent a frame that is not JSON: %r", msg.data[:200])
                        continue
                    self.on_event(event)
                elif msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                    break
        log.warning("ARI WebSocket closed")
