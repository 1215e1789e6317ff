"""The console's sign-in: sessions, cookies, CSRF, lockout, rate limits and who may open which route.

A small aiohttp app with ``login.setup`` and dummy handlers per role stands in for the console (no controller,
no Asterisk). The clock is injected: idle and absolute expiry are tested without sleeping.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import aiohttp
import aiohttp_jinja2
import jinja2
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112 import config
from padang112.accounts import ROLES
from padang112.accounts.users import UserStore
from padang112.web import auth, login
from tests.unit.conftest import FakeClock, templated_app

PASSWORD = "kuranji-banjir-2023"
Client = TestClient[web.Request, web.Application]


async def ok(request: web.Request) -> web.Response:
    user = auth.current_user(request)
    return web.json_response({"user": None if user is None else user.username})


async def template_context(request: web.Request) -> web.Response:
    context = await auth.context_processor(request)
    user = context["current_user"]
    return web.json_response({"user": user.username, "csrf_token": context["csrf_token"], "lang": context["lang"]})


# path -> (method, handler); the matrix test derives each route's expected answers from what it declares.
DUMMY_ROUTES: dict[str, tuple[str, Callable[[web.Request], Awaitable[web.StreamResponse]]]] = {
    "/healthz": ("GET", ok),
    "/readyz": ("GET", ok),
    "/static/console.css": ("GET", ok),
    "/": ("GET", ok),  # undecorated: any signed-in user
    "/meja": ("GET", auth.require("call_taker")(ok)),
    "/pengawas": ("GET", auth.require("supervisor", "admin")(ok)),
    "/opd": ("GET", auth.require("agency")(ok)),
    "/admin/pengguna": ("GET", auth.require("admin")(ok)),
    "/api/antrean": ("GET", auth.require("call_taker", "supervisor")(ok)),
    "/dinding": ("GET", auth.require("supervisor", "wall")(ok)),
    "/api/kejadian": ("POST", auth.require("call_taker")(ok)),
    "/kejadian/baru": ("POST", auth.require()(ok)),
    "/konteks": ("GET", template_context),
}


@pytest.fixture
def app(settings: config.Settings, engine: AsyncEngine, clock: FakeClock) -> web.Application:
    app = templated_app()
    login.setup(app, settings, engine=engine, clock=clock)
    for path, (method, handler) in DUMMY_ROUTES.items():
        app.router.add_route(method, path, handler)
    return app


@pytest.fixture
def users(app: web.Application) -> UserStore:
    return app[auth.AUTH].users


@pytest.fixture
async def client(app: web.Application) -> AsyncIterator[Client]:
    async with TestClient(TestServer(app)) as client:
        yield client


async def add_user(users: UserStore, role: str, name: str | None = None) -> str:
    username = name or role.replace("_", "")
    await users.create(username, role=role, password=PASSWORD, agency="bpbd" if role == "agency" else None)
    return username


async def form_token(client: Client, query: str = "") -> str:
    page = await (await client.get("/masuk" + query)).text()
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


async def sign_in(
    client: Client,
    username: str,
    password: str = PASSWORD,
    next_path: str = "/",
) -> aiohttp.ClientResponse:
    token = await form_token(client)
    data = {"username": username, "password": password, "csrf_token": token, "next": next_path}
    return await client.post("/masuk", data=data, allow_redirects=False)


def session_cookie(response: aiohttp.ClientResponse) -> str:
    [header] = [h for h in response.headers.getall("Set-Cookie") if h.startswith(auth.SESSION_COOKIE + "=")]
    return header


def session_csrf(client: Client, app: web.Application) -> Callable[[], Awaitable[str]]:
    async def read() -> str:
        token = client.session.cookie_jar.filter_cookies(client.make_url("/"))[auth.SESSION_COOKIE].value
        active = await app[auth.AUTH].sessions.resolve(token)
        assert active is not None
        return active.csrf_token

    return read


async def test_sign_in_sets_an_httponly_samesite_strict_cookie_and_goes_to_next(
    client: Client, users: UserStore
) -> None:
    await add_user(users, "supervisor", "joni")
    response = await sign_in(client, "joni", next_path="/pengawas")

    assert response.status == 303 and response.headers["Location"] == "/pengawas"
    cookie = session_cookie(response)
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # the console is not (yet) served over https
    assert (await (await client.get("/pengawas")).json()) == {"user": "joni"}


async def test_next_never_leads_off_site(client: Client, users: UserStore) -> None:
    await add_user(users, "admin")
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "/\t/evil.example/", "/\n/evil"):
        client.session.cookie_jar.clear()
        response = await sign_in(client, "admin", next_path=evil)
        assert response.headers["Location"] == "/"


@pytest.mark.parametrize("typed", ["joni", "<script>alert(1)</script>"])
async def test_a_failed_sign_in_shows_the_error_and_echoes_the_username_escaped(
    client: Client, users: UserStore, typed: str
) -> None:
    await add_user(users, "supervisor", "joni")
    response = await sign_in(client, typed, password="not-the-password")

    page = await response.text()
    assert response.status == 401 and auth.SESSION_COOKIE not in response.cookies
    assert "Nama pengguna atau kata sandi salah." in page
    assert "<script>alert" not in page
    if "<" in typed:
        assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in page


async def test_five_failures_make_that_address_wait_answered_like_a_wrong_password_and_are_audited(
    client: Client, users: UserStore, clock: FakeClock
) -> None:
    await add_user(users, "call_taker", "rina")
    wrong = [await sign_in(client, "rina", password=f"wrong-{i}-password") for i in range(5)]
    assert [r.status for r in wrong] == [401] * 5

    waiting = await sign_in(client, "rina")  # the right password, but this address must wait
    assert waiting.status == 401 and await waiting.text() == await wrong[-1].text()
    clock.advance(minutes=5)
    assert (await sign_in(client, "rina")).status == 303

    actions = [(e.action, e.detail.get("reason")) for e in reversed(await users.audit_entries())]
    assert actions == [("user_created", None)] + [("login_failed", "wrong_password")] * 5 + [
        ("login_refused", "backoff"),
        ("login", None),
    ]
    assert all(e.detail.get("client") == "127.0.0.1" for e in await users.audit_entries() if e.action != "user_created")


async def test_a_forwarded_address_counts_only_from_a_configured_proxy(
    settings: config.Settings, engine: AsyncEngine, clock: FakeClock
) -> None:
    """Behind the proxy each desk has its own back-off; a client writing X-Forwarded-For itself gains nothing."""

    async def attempts(trusted: frozenset[str], forwarded_for: list[str]) -> list[int]:
        app = web.Application()
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(str(config.PROJECT_ROOT / "web" / "templates")))
        login.setup(
            app,
            settings,
            engine=engine,
            clock=clock,
            policy=auth.AuthPolicy(trusted_proxies=trusted, secure_cookie=False),
        )
        async with TestClient(TestServer(app)) as client:
            await app[auth.AUTH].users.create(f"rina{len(trusted)}", role="call_taker", password=PASSWORD)
            statuses = []
            for i, address in enumerate(forwarded_for):
                token = await form_token(client)
                password = PASSWORD if i == len(forwarded_for) - 1 else f"wrong-{i}-password"
                form = {"username": f"rina{len(trusted)}", "password": password, "csrf_token": token}
                headers = {"X-Forwarded-For": address}
                response = await client.post("/masuk", data=form, headers=headers, allow_redirects=False)
                statuses.append(response.status)
            return statuses

    guesser, desk = ["10.9.9.9"] * 5, ["10.1.1.1"]
    assert await attempts(frozenset({"127.0.0.1"}), guesser + desk) == [401] * 5 + [303]
    # not a configured proxy: both "addresses" are the test client's own, which now waits
    assert await attempts(frozenset(), guesser + desk) == [401] * 6


async def test_changes_need_the_session_csrf_token_as_field_or_header(
    client: Client, users: UserStore, app: web.Application
) -> None:
    await add_user(users, "call_taker", "rina")
    await sign_in(client, "rina")
    csrf = await session_csrf(client, app)()

    missing = await client.post("/api/kejadian", json={"jenis": "banjir"})
    assert missing.status == 403 and (await missing.json())["error"] == "csrf"
    wrong = await client.post("/kejadian/baru", data={"csrf_token": "x" * 43})
    assert wrong.status == 403 and "CSRF" in await wrong.text()
    assert (await client.post("/api/kejadian", json={}, headers={"X-CSRF-Token": csrf})).status == 200
    assert (await client.post("/kejadian/baru", data={"csrf_token": csrf})).status == 200
    assert [e.action for e in await users.audit_entries(2)] == ["csrf_refused", "csrf_refused"]


async def test_templates_get_the_user_the_csrf_token_and_the_language(
    client: Client, users: UserStore, app: web.Application
) -> None:
    await add_user(users, "supervisor", "joni")
    await sign_in(client, "joni")
    context = await (await client.get("/konteks?lang=en")).json()
    assert context == {"user": "joni", "csrf_token": await session_csrf(client, app)(), "lang": "en"}


async def test_the_sign_in_form_needs_its_own_csrf_token(client: Client, users: UserStore) -> None:
    await add_user(users, "call_taker", "rina")
    await form_token(client)  # the nonce cookie alone is not enough
    response = await client.post("/masuk", data={"username": "rina", "password": PASSWORD}, allow_redirects=False)
    assert response.status == 403 and auth.SESSION_COOKIE not in response.cookies


async def test_a_session_ends_after_30_idle_minutes_and_after_12_hours_in_any_case(
    client: Client, users: UserStore, clock: FakeClock
) -> None:
    await add_user(users, "supervisor", "joni")
    await sign_in(client, "joni")
    signed_in_at = clock.now
    while clock.now + timedelta(minutes=29) < signed_in_at + timedelta(hours=12):
        clock.advance(minutes=29)  # busy all day: a request every 29 minutes keeps it alive ...
        assert (await client.get("/api/antrean")).status == 200
    clock.now = signed_in_at + timedelta(hours=12)
    assert (await client.get("/api/antrean")).status == 401  # ... for 12 hours at most

    await sign_in(client, "joni")
    clock.advance(minutes=30)
    response = await client.get("/pengawas", allow_redirects=False)
    assert response.status == 302 and response.headers["Location"] == "/masuk?next=/pengawas"


async def test_the_wall_kiosk_session_lasts_weeks_while_the_wall_keeps_polling_and_opens_only_the_wall(
    client: Client, users: UserStore, clock: FakeClock
) -> None:
    await add_user(users, "wall", "layar1")
    await sign_in(client, "layar1")
    signed_in_at = clock.now
    while clock.now < signed_in_at + timedelta(days=29):
        clock.advance(minutes=20)  # the wall page polls every 30 s: never idle
        assert (await client.get("/dinding")).status == 200
    assert (await client.get("/pengawas", allow_redirects=False)).status == 403  # the wall, nothing else
    clock.now = signed_in_at + timedelta(days=30)
    response = await client.get("/dinding", allow_redirects=False)
    assert response.status == 302  # 30 days at most, then a new sign-in
    clock.advance(days=1)
    await sign_in(client, "layar1")
    clock.advance(minutes=31)  # idle like any other session: a wall that stopped polling is signed out
    assert (await client.get("/dinding", allow_redirects=False)).status == 302


async def test_a_disabled_user_cannot_sign_in_and_loses_an_open_session(
    client: Client, app: web.Application, users: UserStore
) -> None:
    await add_user(users, "agency", "bpbd1")
    await sign_in(client, "bpbd1")
    assert (await client.get("/opd")).status == 200

    await users.disable("bpbd1")
    assert (await client.get("/api/antrean")).status == 401
    async with TestClient(TestServer(app)) as other:
        refused = await sign_in(other, "bpbd1")
        assert refused.status == 401 and "dinonaktifkan" in await refused.text()
        assert "dinonaktifkan" not in await (await sign_in(other, "bpbd1", password="wrong-password")).text()


async def test_signing_out_ends_the_session_for_good(client: Client, app: web.Application, users: UserStore) -> None:
    await add_user(users, "admin")
    await sign_in(client, "admin")
    token = client.session.cookie_jar.filter_cookies(client.make_url("/"))[auth.SESSION_COOKIE].value
    csrf = await session_csrf(client, app)()

    response = await client.post("/keluar", data={"csrf_token": csrf}, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/masuk"
    replay = await client.get("/api/antrean", headers={"Cookie": f"{auth.SESSION_COOKIE}={token}"})
    assert replay.status == 401
    assert (await users.audit_entries(1))[0].action == "logout"


async def test_more_than_20_attempts_a_minute_from_one_address_get_429(
    client: Client, users: UserStore, clock: FakeClock
) -> None:
    token = await form_token(client)
    data = {"username": "nobody", "password": "x", "csrf_token": token}
    statuses = [(await client.post("/masuk", data=data)).status for _ in range(21)]
    assert statuses == [401] * 20 + [429]
    clock.advance(minutes=1)
    assert (await client.post("/masuk", data=data)).status == 401


async def test_the_sign_in_page_is_indonesian_first_and_english_on_request(client: Client) -> None:
    page = await (await client.get("/masuk")).text()
    assert all(word in page for word in ("Masuk", "Nama pengguna", "Kata sandi"))
    english = await (await client.get("/masuk?lang=en")).text()
    assert "Sign in" in english and "Kata sandi" not in english
    assert "Password" in await (await client.get("/masuk")).text()  # remembered in the lang cookie


ANONYMOUS = "anonymous"


async def test_every_route_answers_each_role_exactly_as_it_declares(app: web.Application, users: UserStore) -> None:
    sessions = {ANONYMOUS: ("", "")}
    for role in ROLES:
        user = await users.get_by_username(await add_user(users, role))
        assert user is not None
        new = await app[auth.AUTH].sessions.open(user.id)
        sessions[role] = (new.token, new.csrf_token)
    routes = [
        (r.method, r.resource.canonical, r.handler)
        for r in app.router.routes()
        if r.resource is not None and r.resource.canonical not in ("/masuk", "/masuk/kode", "/keluar")
    ]
    assert {path for _, path, _ in routes} == set(DUMMY_ROUTES)

    async with TestClient(TestServer(app), cookie_jar=aiohttp.DummyCookieJar()) as client:
        for method, path, handler in routes:
            allowed = auth.allowed_roles(path, handler)
            for who, (token, csrf) in sessions.items():
                headers = {"Cookie": f"{auth.SESSION_COOKIE}={token}", "X-CSRF-Token": csrf} if token else {}
                response = await client.request(method, path, headers=headers, allow_redirects=False)
                if allowed is None or who in allowed:
                    expected = 200
                elif who == ANONYMOUS:
                    expected = 302 if method == "GET" and not path.startswith("/api/") else 401
                else:
                    expected = 403
                assert response.status == expected, f"{method} {path} as {who}"
