"""Who may call what: every route of the real application, tried as anonymous and as each role.

The routes are read from ``create_app``'s router (a route added later is tried without editing this file), the
roles each route allows from :func:`padang112.web.auth.allowed_roles`, and the requests go over HTTP to the
running controller (``controller`` fixture). Expected answers:

- anonymous: 401 under ``/api/`` and on ``/ws``; a redirect to ``/masuk`` for other ``GET`` pages; 401 for
  other methods; public paths (``/healthz``, ``/readyz``, ``/masuk``) are served.
- a role the route does not allow: 403.
- an allowed role: anything but 401 and 403 (400, 404 and 409 are bad input, not an authorization failure).

Path parameters get harmless values: a seat no other test uses, a call id that does not exist, each value of
an enumerated parameter. ``POST`` requests carry the session's CSRF token and the JSON body ``{}``.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from padang112 import config
from padang112.accounts import ROLES
from padang112.web import auth, openapi, pages
from padang112.web.app import create_app
from tests.integration.test_console_page import add_account

pytestmark = pytest.mark.live

ANONYMOUS = "anonymous"
IDENTITIES = (ANONYMOUS, *ROLES)
AGENCY = "bpbd"
SESSION_ENDING = frozenset({("POST", "/keluar")})  # tried with a throwaway session of its own
CSRF_SCRIPT = re.compile(r'<script type="application/json" id="csrf">(.*?)</script>', re.DOTALL)
FORM_TOKEN = re.compile(r'<input type="hidden" name="csrf_token" value="([^"]+)"')
TIMEOUT = aiohttp.ClientTimeout(total=10)


@dataclass
class Account:
    role: str
    username: str
    password: str


@dataclass
class Identity:
    name: str
    http: aiohttp.ClientSession
    csrf: str | None = None  # None: anonymous


@dataclass(frozen=True)
class Case:
    method: str
    route: str  # the canonical path, e.g. /api/v1/seats/{seat}/{verb}
    url: str  # with its parameters filled in
    roles: frozenset[str] | None  # None: public


@dataclass
class Cell:
    status: int | None
    ok: bool
    want: str
    detail: str = ""


@dataclass
class Matrix:
    cases: list[Case]
    cells: dict[tuple[Case, str], Cell] = field(default_factory=dict)

    def wrong(self) -> list[tuple[Case, str, Cell]]:
        return [(case, who, cell) for (case, who), cell in self.cells.items() if not cell.ok]

    def table(self) -> str:
        """One row per request, one column per identity: ``status`` if right, ``status!(want ...)`` if wrong."""
        rows = [["request", "allowed roles", *IDENTITIES]]
        for case in self.cases:
            allowed = "public" if case.roles is None else ",".join(r for r in ROLES if r in case.roles)
            row = [f"{case.method} {case.url}", allowed]
            for who in IDENTITIES:
                cell = self.cells.get((case, who))
                row.append(
                    "-" if cell is None else (str(cell.status) if cell.ok else f"{cell.status}!(want {cell.want})")
                )
            rows.append(row)
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)


def _add_user(settings: config.Settings, account: Account) -> None:
    add_account(
        settings, account.username, account.role, account.password, agency=AGENCY if account.role == "agency" else None
    )


MATRIX_ADDRESS = "127.0.0.9"


def _client(base_url: str) -> aiohttp.ClientSession:
    # unsafe=True: keep cookies set by an IP-address host (127.0.0.1). From a loopback address of its own, so the
    # many sign-ins here do not use up the per-address sign-in limit of the browser tests that follow (127.0.0.1).
    return aiohttp.ClientSession(
        base_url=base_url,
        cookie_jar=aiohttp.CookieJar(unsafe=True),
        timeout=TIMEOUT,
        connector=aiohttp.TCPConnector(local_addr=(MATRIX_ADDRESS, 0)),
    )


async def sign_in(base_url: str, account: Account) -> Identity:
    """Sign in over HTTP as a browser does; returns the session with its CSRF token read from the role's page."""
    http = _client(base_url)
    deadline = time.monotonic() + 70  # the sign-in form allows 20 attempts a minute per address
    while True:
        async with http.get("/masuk") as page:
            assert page.status == 200, f"GET /masuk answered {page.status}"
            token = FORM_TOKEN.search(await page.text())
        assert token, "no form token on /masuk"
        form = {"username": account.username, "password": account.password, "csrf_token": token.group(1)}
        async with http.post("/masuk", data=form, allow_redirects=False) as done:
            if done.status == 429 and time.monotonic() < deadline:
                await asyncio.sleep(5)
                continue
            assert done.status == 303, f"signing in {account.username} answered {done.status}"
        break
    assert any(c.key == auth.SESSION_COOKIE for c in http.cookie_jar), "no session cookie after signing in"
    async with http.get(pages.HOME[account.role]) as home:
        assert home.status == 200, f"{account.role}'s page {pages.HOME[account.role]} answered {home.status}"
        found = CSRF_SCRIPT.search(await home.text())
    assert found, f"no CSRF token on {pages.HOME[account.role]}"
    return Identity(account.role, http, json.loads(found.group(1)))


@pytest.fixture(scope="module")
async def accounts(controller, live_settings: config.Settings) -> dict[str, Account]:
    tag = secrets.token_hex(3)
    made = {role: Account(role, f"authz-{role.replace('_', '-')}-{tag}", secrets.token_urlsafe(12)) for role in ROLES}
    for account in made.values():
        _add_user(live_settings, account)
    return made


@pytest.fixture(scope="module")
async def identities(controller, accounts: dict[str, Account]) -> AsyncIterator[dict[str, Identity]]:
    signed_in = {ANONYMOUS: Identity(ANONYMOUS, _client(controller.base_url))}
    try:
        for role, account in accounts.items():
            signed_in[role] = await sign_in(controller.base_url, account)
        yield signed_in
    finally:
        for identity in signed_in.values():
            await identity.http.close()


def _values(name: str, enum: list[str] | None, settings: config.Settings) -> list[str]:
    if enum is not None:
        return enum
    if name == "seat":
        return [settings.seats[-1]]  # seat_pool hands seats out from the first: the last is nobody's
    if name == "call_id":
        return ["no-such-call"]
    return [f"no-such-{name}"]


def cases_of(app: web.Application, settings: config.Settings) -> list[Case]:
    """Every route of ``app`` but static files and HEAD twins, once per value of each path parameter."""
    cases = []
    for route in app.router.routes():
        if route.method == "HEAD" or isinstance(route.resource, web.StaticResource) or route.resource is None:
            continue
        path = route.resource.canonical
        params = openapi.path_parameters(route.resource)
        for values in product(*(_values(name, enum, settings) for name, enum, _ in params)):
            url = path.format(**{name: value for (name, _, _), value in zip(params, values)})
            cases.append(Case(route.method, path, url, auth.allowed_roles(path, route.handler)))
    return sorted(cases, key=lambda c: (c.route, c.url, c.method))


def _expectation(case: Case, who: str) -> str:
    if case.roles is None:
        return "public"
    if who == ANONYMOUS:
        if case.url.startswith(("/api/", *auth.MEDIA_PREFIXES)) or case.route == "/ws":  # the camera proxy too
            return "401"
        return "redirect to /masuk" if case.method == "GET" else "401"
    return "not 401/403" if who in case.roles else "403"


def _judge(case: Case, want: str, status: int | None, location: str) -> bool:
    if status is None:
        return False
    if want == "public":  # served without a session: never the sign-in layer's 401 or its redirect
        if status == 401 or location.startswith("/masuk?"):
            return False
        return case.method != "GET" or status < 400 or (case.route == "/readyz" and status == 503)
    if want == "redirect to /masuk":
        return status in (302, 303) and location.split("?", maxsplit=1)[0] == "/masuk"
    if want == "not 401/403":
        return status not in (401, 403)
    return status == int(want)


async def _websocket_status(identity: Identity, url: str) -> tuple[int | None, str]:
    """101 if the upgrade is accepted, else the first answer's status (before any redirect) and Location."""
    try:
        async with identity.http.ws_connect(url, timeout=aiohttp.ClientWSTimeout(ws_close=5)) as ws:
            hello = await ws.receive_json(timeout=5)
            return 101, f"first message {hello.get('type')}"
    except aiohttp.WSServerHandshakeError as refused:
        first = refused.history[0] if refused.history else None
        if first is not None:
            return first.status, first.headers.get("Location", "")
        return refused.status, (refused.headers or {}).get("Location", "")


async def _request(identity: Identity, case: Case) -> tuple[int | None, str]:
    if case.route == "/ws":
        return await _websocket_status(identity, case.url)
    headers = {}
    kwargs = {}
    if case.method in openapi.UNSAFE_METHODS:
        kwargs["json"] = {}
        if identity.csrf is not None:
            headers[auth.CSRF_HEADER] = identity.csrf
    async with identity.http.request(
        case.method, case.url, headers=headers, allow_redirects=False, **kwargs
    ) as response:
        await response.read()
        return response.status, response.headers.get("Location", "")


async def run_matrix(
    base_url: str, cases: list[Case], identities: dict[str, Identity], accounts: dict[str, Account]
) -> Matrix:
    matrix = Matrix(cases)
    for case, who in product(cases, IDENTITIES):
        identity = identities[who]
        throwaway = None
        if (case.method, case.route) in SESSION_ENDING and who != ANONYMOUS:
            throwaway = identity = await sign_in(base_url, accounts[who])
        try:
            status, detail = await _request(identity, case)
        finally:
            if throwaway is not None:
                await throwaway.http.close()
        want = _expectation(case, who)
        matrix.cells[case, who] = Cell(status, _judge(case, want, status, detail), want, detail)
    return matrix


async def test_every_route_answers_each_role_as_it_declares(
    controller, live_settings: config.Settings, identities, accounts, artefacts_dir: Path
):
    cases = cases_of(create_app(live_settings), live_settings)
    routes = {(c.method, c.route) for c in cases}
    assert {
        ("GET", "/api/v1/room"),
        ("POST", "/api/v1/seats/{seat}/{verb}"),
        ("GET", "/ws"),
        ("GET", "/kursi"),
        ("POST", "/keluar"),
        ("GET", "/healthz"),
    } <= routes, sorted(routes)
    assert {("GET", "/dasbor"), ("GET", "/api/v1/dashboard"), ("GET", "/laporan"), ("GET", "/laporan.csv")} <= routes, (
        "dashboard and reports"
    )
    assert {
        ("GET", "/api/v1/info-requests"),
        ("POST", "/api/v1/incidents/{incident_id}/info-requests"),
        ("POST", "/api/v1/incidents/{incident_id}/info-requests/{request_id}/answers"),
        ("POST", "/api/v1/prank-scores"),
        ("POST", "/api/v1/prank-clearances"),
        ("GET", "/kejadian/baru"),
    } <= routes, "requests for information, prank clearances, hand entry"
    assert {
        ("GET", "/dinding"),
        ("GET", "/admin/kamera"),
        ("POST", "/api/v1/cameras"),
        ("PATCH", "/api/v1/cameras/{camera_id}"),
        ("GET", "/api/v1/incidents/{incident_id}/cameras"),
        ("POST", "/api/v1/wall/layout"),
        ("GET", "/kamera/{camera_id}/live.m3u8"),
        ("GET", "/kamera/{camera_id}/s/{token}"),
        ("GET", "/kamera/{camera_id}/mjpeg"),
    } <= routes
    assert {
        ("GET", "/api/v1/callbacks"),
        ("GET", "/api/v1/callbacks/{callback_id}"),
        ("POST", "/api/v1/callbacks/{callback_id}/call"),
        ("POST", "/api/v1/calls/{call_id}/handoff"),
        ("POST", "/api/v1/calls/{call_id}/leave"),
    } <= routes, "the callback list, warm hand-off"

    started = time.monotonic()
    matrix = await run_matrix(controller.base_url, cases, identities, accounts)
    took = time.monotonic() - started
    table = matrix.table()
    (artefacts_dir / "authorization_matrix.txt").write_text(
        f"{len(cases)} requests x {len(IDENTITIES)} identities in {took:.1f} s\n\n{table}\n"
    )
    wrong = matrix.wrong()
    assert not wrong, f"{len(wrong)} of {len(matrix.cells)} answers are wrong (marked !):\n\n{table}\n\n" + "\n".join(
        f"  {c.method} {c.url} as {who}: {cell.status} {cell.detail}, want {cell.want}" for c, who, cell in wrong
    )


async def test_a_post_without_the_csrf_header_is_refused(controller, live_settings: config.Settings, identities):
    supervisor = identities["supervisor"]
    url = f"/api/v1/seats/{live_settings.seats[-1]}/pause"
    for headers in ({}, {auth.CSRF_HEADER: "not-the-token"}):
        async with supervisor.http.post(url, json={"reason": "break"}, headers=headers) as refused:
            assert refused.status == 403, f"POST {url} with headers {headers} answered {refused.status}"
            assert (await refused.json())["error"] == "csrf"
    # the session itself is still good: the same request with the token is authorized (the seat is offline)
    async with supervisor.http.post(
        url, json={"reason": "break"}, headers={auth.CSRF_HEADER: supervisor.csrf}
    ) as allowed:
        assert allowed.status not in (401, 403), await allowed.text()


async def test_the_websocket_refuses_an_anonymous_upgrade_with_401(controller, identities):
    status, location = await _websocket_status(identities[ANONYMOUS], "/ws")
    assert status == 401, f"anonymous /ws upgrade answered {status} {location}, not 401"


async def test_the_websocket_greets_a_call_taker(controller, identities, accounts):
    async with identities["call_taker"].http.ws_connect("/ws") as ws:
        hello = await ws.receive_json(timeout=5)
    assert hello["type"] == "hello"
    assert hello["user"] == accounts["call_taker"].username and hello["role"] == "call_taker"


async def test_the_served_openapi_document_matches_the_router(controller, live_settings: config.Settings, identities):
    async with identities["agency"].http.get(openapi.DOC_PATH) as response:
        assert response.status == 200
        doc = await response.json()
    assert doc["openapi"] == "3.1.0"
    for case in cases_of(create_app(live_settings), live_settings):
        if not openapi.documented(case.route):
            continue
        op = doc["paths"].get(case.route, {}).get(case.method.lower())
        assert op is not None, f"{case.method} {case.route} is missing from the served document"
        assert op["x-roles"] == [r for r in ROLES if case.roles and r in case.roles], case
