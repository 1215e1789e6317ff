"""The demo's simulated staff, signed in to the console like people: call takers at seats and agency operators.

A call taker takes a seat, and on each call it answers (the seat's simulated softphone picks up) talks a few
seconds, marks the disposition and, for a genuine emergency, fills the incident form (type, kecamatan,
kelurahan, place, victims) and sends it to the agencies ("Kirim ke OPD") — all through ``/api/v1``, as the
console does. Now and then, at a ready seat, it takes the most urgent call-back. An agency operator works its
queue: Terima after 5–40 s (sometimes after the deadline, so the escalation and the duty phone show), then
Dalam perjalanan, Di lokasi and Selesai with realistic delays.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp

from padang112.simulator.console_client import ConsoleError, ConsoleSession

Say = Callable[[str], None]

DISPOSITIONS = (("emergency", 45), ("information", 20), ("prank", 12), ("silent", 13), ("wrong_number", 10))
# Places the demo's callers report from (kecamatan, where, approximate coordinates): near the demo cameras.
PLACES = (
    ("Padang Selatan", "Jembatan Siti Nurbaya", -0.9611, 100.3598),
    ("Padang Timur", "Simpang Haru", -0.9490, 100.3735),
    ("Padang Barat", "Pasar Raya Padang", -0.9502, 100.3620),
    ("Padang Barat", "Jl. Samudera, Pantai Padang", -0.9340, 100.3520),
    ("Koto Tangah", "Jl. Adinegoro, Tabing", -0.8880, 100.3525),
    ("Padang Utara", "Jl. Khatib Sulaiman", -0.9220, 100.3630),
    ("Kuranji", "Jl. Raya Kuranji", -0.9050, 100.4020),
    ("Lubuk Begalung", "Jl. By Pass, Lubuk Begalung", -0.9730, 100.4000),
    ("Nanggalo", "Jl. Gajah Mada, Gunung Pangilun", -0.9080, 100.3610),
    ("Pauh", "Jl. Dr. Moh. Hatta, Pasar Baru", -0.9170, 100.4290),
)
COMMON_TYPES = {"fire": 3, "traffic_accident": 5, "medical": 5, "flood": 3, "fallen_tree": 2, "public_disorder": 1}
NEXT_STEP = {"acknowledged": "en_route", "en_route": "on_scene", "on_scene": "resolved"}
STEP_DELAY_S = {"en_route": (10.0, 30.0), "on_scene": (20.0, 60.0), "resolved": (40.0, 120.0)}
LATE_SHARE = 0.15  # operators who miss the acknowledge deadline
SIGN_IN_GAP_S = 1.0
_SIGN_INS = asyncio.Lock()


def weighted(rng: random.Random, table: Any) -> Any:
    items = list(table.items()) if isinstance(table, dict) else list(table)
    return rng.choices([k for k, _ in items], weights=[w for _, w in items])[0]


def incident_form(rng: random.Random, catalog: dict[str, Any], call: dict[str, Any]) -> dict[str, Any]:
    """What a call taker types for a genuine emergency on ``call``."""
    types = {t["code"]: t for t in catalog["types"]}
    code = weighted(rng, {c: w for c, w in COMMON_TYPES.items() if c in types} or dict.fromkeys(types, 1))
    kind = types[code]
    kecamatan, place, lat, lon = rng.choice(PLACES)
    kelurahan: list[str] = next((k["kelurahan"] for k in catalog["kecamatan"] if k["name"] == kecamatan), [])
    victims = weighted(rng, {0: 5, 1: 3, 2: 2, 3: 1})
    return {
        "type_code": code,
        "priority": kind["default_priority"],
        "kecamatan": kecamatan,
        "kelurahan": rng.choice(kelurahan) if kelurahan else None,
        "location_text": place,
        "latitude": round(lat + rng.uniform(-0.002, 0.002), 5),
        "longitude": round(lon + rng.uniform(-0.002, 0.002), 5),
        "victims": victims,
        "description": f"{kind['name_id']} di {place}" + (f", {victims} korban" if victims else ""),
        "callback_number": call.get("caller_number") or "",
        "call_id": call["id"],
    }


@dataclass
class Staff:
    """One signed-in person: keeps its session alive across console restarts."""

    session: ConsoleSession
    password: str
    say: Say
    rng: random.Random

    async def signed_in(self) -> None:
        """Sign in, one person at a time: the console allows 20 sign-in attempts a minute from one address."""
        while True:
            try:
                async with _SIGN_INS:
                    await self.session.sign_in(self.password)
                    await asyncio.sleep(SIGN_IN_GAP_S)
                return
            except (ConsoleError, aiohttp.ClientError, TimeoutError) as exc:
                self.say(f"{self.session.username}: belum bisa masuk ({exc}); mencoba lagi")
                await asyncio.sleep(3)

    async def safely(self, what: str, action: Any) -> Any:
        try:
            return await action
        except ConsoleError as exc:
            self.say(f"{self.session.username}: {what} ditolak ({exc})")
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.say(f"{self.session.username}: {what} gagal ({exc})")
        return None


class CallTakerBot(Staff):
    def __init__(self, session: ConsoleSession, password: str, seat: str, say: Say, rng: random.Random) -> None:
        super().__init__(session, password, say, rng)
        self.seat = seat
        self.state = "offline"
        self.calls: dict[str, dict[str, Any]] = {}
        self.catalog: dict[str, Any] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        try:
            while True:
                await self.signed_in()
                self.catalog = await self.session.get("/api/v1/incident-catalog")
                seat = await self.safely("ambil kursi", self.session.post("/api/v1/seat/sign-in", {"seat": self.seat}))
                self.state = (seat or {}).get("state", "offline")
                self.say(f"{self.session.username} duduk di {self.seat}")
                self._spawn(self._call_backs())
                with contextlib.suppress(aiohttp.ClientError, ConsoleError):
                    async for message in self.session.live():
                        self._on(message)
                await asyncio.sleep(2)  # the console went away: sign in again when it is back
        finally:
            for task in self.tasks:
                task.cancel()
            await asyncio.gather(*self.tasks, return_exceptions=True)

    def _on(self, m: dict[str, Any]) -> None:
        if m.get("type") == "screen_pop":
            self.calls[m["call"]["id"]] = m["call"]
        elif m.get("type") == "SeatTransition" and m.get("seat") == self.seat:
            self.state = m["to_state"]
        elif m.get("type") == "CallTransition" and m.get("to_state") == "connected" and m.get("call_id") in self.calls:
            self._spawn(self._handle(self.calls.pop(m["call_id"])))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _handle(self, call: dict[str, Any]) -> None:
        await asyncio.sleep(self.rng.uniform(2.0, 5.0))  # listening
        disposition = weighted(self.rng, DISPOSITIONS)
        path = f"/api/v1/calls/{call['id']}/disposition"
        await self.safely("disposisi", self.session.post(path, {"disposition": disposition}))
        if disposition != "emergency":
            self.say(f"{self.seat}: panggilan ditandai {disposition}")
            return
        form = incident_form(self.rng, self.catalog, call)
        made = await self.safely("Kirim ke OPD", self.session.post("/api/v1/incidents", form))
        if made:
            agencies = ", ".join(t["agency_name"] for t in made["tasks"])
            self.say(f"{self.seat}: kejadian {made['number']} ({form['type_code']}, {form['kecamatan']}) -> {agencies}")

    async def _call_backs(self) -> None:
        """Every 20–40 s, at a ready seat, sometimes take the call-back with the earliest deadline."""
        while True:
            await asyncio.sleep(self.rng.uniform(20.0, 40.0))
            if self.state != "available" or self.rng.random() < 0.5:
                continue
            listed = await self.safely("daftar panggilan balik", self.session.get("/api/v1/callbacks?limit=5"))
            item = next((i for i in (listed or {}).get("callbacks", []) if i["state"] == "open"), None)
            if item and await self.safely("telepon balik", self.session.post(f"/api/v1/callbacks/{item['id']}/call")):
                self.say(f"{self.seat}: menelepon balik penelepon yang menutup (butir {item['id']})")


class AgencyBot(Staff):
    def __init__(self, session: ConsoleSession, password: str, agency: str, say: Say, rng: random.Random) -> None:
        super().__init__(session, password, say, rng)
        self.agency = agency
        self.due: dict[int, float] = {}  # incident id -> when this operator does the next step

    async def run(self, poll_s: float = 3.0) -> None:
        await self.signed_in()
        loop = asyncio.get_running_loop()
        while True:
            queue = await self.safely("antrean", self.session.get("/api/v1/agency/queue?limit=50"))
            if queue is None:
                await self.signed_in()
            for incident in (queue or {}).get("incidents", []):
                task = next((t for t in incident["tasks"] if t["agency"] == self.agency), None)
                if task is not None:
                    await self._work(incident, task, loop.time())
            await asyncio.sleep(poll_s)

    async def _work(self, incident: dict[str, Any], task: dict[str, Any], now: float) -> None:
        state, key = task["state"], incident["id"]
        if key not in self.due:
            self.due[key] = now + self._first_delay(task)
            return
        if now < self.due[key]:
            return
        step = "acknowledged" if state == "dispatched" else NEXT_STEP.get(state)
        if step is None:
            return
        path = f"/api/v1/incidents/{key}/tasks/{self.agency}/{step}"
        if await self.safely(step, self.session.post(path, {})):
            self.say(f"{self.agency}: {incident['number']} -> {step}")
        nxt = NEXT_STEP.get(step)
        if nxt is None:
            self.due.pop(key, None)
        else:
            self.due[key] = now + self.rng.uniform(*STEP_DELAY_S[nxt])

    def _first_delay(self, task: dict[str, Any]) -> float:
        if task["state"] != "dispatched":
            return self.rng.uniform(*STEP_DELAY_S[NEXT_STEP.get(task["state"], "resolved")])
        if self.rng.random() < LATE_SHARE:  # busy: Terima only after the deadline (escalation, duty phone)
            left = (datetime.fromisoformat(task["ack_deadline"]) - datetime.now().astimezone()).total_seconds()
            return max(0.0, left) + self.rng.uniform(10.0, 30.0)
        return self.rng.uniform(5.0, 40.0)
