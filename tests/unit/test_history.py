"""Call history, call search, service level API and audited recording playback, on a real migrated SQLite file.

Calls are written through the EventWriter as the controller would; the app has auth and the history routes
only (no controller, no Asterisk).
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp_jinja2
import jinja2
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112 import config
from padang112.accounts.users import UserStore
from padang112.domain.events import CallTransition, DomainEvent, RecordingStarted
from padang112.integrity.seals import digest
from padang112.stats import queries
from padang112.storage.models import RecordingSeal
from padang112.storage.repository import EventWriter, Repository
from padang112.web import auth, history, login
from padang112.web import keys as webapp
from padang112.web import recordings as recordings_api

pytestmark = pytest.mark.engines("sqlite", "postgresql")  # the storage contract, on both engines

PASSWORD = "kuranji-banjir-2023"
UTC = UTC
WIB_DAY = datetime(2023, 8, 6, 17, 0, tzinfo=UTC)  # 2023-08-07 00:00 WIB
NOW = WIB_DAY + timedelta(hours=10)  # 10:00 WIB
SCRIPT = "<script>alert(1)</script>"
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(32))
Client = TestClient[web.Request, web.Application]
ROUTES = (
    "/riwayat",
    "/api/v1/calls",
    "/api/v1/stats/service-level",
    "/api/v1/calls/c1/recording",
    "/api/v1/calls/c1/recording/integrity",
)


def wib(hours: float) -> datetime:
    return WIB_DAY + timedelta(hours=hours)


def story(
    cid: str,
    at: datetime,
    number: str,
    *,
    carrier: str = "telkomsel",
    seat: str | None = None,
    answer_s: float | None = None,
    talk_s: float = 60,
    wait_s: float = 40,
    disposition: str | None = None,
    recording: str | None = None,
) -> list[DomainEvent]:
    events: list[DomainEvent] = [
        CallTransition(
            cid, at, None, "received", data={"caller_number": number, "carrier": carrier, "via": "controller"}
        ),
        CallTransition(cid, at, "received", "queued"),
    ]
    if answer_s is not None:
        t = at + timedelta(seconds=answer_s)
        events += [
            CallTransition(cid, t, "queued", "offered", seat=seat),
            CallTransition(cid, t, "offered", "connected", seat=seat),
        ]
        if recording:
            events.append(RecordingStarted(cid, t, recording, f"/recordings/{recording}.wav"))
        events.append(
            CallTransition(
                cid,
                t + timedelta(seconds=talk_s),
                "connected",
                "ended",
                seat=seat,
                data={"ended_by": "caller", "disposition": disposition},
            )
        )
    else:
        events.append(
            CallTransition(
                cid,
                at + timedelta(seconds=wait_s),
                "queued",
                "abandoned",
                data={"ended_by": "caller", "disposition": disposition or "abandoned"},
            )
        )
    return events


@pytest.fixture
def recordings(tmp_path: Path) -> Path:
    path = tmp_path / "recordings"
    path.mkdir()
    (path / "call-c1.wav").write_bytes(WAV)
    (tmp_path / "outside.wav").write_bytes(b"SECRET-OUTSIDE")
    (path / "call-c6.wav").symlink_to(tmp_path / "outside.wav")  # a link out of the directory
    return path


@pytest.fixture
def settings(tmp_path: Path, recordings: Path) -> config.Settings:
    toml = tmp_path / "padang112.toml"
    plain_http = "[web]\ninsecure_http = true\n"
    toml.write_text(f'state_dir = "{tmp_path / "state"}"\nrecordings_dir = "{recordings}"\n{plain_http}')
    return config.load(toml, environ={})


@pytest.fixture
async def calls(writer: EventWriter) -> None:
    await writer.write(
        story(
            "c1",
            wib(8.2),
            "+6281234567890",
            seat="seat03",
            answer_s=5,
            talk_s=125,
            disposition="emergency",
            recording="call-c1",
        )
    )
    await writer.write(
        story("c2", wib(9), SCRIPT, carrier="<b>xl</b>", seat="seat01", answer_s=30, disposition="prank")
    )
    await writer.write(story("c3", wib(-0.5), "0812_99%00"))  # 2023-08-06 23:30 WIB, abandoned after 40 s
    await writer.write(story("c4", wib(9.5), "081100000004", seat="seat02", answer_s=3, recording="../outside"))
    await writer.write(story("c5", wib(9.6), "081100000005", seat="seat02", answer_s=3, recording="call-c5"))
    await writer.write(story("c6", wib(-2), "081100000006", seat="seat02", answer_s=3, recording="call-c6"))


@pytest.fixture
def app(settings: config.Settings, engine: AsyncEngine) -> web.Application:
    app = web.Application()
    app[webapp.SETTINGS] = settings
    login.setup(app, settings, engine=engine)
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(str(config.PROJECT_ROOT / "web" / "templates")),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        context_processors=[auth.context_processor],
    )
    app[webapp.REPOSITORY] = Repository(engine)
    history.setup(app, clock=lambda: NOW)
    recordings_api.setup(app)
    return app


@pytest.fixture
def users(app: web.Application) -> UserStore:
    return app[auth.AUTH].users


@pytest.fixture
async def client(app: web.Application, users: UserStore, calls: None) -> AsyncIterator[Client]:
    for name, role in (("joni", "supervisor"), ("adm", "admin"), ("rina", "call_taker")):
        await users.create(name, role=role, password=PASSWORD)
    async with TestClient(TestServer(app)) as client:
        yield client


async def sign_in(client: Client, username: str) -> None:
    client.session.cookie_jar.clear()
    page = await (await client.get("/masuk")).text()
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page
    data = {"username": username, "password": PASSWORD, "csrf_token": match.group(1), "next": "/"}
    response = await client.post("/masuk", data=data, allow_redirects=False)
    assert response.status == 303


async def ids(client: Client, query: str) -> list[str]:
    response = await client.get("/api/v1/calls" + query)
    assert response.status == 200, await response.text()
    return [c["id"] for c in (await response.json())["calls"]]


async def csrf(client: Client) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', await (await client.get("/riwayat")).text())
    assert match
    return match.group(1)


async def searched(client: Client, **body: object) -> dict:
    """POST /api/v1/calls/search: how a number is searched (never in a URL)."""
    response = await client.post("/api/v1/calls/search", json=body, headers={"X-CSRF-Token": await csrf(client)})
    assert response.status == 200, await response.text()
    return await response.json()


async def found(client: Client, **body: object) -> list[str]:
    return [c["id"] for c in (await searched(client, **body))["calls"]]


async def plays(users: UserStore) -> list[dict[str, object]]:
    return [{"user": e.username, **e.detail} for e in await users.audit_entries() if e.action == "recording_played"]


async def test_search_by_number_date_seat_and_disposition(client: Client) -> None:
    await sign_in(client, "joni")

    assert await ids(client, "") == ["c5", "c4", "c2", "c1", "c3", "c6"]  # newest first
    assert await found(client, number="812345") == ["c1"]
    assert await found(client, number="0812-99") == []  # hyphen ignored; "081299" is not in "0812_99%00"
    assert await found(client, number="_") == ["c3"]  # literal, not a wildcard
    assert await found(client, number="%") == ["c3"]
    assert await found(client, number="<script") == ["c2"]
    assert await found(client, number="<SCRIPT") == ["c2"]  # either case, on both engines
    assert await found(client, number="0811", date="2023-08-07", limit=1, offset=1) == ["c4"]
    assert await ids(client, "?date=2023-08-07") == ["c5", "c4", "c2", "c1"]
    assert await ids(client, "?date=2023-08-06") == ["c3", "c6"]  # 16:30 UTC on the 6th is 23:30 WIB
    assert await ids(client, "?seat=seat02") == ["c5", "c4", "c6"]
    assert await ids(client, "?disposition=prank") == ["c2"]
    assert await ids(client, "?disposition=abandoned&date=2023-08-06&seat=") == ["c3"]
    assert await ids(client, "?limit=2&offset=1") == ["c4", "c2"]
    paged = await (await client.get("/api/v1/calls?limit=2&offset=1&date=2023-08-07")).json()
    assert (paged["total"], paged["limit"], paged["offset"]) == (4, 2, 1)  # the whole search, not the page

    [c1] = (await searched(client, number="812345"))["calls"]
    assert c1["received_at"] == "2023-08-07T08:12:00+07:00" and c1["connected_at"] == "2023-08-07T08:12:05+07:00"
    assert (c1["wait_s"], c1["talk_s"], c1["seat"], c1["carrier"]) == (5.0, 125.0, "seat03", "telkomsel")
    assert c1["recording_url"] == "/api/v1/calls/c1/recording"
    assert c1["recording_urls"] == ["/api/v1/calls/c1/recordings/call-c1"]


async def test_a_call_put_through_twice_plays_both_of_its_recordings_each_by_its_own_name(
    client: Client, writer: EventWriter, recordings: Path, users: UserStore
) -> None:
    """E.g. its call taker vanished during a controller restart and the next seat took it: nothing overwritten."""
    first, second = "call-c7-seat01-a1b2c31", "call-c7-seat02-d4e5f61"
    events = story("c7", wib(-30), "081100000007", seat="seat01", answer_s=2, recording=first)
    events.insert(-1, RecordingStarted("c7", wib(-30) + timedelta(seconds=40), second, f"/recordings/{second}.wav"))
    await writer.write(events)
    (recordings / f"{first}.wav").write_bytes(WAV + b"first")
    (recordings / f"{second}.wav").write_bytes(WAV + b"second")
    await sign_in(client, "joni")

    listed = await (await client.get("/api/v1/calls/c7/recordings")).json()
    urls = [f"/api/v1/calls/c7/recordings/{first}", f"/api/v1/calls/c7/recordings/{second}"]
    assert [(r["name"], r["url"]) for r in listed["recordings"]] == [(first, urls[0]), (second, urls[1])]
    assert [await (await client.get(url)).read() for url in urls] == [WAV + b"first", WAV + b"second"]
    assert await (await client.get("/api/v1/calls/c7/recording")).read() == WAV + b"second"  # the latest
    [c7] = (await (await client.get("/api/v1/calls?date=2023-08-05")).json())["calls"]
    assert c7["recording_urls"] == urls
    page = await (await client.get("/riwayat?date=2023-08-05")).text()
    assert page.count("<audio ") == 2 and all(f'src="{url}"' in page for url in urls)
    assert sorted(p["recording"] for p in await plays(users)) == [first, second, second]
    assert (await client.get("/api/v1/calls/c1/recordings/" + first)).status == 404  # another call's recording


@pytest.mark.parametrize(
    "query, parameter",
    [
        ("?date=2023-13-01", "date"),
        ("?date=07-08-2023", "date"),
        ("?date=2023-08-07'--", "date"),
        ("?limit=0", "limit"),
        ("?limit=501", "limit"),
        ("?limit=abc", "limit"),
        ("?offset=-1", "offset"),
        ("?seat=seat%2001", "seat"),
        ("?disposition=Prank!", "disposition"),
        ("?number=081234567890", "number_in_url"),  # refused, not searched: numbers never go into URLs
        ("?number=", "number_in_url"),
    ],
)
async def test_bad_parameters_get_400_with_a_bilingual_message(client: Client, query: str, parameter: str) -> None:
    await sign_in(client, "adm")
    response = await client.get("/api/v1/calls" + query)

    assert response.status == 400
    body = await response.json()
    assert body["error"] == "bad_request" and body["parameter"] == parameter
    assert " / " in body["message"]  # Indonesian / English


@pytest.mark.parametrize(
    "body, parameter",
    [({"number": "9" * 65}, "number"), ({"number": 812345}, "number"), ({"limit": True}, "limit"),
     ({"offset": -1}, "offset"), ({"date": ["2023-08-07"]}, "date")],
)  # fmt: skip
async def test_bad_search_bodies_get_400(client: Client, body: dict, parameter: str) -> None:
    await sign_in(client, "adm")
    headers = {"X-CSRF-Token": await csrf(client)}
    response = await client.post("/api/v1/calls/search", json=body, headers=headers)
    assert response.status == 400 and (await response.json())["parameter"] == parameter


async def test_the_page_searches_a_number_by_post_and_pages_without_putting_it_in_a_url(client: Client) -> None:
    await sign_in(client, "joni")
    token = await csrf(client)
    form = {"csrf_token": token, "number": "0811", "limit": "2"}
    response = await client.post("/riwayat?lang=en", data=form)
    page = await response.text()
    assert response.status == 200 and response.url.query_string == "lang=en"
    assert "081100000005" in page and "081100000004" in page and "081100000002" not in page
    assert "0811" not in re.sub(r'<input type="(search|hidden)" name="number" value="0811"', "", page).replace(
        "08110000000", ""
    )  # only in the search box and the pager's hidden fields
    hrefs = re.findall(r'href="([^"]*)"', page) + re.findall(r'action="([^"]*)"', page)
    assert hrefs and not [h for h in hrefs if "0811" in h or "number" in h]
    assert '<form class="page" method="post" action="/riwayat?lang=en">' in page
    nxt = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page.split('class="page"')[1]))
    assert nxt == {"csrf_token": token, "number": "0811", "limit": "2", "offset": "2"}
    second = await (await client.post("/riwayat", data=nxt)).text()
    assert "081100000006" in second and "081100000005" not in second
    refused = await client.post("/riwayat", data={"number": "0811"})  # no CSRF token
    assert refused.status == 403


async def test_the_history_page_escapes_what_callers_send(client: Client) -> None:
    await sign_in(client, "joni")
    response = await client.get("/riwayat")
    page = await response.text()

    assert response.status == 200 and "Riwayat panggilan" in page and "Operator seluler" in page
    assert SCRIPT not in page and "<b>xl" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;b&gt;xl&lt;/b&gt;" in page
    assert "07-08-2023 08:12:00" in page and "06-08-2023 23:30:00" in page
    assert "2:05" in page and "menunggu 0:40" in page  # talk time of c1, wait of the abandoned c3
    assert '<audio controls preload="none" src="/api/v1/calls/c1/recordings/call-c1"></audio>' in page
    assert page.count("<audio ") == 3  # c1, c5, c6 (checked again at playback); not c4's "../outside"
    assert "Tingkat layanan" in page and "<svg" in page and "Panggilan iseng" in page


async def test_the_history_page_in_english_and_with_a_bad_date(client: Client) -> None:
    await sign_in(client, "joni")
    page = await (await client.get("/riwayat?lang=en&seat=seat03")).text()
    assert "Call history" in page and "Carrier" in page and "Service level" in page and "Sign out" in page
    assert "+6281234567890" in page and "081100000004" not in page

    first = await (await client.get("/riwayat?limit=2")).text()
    assert "09:36:00" in first and "09:30:00" in first and "09:00:00" not in first
    assert '<input type="hidden" name="offset" value="2">' in first and "« Sebelumnya" not in first
    second = await (await client.get("/riwayat?limit=2&offset=2")).text()
    assert "09:00:00" in second and "08:12:00" in second and "« Sebelumnya" in second

    bad = await client.get("/riwayat?date=2023-02-30")
    assert bad.status == 400 and "Tanggal tidak valid" in await bad.text()


async def test_call_takers_get_403_and_anonymous_users_must_sign_in(client: Client) -> None:
    for path in ROUTES:
        response = await client.get(path, allow_redirects=False)
        if path.startswith("/api/"):
            assert response.status == 401, path
        else:
            assert response.status == 302 and response.headers["Location"].startswith("/masuk"), path

    await sign_in(client, "rina")
    for path in ROUTES:
        assert (await client.get(path, allow_redirects=False)).status == 403, path


async def test_playback_streams_the_wav_and_writes_an_audit_row_each_time(client: Client, users: UserStore) -> None:
    await sign_in(client, "joni")
    for _ in range(2):
        response = await client.get("/api/v1/calls/c1/recording")
        assert response.status == 200 and response.headers["Content-Type"] == "audio/wav"
        assert await response.read() == WAV

    assert [(p["user"], p["call_id"], p["recording"]) for p in await plays(users)] == [("joni", "c1", "call-c1")] * 2


async def test_playback_says_whether_the_recording_is_the_one_sealed(
    client: Client, engine: AsyncEngine, recordings: Path
) -> None:
    await sign_in(client, "joni")
    response = await client.get("/api/v1/calls/c1/recording")
    assert response.headers["X-Recording-Integrity"] == "unsealed"
    seal = digest(recordings / "call-c1.wav")
    async with engine.begin() as conn:
        await conn.execute(
            RecordingSeal.__table__.insert(),
            {
                "name": "call-c1.wav",
                "call_id": "c1",
                "sha256": seal.sha256,
                "size_bytes": seal.size_bytes,
                "sealed_at": NOW,
            },
        )
    integrity = await (await client.get("/api/v1/calls/c1/recording/integrity")).json()
    assert integrity == {"status": "verified", "label": "terverifikasi"}
    assert (await client.get("/api/v1/calls/c1/recording")).headers["X-Recording-Integrity"] == "verified"

    altered = bytearray(WAV)
    altered[20] ^= 0x01
    (recordings / "call-c1.wav").write_bytes(bytes(altered))
    os.utime(recordings / "call-c1.wav", ns=(1, 1))  # whatever the clock's resolution, a new file to look at
    integrity = await (await client.get("/api/v1/calls/c1/recording/integrity")).json()
    assert integrity == {"status": "changed", "label": "berubah"}
    assert (await client.get("/api/v1/calls/c1/recording")).headers["X-Recording-Integrity"] == "changed"
    page = await (await client.get("/riwayat")).text()
    assert 'data-url="/api/v1/calls/c1/recordings/call-c1/integrity"' in page and "/static/history.js" in page
    segment = await (await client.get("/api/v1/calls/c1/recordings/call-c1/integrity")).json()
    assert segment == {"status": "changed", "label": "berubah"}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/calls/c4/recording",  # the database names "../outside"
        "/api/v1/calls/c5/recording",  # known name, file missing
        "/api/v1/calls/c6/recording",  # known name, but a symlink leading out of recordings_dir
        "/api/v1/calls/c2/recording",  # no recording
        "/api/v1/calls/nope/recording",
        "/api/v1/calls/..%2F..%2Foutside/recording",
        "/api/v1/calls/..%2Foutside.wav/recording",
        "/api/v1/calls/call-c1/recording",
        "/api/v1/calls/c1/recordings/call-c5",  # another call's name
        "/api/v1/calls/c1/recordings/..%2Foutside",
        "/api/v1/calls/c6/recordings/call-c6",  # the symlink, by its own name
        "/api/v1/calls/nope/recordings",
    ],
)
async def test_crafted_ids_and_names_get_404_and_read_nothing(client: Client, users: UserStore, path: str) -> None:
    await sign_in(client, "adm")
    response = await client.get(path)

    assert response.status == 404
    assert b"SECRET" not in await response.read()
    assert await plays(users) == []


async def test_service_level_api_for_today_and_the_last_hour(client: Client) -> None:
    await sign_in(client, "joni")
    today = await (await client.get("/api/v1/stats/service-level?window=today")).json()

    assert today["start"] == "2023-08-07T00:00:00+07:00" and today["end"] == "2023-08-08T00:00:00+07:00"
    assert (today["offered"], today["answered"], today["abandoned"]) == (4, 4, 0)  # c3 was the day before
    assert today["answered_within_15"] == 3 and today["pct_within_15"] == 75.0 and today["below_target_15"]
    assert today["prank_ghost"] == 1 and today["prank_ghost_pct"] == 25.0
    assert today["per_hour"][8] == 1 and today["per_hour"][9] == 3 and sum(today["per_hour"]) == 4

    hour = await (await client.get("/api/v1/stats/service-level?window=hour")).json()
    assert hour["start"] == "2023-08-07T09:00:00+07:00" and hour["end"] == "2023-08-07T10:00:00+07:00"
    assert hour["offered"] == 3

    bad = await client.get("/api/v1/stats/service-level?window=week")
    assert bad.status == 400 and "today" in (await bad.json())["message"]


async def test_queries_take_an_engine_or_the_repository(engine: AsyncEngine, calls: None) -> None:
    by_engine = await queries.calls_between(engine, WIB_DAY, WIB_DAY + timedelta(days=1))
    by_repo = await queries.calls_between(Repository(engine), WIB_DAY, WIB_DAY + timedelta(days=1))
    assert [c.id for c in by_engine] == [c.id for c in by_repo] == ["c1", "c2", "c4", "c5"]
    with pytest.raises(ValueError):
        await queries.search_calls(engine, limit=0)
