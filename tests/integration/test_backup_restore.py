"""Backup during a call surge on the real switch, restore onto a fresh state dir, a second console on it.

Calls answered and recorded, an incident, a supervisor account; then callers keep arriving while
``padang112 backup`` runs. The backup is restored with ``padang112 restore`` into an empty state directory and a
second ``padang112 serve`` is started on it (its ARI/AMI ports point nowhere: it must not take the live
switch's calls). Through that second console the history is the same, the recordings play and are verified.
A copy of the backup with one changed byte in a recording is refused and restores nothing.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from padang112 import config
from padang112.incidents import routing
from padang112.incidents.model import IncidentDraft
from padang112.incidents.store import IncidentStore
from padang112.simulator import fleet
from padang112.storage.db import create_engine
from tests.fixtures.controller import eventually, free_port, stop_process
from tests.integration.test_call_path import call_of
from tests.integration.test_console_page import add_account, sign_in
from tests.slot import SLOT

pytestmark = pytest.mark.live

PADANG112 = [sys.executable, "-m", "padang112.cli"]
DEAD_PORT = 9  # discard: nothing listens there on loopback


def cli(settings: config.Settings, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PADANG112_CONFIG=str(settings.config_path))
    return subprocess.run([*PADANG112, *args], env=env, capture_output=True, text=True, timeout=timeout)


def restored_settings(root: Path, live: config.Settings) -> config.Settings:
    state = root / "state"
    toml = root / "padang112.toml"
    root.mkdir(parents=True)
    toml.write_text(
        f'state_dir = "{state}"\nrecordings_dir = "{root / "recordings"}"\n'
        f'[asterisk]\nhttp_port = {DEAD_PORT}\nami_port = {DEAD_PORT}\ninstance = "restored{SLOT}"\n'
        f"[web]\nport = {free_port()}\ninsecure_http = true\n"  # plain HTTP on loopback (web/tls.py)
    )
    return config.load(toml, environ={})


async def sealed(live: config.Settings, names: list[str]) -> bool:
    with sqlite3.connect(live.state_dir / "padang112.db") as db:
        found = {row[0] for row in db.execute("SELECT name FROM recording_seals")}
    return set(names) <= found


@pytest.fixture
async def second_console(
    tmp_path: Path, live_settings: config.Settings
) -> AsyncIterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        stop_process(proc)


async def signed_in(base: str, username: str, password: str) -> aiohttp.ClientSession:
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    page = await (await session.get(base + "/masuk")).text()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, page
    data = {"username": username, "password": password, "csrf_token": token.group(1), "next": "/"}
    response = await session.post(base + "/masuk", data=data, allow_redirects=False)
    assert response.status == 303, await response.text()
    return session


async def test_a_backup_during_a_call_surge_restores_history_and_playable_verified_recordings(
    asterisk, controller, repo, seat_phones, simulator, seat_pool, live_settings, tmp_path: Path, second_console, page
):
    seats = seat_pool(2)
    await seat_phones(seats, answer_after=0.3, hangup_after=2.5)
    citizens = [await simulator("citizens-a"), await simulator("citizens-b")]
    target = fleet.target_uri(live_settings)
    password = secrets.token_urlsafe(12)
    add_account(live_settings, "backup_sup", "supervisor", password)

    before = [f"+628127720{i:04d}" for i in range(3)]
    for i, caller in enumerate(before):
        carrier = ("telkomsel", "xl", "indosat")[i]
        await citizens[i % 2].call(
            f"b{i}",
            target,
            bind=fleet.carrier_address(live_settings, carrier),
            caller=caller,
            tone_hz=440,
            hangup_after=5,
        )
        await eventually(lambda c=caller: call_of(repo, c), 10, what=f"{caller} arrived")
    calls = [await eventually(lambda c=c: call_of(repo, c, "ended"), 30, what=f"{c} ended") for c in before]
    engine = create_engine(live_settings.db_url)
    incident = await IncidentStore(engine, lambda: datetime.now(UTC)).create(
        IncidentDraft("flood", 2, "Kuranji", "air setinggi lutut", agencies=("bpbd",), call_id=calls[0].id),
        "backup_sup",
        routing.ack_deadline_s,
    )
    await engine.dispose()
    names = [f"{c.recording}.wav" for c in calls]
    await eventually(lambda: sealed(live_settings, names), 40, 0.5, "the recordings sealed")

    surge = [f"+628127721{i:04d}" for i in range(6)]  # 6 callers, 2 seats: some talking, some waiting
    for i, caller in enumerate(surge):
        await citizens[i % 2].call(
            f"s{i}", target, bind=fleet.carrier_address(live_settings, "telkom"), caller=caller, hangup_after=8
        )
    await eventually(lambda: call_of(repo, surge[0], "connected"), 15, what="the surge being answered")
    backup = tmp_path / "backup"
    started = time.monotonic()
    done = await asyncio.to_thread(cli, live_settings, "backup", str(backup))
    took = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    open_now = [c for c in await repo.recent_calls(50) if c.caller_number in surge and c.state != "ended"]
    print(f"\n[backup] during the surge ({len(open_now)} surge calls still open): {took:.2f} s")
    print(done.stdout)
    assert "selesai / done" in done.stdout

    fresh = restored_settings(tmp_path / "restored", live_settings)
    done = await asyncio.to_thread(cli, fresh, "restore", str(backup))
    assert done.returncode == 0, done.stdout + done.stderr
    again = await asyncio.to_thread(cli, fresh, "restore", str(backup))
    assert again.returncode == 1 and "refusing to overwrite" in again.stderr

    env = dict(os.environ, PADANG112_CONFIG=str(fresh.config_path))
    log = (tmp_path / "restored.log").open("ab")
    second_console.append(subprocess.Popen([*PADANG112, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT))
    base = f"http://{fresh.web.host}:{fresh.web.port}"

    async def healthy() -> bool:
        try:
            async with aiohttp.ClientSession() as s, s.get(base + "/healthz") as r:
                return r.status == 200
        except aiohttp.ClientError:
            return False

    await eventually(healthy, 30, 0.3, "the console on the restored state")
    session = await signed_in(base, "backup_sup", password)
    try:
        token = re.search(r'name="csrf_token" value="([^"]+)"', await (await session.get(base + "/riwayat")).text())
        assert token
        csrf = {"X-CSRF-Token": token.group(1)}
        for call in calls:  # numbers are searched in a body, never in a URL
            search = {"number": call.caller_number}
            found = await (await session.post(base + "/api/v1/calls/search", json=search, headers=csrf)).json()
            row = next(r for r in found["calls"] if r["id"] == call.id)
            assert (row["state"], row["seat"], row["carrier"]) == ("ended", call.seat, call.carrier)
            response = await session.get(base + row["recording_url"])
            assert response.status == 200 and response.headers["Content-Type"] == "audio/wav"
            assert response.headers["X-Recording-Integrity"] == "verified"
            assert await response.read() == (live_settings.recordings_dir / f"{call.recording}.wav").read_bytes()
            label = await (await session.get(base + row["recording_url"] + "/integrity")).json()
            assert label == {"status": "verified", "label": "terverifikasi"}
        restored_incident = await (await session.get(base + f"/api/v1/incidents/{incident.id}")).json()
        assert restored_incident["number"] == incident.number and restored_incident["call_id"] == calls[0].id
        form = {"csrf_token": token.group(1), "number": before[1]}
        html = await (await session.post(base + "/riwayat", data=form)).text()
        assert before[1] in html and "data-url=" in html
    finally:
        await session.close()
    await sign_in(page, base, "backup_sup", password)  # the history page in Chromium: the label next to the player
    await page.wait_for_url(lambda url: "/masuk" not in url)
    await page.goto(f"{base}/riwayat")
    await page.get_by_label("Nomor", exact=True).fill(before[1])
    await page.get_by_role("button", name="Cari").click()
    await page.wait_for_load_state()
    await page.locator("audio").first.dispatch_event("play")
    await page.locator("span.integrity.verified").first.wait_for()
    assert await page.locator("span.integrity").first.text_content() == "terverifikasi"
    verify = await asyncio.to_thread(cli, fresh, "verify", "--lang", "en")
    assert verify.returncode == 0 and verify.stdout.strip().splitlines()[-1].startswith("OK:"), verify.stdout

    damaged = tmp_path / "damaged"
    shutil.copytree(backup, damaged)
    wav = damaged / "recordings" / names[1]
    data = bytearray(wav.read_bytes())
    data[len(data) // 2] ^= 0x01
    wav.write_bytes(bytes(data))
    empty = restored_settings(tmp_path / "second-restore", live_settings)
    refused = await asyncio.to_thread(cli, empty, "restore", str(damaged))
    assert refused.returncode == 1 and f"berubah / changed: recordings/{names[1]}" in refused.stderr
    assert not (empty.state_dir / "padang112.db").exists() and not empty.recordings_dir.exists()
    for i in range(len(surge)):  # let the surge finish before the next test takes seats
        await citizens[i % 2].wait_call_state(f"s{i}", "DISCONNECTED", 40)
