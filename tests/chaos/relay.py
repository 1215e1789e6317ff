"""A TCP relay the chaos tests put between the controller and Asterisk's ARI/HTTP port, and can freeze.

Frozen, it stops forwarding in both directions without closing anything: bytes stay in the kernel's buffers,
no FIN or RST reaches either side, and a new connection is accepted but carries nothing — what a link that
silently drops packets looks like to both ends (no iptables needed). Thawed, it forwards what was held, in order;
a side that closed meanwhile is only noticed then, as after a real outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import time


class FreezableRelay:
    def __init__(self, target_host: str, target_port: int, host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.host = host
        self.port = 0
        self.frozen_at: float | None = None  # monotonic
        self.requests: list[float] = []  # monotonic times of the HTTP requests (ARI REST, WebSocket upgrade) relayed
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def freeze(self) -> float:
        self._flowing.clear()
        self.frozen_at = time.monotonic()
        return self.frozen_at

    def thaw(self) -> float:
        self._flowing.set()
        self.frozen_at = None
        return time.monotonic()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        await self._flowing.wait()  # a connection made while frozen: accepted, but nothing gets through
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers.add(up_writer)
        pumps = [
            asyncio.create_task(self._pump(reader, up_writer, upstream=True)),
            asyncio.create_task(self._pump(up_reader, writer)),
        ]
        self._tasks.update(pumps)
        await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        for task in pumps:
            task.cancel()
            self._tasks.discard(task)
        for w in (writer, up_writer):
            w.close()
            self._writers.discard(w)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, upstream: bool = False) -> None:
        while True:
            await self._flowing.wait()
            data = await reader.read(65536)
            if not data:
                return
            if upstream:  # request lines end so; the client's WebSocket frames are masked and never match
                self.requests.extend([time.monotonic()] * data.count(b" HTTP/1.1\r\n"))
            await self._flowing.wait()  # frozen while this chunk was read: hold it until the thaw
            writer.write(data)
            await writer.drain()

    async def close(self) -> None:
        self._flowing.set()
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for writer in list(self._writers):
            with contextlib.suppress(Exception):
                writer.close()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
