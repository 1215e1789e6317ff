"""Another WebSocket takes the ARI app (a stale connection attempt completing late, a stray client): Asterisk
gives the app's events to its newest socket and tells the one it left (ApplicationReplaced). The controller turns
/readyz red, writes no heartbeat (new calls go to the fallback), reconnects at once and so takes the app back
(counted in padang112_ari_app_lost_total); calls reach it again. Should that notice be lost, its echo (a user
event to itself every second) stops coming back and it knows within seconds that it is deaf."""

from __future__ import annotations

import time

import aiohttp
import pytest

from padang112.simulator import fleet
from tests.chaos.watch import readyz_sampler
from tests.fixtures.controller import eventually
from tests.integration.test_asterisk_taskprocessors import scrape
from tests.integration.test_call_path import call_of

pytestmark = pytest.mark.live


async def test_a_controller_whose_app_is_taken_by_another_socket_notices_and_takes_it_back(
    supervised, repo, live_settings, simulator, ari_credentials
):
    assert await supervised.ready()
    url = str(ari_credentials["url"]).replace("http://", "ws://") + "/events"
    auth = aiohttp.encode_basic_auth(str(ari_credentials["username"]), str(ari_credentials["password"]))
    async with aiohttp.ClientSession(headers={"Authorization": auth}) as http:
        readyz = readyz_sampler(supervised, interval_s=0.05)
        thief = await http.ws_connect(url, params={"app": str(ari_credentials["app"]), "subscribeAll": "false"})
        stolen = time.monotonic()
        try:

            async def taken_back() -> bool:
                lost = (await scrape(supervised.url.removeprefix("http://")))[0]["padang112_ari_app_lost"]
                return lost["replaced"] == 1 and await supervised.ready()

            await eventually(taken_back, 8, 0.05, what="the theft counted and /readyz green: the app taken back")
            back = time.monotonic() - stolen
        finally:
            await thief.close()
            await readyz.stop()
    red = readyz.first_after(stolen, lambda status: status != 200)

    citizen = await simulator("citizen-stolen")
    number = "+6281700007001"
    await citizen.call(
        "s1", fleet.target_uri(live_settings), bind=fleet.carrier_address(live_settings, "telkomsel"), caller=number
    )
    call = await eventually(lambda: call_of(repo, number), 10, what="the call stored")
    assert call.via == "controller", call
    await citizen.hangup("s1")
    noticed = f"{red - stolen:.2f} s" if red is not None else "too briefly for a 50 ms sampler"
    print(f"\n[chaos app taken] /readyz red {noticed} after the theft, green again {back:.2f} s after it")
    assert back <= 2.0
    assert len(supervised.starts) == 1  # it took the app back by itself: no restart
