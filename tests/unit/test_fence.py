"""The fence at the edges: a controller that may no longer act sends no ARI request, opens no ARI WebSocket and
sends no AMI action (pure logic: a fence that refuses; the lease itself is tested on PostgreSQL in
test_leadership.py, the whole on two live processes in tests/chaos/test_standby_takeover.py)."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncSession

from padang112.cluster.fence import UNFENCED, Fenced
from padang112.telephony.ami import AmiLink
from padang112.telephony.ari import AriClient, AriListener
from padang112.web.standby import create_standby_app


class Refusing:
    """A fence whose lease has lapsed."""

    def valid(self) -> bool:
        return False

    def check(self) -> None:
        raise Fenced("not the leader: test")

    async def check_stored(self, session: AsyncSession) -> None:
        raise Fenced("not the leader: test")


async def _counting_switch() -> tuple[TestServer, list[str]]:
    seen: list[str] = []

    async def any_request(request: web.Request) -> web.Response:
        seen.append(f"{request.method} {request.path}")
        return web.json_response({})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", any_request)
    server = TestServer(app)
    await server.start_server()
    return server, seen


async def test_a_fenced_ari_client_sends_no_request_and_opens_no_websocket() -> None:
    server, seen = await _counting_switch()
    base = str(server.make_url("/")).rstrip("/")
    fenced = AriClient(base, "u", "p", "padang112", Refusing())
    free = AriClient(base, "u", "p", "padang112", UNFENCED)
    await fenced.open()
    await free.open()
    try:
        with pytest.raises(Fenced):
            await fenced.post("/channels/c1/answer")
        with pytest.raises(Fenced):
            await AriListener(fenced, lambda e: None, _nothing, lambda: None)._session_once()
        assert seen == []
        await free.post("/channels/c1/answer")
        assert seen == ["POST /ari/channels/c1/answer"]
    finally:
        await fenced.close()
        await free.close()
        await server.close()


async def _nothing() -> None:
    return None


async def test_a_fenced_ami_link_sends_no_action() -> None:
    link = AmiLink("127.0.0.1", 9, "u", "s", "fallback", Refusing())
    try:
        with pytest.raises(Fenced):
            await link.set_member("seat01", True, False)
    finally:
        link.close()


async def test_the_standby_console_is_up_and_not_ready() -> None:
    async with TestClient(TestServer(create_standby_app())) as client:
        assert (await client.get("/healthz")).status == 200
        ready = await client.get("/readyz")
        body = await ready.json()
        assert ready.status == 503 and body["role"] == "standby" and "siaga" in body["reason"]
