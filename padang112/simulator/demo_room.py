"""The living demo room (``padang112 simulate --room``): simulated staff at the console and demo cameras.

Started beside the simulated softphones and citizens (``demo.py``): it creates its staff accounts as
``padang112 user add|passwd`` does (fresh passwords each start, never printed), signs in simulated call takers
at most seats (the last ``--free-seats`` stay free for a person who signs in as a call taker), one operator per
agency, and an admin who registers the demo cameras (``camera_feeds.py``: local ffmpeg streams placed at real
Padang places) so the wall, the map and "Kamera terdekat" show video. Everything goes through the console's HTTP
API.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from padang112 import config
from padang112.incidents.model import AGENCIES
from padang112.simulator.camera_feeds import CameraFeeds, DemoCamera
from padang112.simulator.console_client import ConsoleSession
from padang112.simulator.demo_staff import AgencyBot, CallTakerBot

ADMIN = "demo-admin"


def staff_name(who: str) -> str:
    """``demo-seat01``, ``demo-bpbd``: the simulated people's accounts."""
    return f"demo-{who}"


async def ensure_accounts(settings: config.Settings, wanted: list[tuple[str, str, str | None]]) -> dict[str, str]:
    """Create each account (or give it a fresh password), as ``padang112 user add`` / ``passwd`` do: one
    database connection for all of them, fast enough for a demo that must be alive within two minutes."""
    from padang112.accounts.users import AccountError, UserStore
    from padang112.storage.db import create_engine

    engine = create_engine(settings.db_url)
    try:
        store, made = UserStore(engine), {}
        for username, role, agency in wanted:
            password = secrets.token_urlsafe(16)
            try:
                await store.create(username, role=role, password=password, agency=agency, by="demo")
            except AccountError:
                await store.set_password(username, password, by="demo")
            made[username] = password
        return made
    finally:
        await engine.dispose()


class DemoRoom:
    def __init__(
        self, settings: config.Settings, seats: list[str], say: Callable[[str], None], free_seats: int = 2
    ) -> None:
        self.settings = settings
        self.say = say
        self.bot_seats = seats[: max(0, len(seats) - free_seats)]
        self.base_url = f"http://{settings.web.host}:{settings.web.port}"
        self.sessions: list[ConsoleSession] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.feeds = CameraFeeds(Path(tempfile.mkdtemp(prefix="padang112-demo-cameras-")))
        self.rng = random.Random()

    async def start(self) -> None:
        accounts = await self._accounts()
        await self.feeds.start()
        admin = self._session(ADMIN)
        await admin.sign_in(accounts[ADMIN])
        await self.register_cameras(admin)
        for seat in self.bot_seats:
            bot = CallTakerBot(self._session(staff_name(seat)), accounts[staff_name(seat)], seat, self.say, self.rng)
            self._run(bot.run(), f"demo-{seat}")
        for agency in AGENCIES:
            operator = AgencyBot(
                self._session(staff_name(agency)), accounts[staff_name(agency)], agency, self.say, self.rng
            )
            self._run(operator.run(), f"demo-{agency}")
        self.say(
            f"ruang demo: {len(self.bot_seats)} petugas simulasi, {len(AGENCIES)} operator OPD, "
            f"{len(list(self.feeds.cameras))} kamera demo"
        )

    async def _accounts(self) -> dict[str, str]:
        wanted: list[tuple[str, str, str | None]] = [(ADMIN, "admin", None)]
        wanted += [(staff_name(seat), "call_taker", None) for seat in self.bot_seats]
        wanted += [(staff_name(agency), "agency", agency) for agency in AGENCIES]
        return await ensure_accounts(self.settings, wanted)

    async def register_cameras(self, admin: ConsoleSession) -> list[dict[str, Any]]:
        """Each demo camera registered once by name; at later starts its URL (new port, new password) updated."""
        known = {c["name"]: c for c in (await admin.get("/api/v1/cameras"))["cameras"]}
        done = []
        for camera in self.feeds.cameras:
            body = self._camera_body(camera)
            if camera.name in known:
                done.append(await admin.request("PATCH", f"/api/v1/cameras/{known[camera.name]['id']}", body))
            else:
                done.append(await admin.post("/api/v1/cameras", body))
        return done

    def _camera_body(self, camera: DemoCamera) -> dict[str, Any]:
        return {
            "name": camera.name,
            "kecamatan": camera.kecamatan,
            "location_text": camera.location,
            "latitude": camera.lat,
            "longitude": camera.lon,
            "kind": camera.kind,
            "stream_type": camera.stream_type,
            "stream_url": self.feeds.url(camera),
            "enabled": True,
        }

    def _session(self, username: str) -> ConsoleSession:
        session = ConsoleSession(self.base_url, username)
        self.sessions.append(session)
        return session

    def _run(self, coro: Any, name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        task.add_done_callback(self._ended)
        self.tasks.append(task)

    def _ended(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self.say(f"{task.get_name()} berhenti: {task.exception()!r}")

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await asyncio.gather(*(s.close() for s in self.sessions), return_exceptions=True)
        await self.feeds.stop()
