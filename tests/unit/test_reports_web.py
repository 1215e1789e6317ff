"""``/laporan``, ``/laporan.csv``, ``/dasbor`` and ``GET /api/v1/dashboard`` over HTTP, on a real migrated SQLite
file: who may see what, parameter errors, and the figures of a small morning. No controller, no Asterisk."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import aiohttp_jinja2
import jinja2
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112 import config
from padang112.domain.events import SeatTransition
from padang112.incidents import routing
from padang112.incidents.model import IncidentDraft
from padang112.incidents.service import IncidentService
from padang112.incidents.store import IncidentStore
from padang112.stats.service_level import WIB
from padang112.storage.repository import EventWriter, Repository
from padang112.web import auth, dashboard, history, incidents, login, reports
from padang112.web import keys as webapp
from tests.unit.conftest import FakeClock
from tests.unit.test_history import PASSWORD, SCRIPT, sign_in, story

Client = TestClient[web.Request, web.Application]
USERS = (
    ("joni", "supervisor", None),
    ("adm", "admin", None),
    ("rina", "call_taker", None),
    ("bpbd1", "agency", "bpbd"),
    ("dlh1", "agency", "dlh"),
)


@pytest.fixture
def app(settings: config.Settings, engine: AsyncEngine, clock: FakeClock) -> web.Application:
    app = web.Application()
    login.setup(app, settings, engine=engine, clock=clock)  # first: jinja2's context processor needs the session
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(str(config.PROJECT_ROOT / "web" / "templates")),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        context_processors=[auth.context_processor],
    )
    app[webapp.REPOSITORY] = Repository(engine)
    app[webapp.SETTINGS] = settings
    app[incidents.INCIDENTS] = IncidentService(
        IncidentStore(engine, clock), publish=lambda m: None, deadline_s=routing.ack_deadline_s
    )
    app[history.CLOCK] = clock
    dashboard.setup(app)
    reports.setup(app)
    return app


@pytest.fixture
async def morning(app: web.Application, writer: EventWriter, clock: FakeClock) -> None:
    """2023-08-07 WIB: two calls in the morning shift, a flood for BPBD and PUPR at 08:00 and a fire at 16:00."""
    start = clock.now  # 08:00 WIB
    await writer.write(story("c1", start, "+6281234567890", seat="seat03", answer_s=5, disposition="emergency"))
    await writer.write(story("c2", start + timedelta(hours=1), SCRIPT, seat="seat01", answer_s=30, disposition="prank"))
    service: IncidentService = app[incidents.INCIDENTS]
    flood = await service.create(
        IncidentDraft(
            type_code="flood", priority=2, kecamatan="Kuranji", description=SCRIPT, agencies=("bpbd", "pupr")
        ),
        "rina",
    )
    clock.now = start + timedelta(seconds=25)
    await service.set_task_state(flood["id"], "bpbd", "acknowledged", "bpbd1")
    clock.now = start + timedelta(minutes=30)
    await service.set_task_state(flood["id"], "bpbd", "resolved", "bpbd1")
    clock.now = start + timedelta(hours=8)  # 16:00 WIB
    await service.create(
        IncidentDraft(
            type_code="fire",
            priority=1,
            kecamatan="Nanggalo",
            description="api",
            latitude=-0.89,
            longitude=100.37,
            agencies=("damkar",),
        ),
        "rina",
    )
    clock.now = start + timedelta(hours=9)  # 17:00 WIB: the figures are read now


@pytest.fixture
async def client(app: web.Application, morning: None) -> AsyncIterator[Client]:
    users = app[auth.AUTH].users
    for name, role, agency in USERS:
        await users.create(name, role=role, password=PASSWORD, agency=agency)
    async with TestClient(TestServer(app)) as client:
        yield client


def figures(text: str) -> dict[tuple[str, str, str], str]:
    return {(s, m, a): v for s, m, a, v in list(csv.reader(io.StringIO(text)))[1:]}


async def test_the_room_report_of_the_morning_shift_as_csv(client: Client) -> None:
    await sign_in(client, "joni")
    response = await client.get("/laporan.csv?date=2023-08-07&shift=pagi")

    assert response.status == 200 and response.content_type == "text/csv"
    assert 'filename="laporan-112-ruang-2023-08-07-pagi.csv"' in response.headers["Content-Disposition"]
    got = figures(await response.text())
    assert (got["calls", "offered", ""], got["calls", "answered", ""], got["calls", "prank_ghost", ""]) == (
        "2",
        "2",
        "1",
    )
    assert got["calls", "pct_within_15", ""] == "50" and got["calls", "pct_within_20", ""] == "50"
    assert got["disposition", "prank", ""] == "1" and got["incidents", "created", ""] == "1"
    assert (got["agency", "ack_p50_s", "bpbd"], got["agency", "resolve_p50_s", "bpbd"]) == ("25", "1800")
    assert got["agency", "missed_deadline", "pupr"] == "1"  # never acknowledged, 120 s long past
    assert got["agency", "tasks", "damkar"] == "0"  # the fire came in the afternoon shift

    day = figures(await (await client.get("/laporan.csv?date=2023-08-07")).text())
    assert day["report", "shift", ""] == "day" and day["agency", "tasks", "damkar"] == "1"


async def test_the_printable_page_has_the_figures_charts_and_escaped_text(client: Client) -> None:
    await sign_in(client, "adm")
    response = await client.get("/laporan?date=2023-08-07&shift=pagi")
    page = await response.text()

    assert response.status == 200
    assert 'data-figure="offered">2<' in page and 'data-figure="pct_within_15">50,0 %<' in page
    assert page.count("<svg") == 4 and '<link rel="stylesheet" href="/static/report.css">' in page
    stylesheet = config.PROJECT_ROOT / "web" / "static" / "report.css"  # not inline: the CSP allows no inline style
    assert "@media print" in stylesheet.read_text()
    assert '<tr data-agency="bpbd"><td>BPBD</td>' in page and "25,0 dtk" in page
    assert SCRIPT not in page  # the prank caller id never reaches the report page unescaped
    assert 'href="/laporan.csv?date=2023-08-07&amp;shift=pagi"' in page


@pytest.mark.parametrize(
    "query, what",
    [
        ("date=2023-02-30", "Tanggal tidak valid"),
        ("date=07-08-2023", "Tanggal tidak valid"),
        ("date=2023-08-07%27--", "Tanggal tidak valid"),
        ("shift=subuh", "Sif tidak dikenal"),
        ("agency=polisi", "OPD tidak dikenal"),
    ],
)
async def test_bad_parameters_get_400_with_a_message(client: Client, query: str, what: str) -> None:
    await sign_in(client, "joni")
    csv_answer = await client.get(f"/laporan.csv?{query}")
    assert csv_answer.status == 400 and what in await csv_answer.text()
    page = await client.get(f"/laporan?{query}")
    assert page.status == 400 and what in await page.text()


async def test_an_agency_operator_sees_only_its_own_agency(client: Client) -> None:
    await sign_in(client, "bpbd1")
    own = figures(await (await client.get("/laporan.csv?date=2023-08-07")).text())
    assert own["report", "scope", ""] == "bpbd" and not any(s == "calls" for s, _, _ in own)
    assert {a for s, _, a in own if s == "agency"} == {"bpbd"}
    assert (await client.get("/laporan.csv?date=2023-08-07&agency=bpbd")).status == 200
    refused = await client.get("/laporan.csv?agency=pupr")
    assert refused.status == 403 and "hanya dapat membuka laporan OPD-nya sendiri" in await refused.text()
    assert (await client.get("/laporan?agency=pupr")).status == 403
    assert (await client.get("/dasbor")).status == 403
    assert (await client.get("/api/v1/dashboard")).status == 403

    await sign_in(client, "dlh1")  # an agency with no tasks at all
    empty = figures(await (await client.get("/laporan.csv?date=2023-08-07")).text())
    assert empty["incidents", "created", "dlh"] == "0" and empty["agency", "ack_p50_s", "dlh"] == ""


async def test_a_call_taker_gets_no_report_and_no_dashboard(client: Client) -> None:
    await sign_in(client, "rina")
    for path in ("/laporan", "/laporan.csv", "/dasbor", "/api/v1/dashboard"):
        assert (await client.get(path)).status == 403, path


async def test_the_dashboard_json(client: Client) -> None:
    await sign_in(client, "joni")
    response = await client.get("/api/v1/dashboard?lang=en")
    data = await response.json()

    assert response.status == 200
    assert data["open"]["total"] == 2
    assert {(t["code"], t["name"], t["count"]) for t in data["open"]["by_type"]} == {
        ("flood", "Flood", 1),
        ("fire", "Fire", 1),
    }
    by_agency = {a["agency"]: a for a in data["open"]["by_agency"]}
    assert (by_agency["pupr"]["waiting_ack"], by_agency["pupr"]["overdue"]) == (1, 1)
    assert (by_agency["damkar"]["open"], by_agency["bpbd"]["open"]) == (1, 0)
    points = {p["type_code"]: p for p in data["map"]["incidents"]}
    assert (points["fire"]["lat"], points["fire"]["approximate"]) == (-0.89, False)
    assert points["flood"]["approximate"] is True and points["flood"]["kecamatan"] == "Kuranji"
    assert len(data["map"]["kecamatan"]) == 11
    times = {t["agency"]: t for t in data["agency_times"]}
    assert times["bpbd"]["ack_p90_s"] == 25.0 and times["bpbd"]["within_deadline_pct"] == 100.0
    assert data["generated_at"] == "2023-08-07T17:00:00+07:00"

    page = await client.get("/dasbor")
    assert page.status == 200 and "/static/vendor/leaflet/leaflet.js" in await page.text()


async def test_the_shift_report_compares_seats_signed_in_with_the_advice(client: Client, writer: EventWriter) -> None:
    """seat02 is signed in from 07:00 to 09:30 WIB; the calls of 08:00 and 09:00 need one seat by Erlang A."""
    day = datetime(2023, 8, 7, 7, 0, tzinfo=WIB)
    await writer.write(
        [
            SeatTransition("seat02", day, None, "available"),
            SeatTransition("seat02", day + timedelta(hours=2, minutes=30), "available", "offline"),
        ]
    )
    await sign_in(client, "joni")
    rows = figures(await (await client.get("/laporan.csv?date=2023-08-07&shift=pagi")).text())
    assert [rows["seats_staffed", h, ""] for h in ("07", "08", "09", "10")] == ["1", "1", "0.5", "0"]
    assert rows["seats_advised", "08", ""] == "1"
    assert ("seats_staffed", "15", "") not in rows  # the shift ends at 15:00
    page = await (await client.get("/laporan?date=2023-08-07&shift=pagi")).text()
    assert 'id="staffing"' in page and 'data-hour="09:00"' in page
