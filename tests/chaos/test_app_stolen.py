"""Another WebSocket takes the ARI app (a stale connection attempt completing late, a stray client): Asterisk
gives the app's events to its newest socket, so the controller's open socket goes quiet. Its echo (a user event
to itself every second) stops coming back: it knows within seconds that it is deaf, turns /readyz red, writes no
heartbeat (new calls go to the fallback), reconnects and so takes the app back; calls reach it again."""

from __future__ import annotations

import time

import aiohttp
import pytest

from padang112.simulator import fleet
from tests.fixtures.controller import eventually
from tests.integration.test_call_path import call_of

pytestmark = pytest.mark.live


async def test_a_controller_whose_app_is_taken_by_another_socket_notices_and_takes_it_back(
    supervised, repo, live_settings, simulator, ari_credentials
):
    assert await supervised.ready()
    url = str(ari_credentials["url"]).replace("http://", "ws://") + "/events"
    auth = aiohttp.encode_basic_auth(str(ari_credentials["username"]), str(ari_credentials["password"]))
    async with aiohttp.ClientSession(headers={"Authorization": auth}) as http:
        thief = await http.ws_connect(url, params={"app": str(ari_credentials["app"]), "subscribeAll": "false"})
        stolen = time.monotonic()
        try:

            async def red() -> bool:
                return not await supervised.ready()

            await eventually(red, 8, 0.1, what="/readyz red once the controller hears nothing")
            noticed = time.monotonic() - stolen

            async def green() -> bool:
                return await supervised.ready()

            await eventually(green, 8, 0.1, what="/readyz green again: the controller took its app back")
            back = time.monotonic() - stolen
        finally:
            await thief.close()

    citizen = await simulator("citizen-stolen")
    number = "+6281700007001"
    await citizen.call(
        "s1", fleet.target_uri(live_settings), bind=fleet.carrier_address(live_settings, "telkomsel"), caller=number
    )
    call = await eventually(lambda: call_of(repo, number), 10, what="the call stored")
    assert call.via == "controller", call
    await citizen.hangup("s1")
    print(f"\n[chaos app taken] /readyz red {noticed:.2f} s after the theft, green again {back:.2f} s after it")
    assert noticed <= 5.0
    assert len(supervised.starts) == 1  # it took the app back by itself: no restart
