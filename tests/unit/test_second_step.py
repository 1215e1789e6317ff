"""The second sign-in step and the back-off kept in the database, on a small app with an injected clock.

What the live suite attacks over HTTP (tests/security/test_second_factor.py) is proven here step by step:
no session before the code, a code accepted once, wrong codes slowing the account down, a forged or stale
step cookie, ``web.require_totp``, and waits that outlive a restart (a new app on the same database file).
"""

from __future__ import annotations

import re

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112 import config
from padang112.accounts import totp
from padang112.accounts.backoff import FREE_FAILURES, LoginBackoff
from padang112.accounts.second_factor import SecondFactorStore
from padang112.storage import migrate
from padang112.storage.db import create_engine
from padang112.web import account_code, auth, login, second_step
from tests.unit.conftest import FakeClock, templated_app
from tests.unit.test_auth import PASSWORD, ok

Client = TestClient[web.Request, web.Application]
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_app(settings: config.Settings, engine: AsyncEngine, clock: FakeClock, *, require: bool = False):
    app = templated_app([auth.context_processor])
    policy = auth.AuthPolicy(secure_cookie=False, require_totp=require)
    login.setup(app, settings, engine=engine, clock=clock, policy=policy)
    app.router.add_get("/pengawas", auth.require("supervisor", "admin")(ok))
    app.router.add_get("/api/v1/me", auth.require()(ok))
    return app


async def post_password(client: Client, username: str, password: str = PASSWORD) -> aiohttp.ClientResponse:
    token = TOKEN.search(await (await client.get("/masuk")).text())
    assert token
    form = {"username": username, "password": password, "csrf_token": token.group(1), "next": "/pengawas"}
    return await client.post("/masuk", data=form, allow_redirects=False)


async def post_code(client: Client, code: str) -> aiohttp.ClientResponse:
    page = await client.get("/masuk/kode")
    token = TOKEN.search(await page.text())
    assert token, await page.text()
    form = {"code": code, "csrf_token": token.group(1), "next": "/pengawas"}
    return await client.post("/masuk/kode", data=form, allow_redirects=False)


async def enrolled_supervisor(app: web.Application, name: str = "sinta") -> str:
    state = app[auth.AUTH]
    await state.users.create(name, role="supervisor", password=PASSWORD)
    return (await state.second_factor.enrol(name, by="test")).secret


async def test_no_session_before_the_code_and_the_code_opens_one(settings, engine, clock: FakeClock) -> None:
    app = make_app(settings, engine, clock)
    async with TestClient(TestServer(app)) as client:
        secret = await enrolled_supervisor(app)
        answer = await post_password(client, "sinta")
        assert (answer.status, answer.headers["Location"]) == (303, "/masuk/kode?next=%2Fpengawas")
        assert auth.SESSION_COOKIE not in answer.cookies
        for path in ("/pengawas", "/api/v1/me"):  # skipping the second step
            assert (await client.get(path, allow_redirects=False)).status in (302, 401)
        code = totp.code_at(secret, totp.step_at(clock()))
        done = await post_code(client, code)
        assert (done.status, done.headers["Location"]) == (303, "/pengawas")
        assert (await client.get("/pengawas")).status == 200
    actions = [
        (e.action, e.detail.get("reason"), e.detail.get("second_factor"))
        for e in await app[auth.AUTH].users.audit_entries()
    ]
    assert actions[:2] == [("login", None, "totp"), ("password_ok", None, None)]


async def test_a_code_is_accepted_once(settings, engine, clock: FakeClock) -> None:
    app = make_app(settings, engine, clock)
    secret = None
    async with TestClient(TestServer(app)) as first:
        secret = await enrolled_supervisor(app)
        code = totp.code_at(secret, totp.step_at(clock()))
        await post_password(first, "sinta")
        assert (await post_code(first, code)).status == 303
    clock.advance(seconds=10)
    async with TestClient(TestServer(app)) as second:
        await post_password(second, "sinta")
        assert (await post_code(second, code)).status == 401
        assert (await second.get("/pengawas", allow_redirects=False)).status == 302
    [replayed] = [e for e in await app[auth.AUTH].users.audit_entries() if e.detail.get("reason") == "replayed_code"]
    assert replayed.username == "sinta"


async def test_wrong_codes_make_the_account_wait_even_for_the_right_code(settings, engine, clock) -> None:
    app = make_app(settings, engine, clock)
    async with TestClient(TestServer(app)) as client:
        secret = await enrolled_supervisor(app)
        await post_password(client, "sinta")
        right = totp.code_at(secret, totp.step_at(clock()))
        wrong = f"{(int(right) + 1) % 10**6:06d}"
        for _ in range(FREE_FAILURES):
            assert (await post_code(client, wrong)).status == 401
        assert (await post_code(client, right)).status == 401  # waiting: not even looked at
        clock.advance(minutes=5, seconds=1)
        await post_password(client, "sinta")  # the step cookie lasts 5 minutes
        fresh = totp.code_at(secret, totp.step_at(clock()))
        assert (await post_code(client, fresh)).status == 303


async def test_a_forged_or_stale_step_cookie_opens_nothing(settings, engine, clock: FakeClock) -> None:
    app = make_app(settings, engine, clock)
    async with TestClient(TestServer(app)) as client:
        secret = await enrolled_supervisor(app)
        admin = await app[auth.AUTH].users.create("budi", role="admin", password=PASSWORD)
        await post_password(client, "sinta")
        cookie = client.session.cookie_jar.filter_cookies(client.make_url("/masuk/kode"))[second_step.STEP_COOKIE]
        _uid, issued, mac = cookie.value.split(".")
        client.session.cookie_jar.clear()
        forged = {"Cookie": f"{second_step.STEP_COOKIE}={admin.id}.{issued}.{mac}"}  # the other account's id
        answer = await client.get("/masuk/kode", headers=forged, allow_redirects=False)
        assert (answer.status, answer.headers["Location"]) == (303, "/masuk")
        clock.advance(seconds=second_step.STEP_LIFETIME + 1)
        code = totp.code_at(secret, totp.step_at(clock()))
        stale = {"Cookie": f"{second_step.STEP_COOKIE}={cookie.value}"}
        answer = await client.post("/masuk/kode", data={"code": code}, headers=stale, allow_redirects=False)
        assert (answer.status, answer.headers["Location"]) == (303, "/masuk")
        assert auth.SESSION_COOKIE not in answer.cookies


async def test_required_second_factor_refuses_unenrolled_admins_only(settings, engine, clock) -> None:
    app = make_app(settings, engine, clock, require=True)
    async with TestClient(TestServer(app)) as client:
        users = app[auth.AUTH].users
        await users.create("budi", role="admin", password=PASSWORD)
        await users.create("rina", role="call_taker", password=PASSWORD)
        refused = await post_password(client, "budi")
        assert refused.status == 401 and "totp-enrol" in await refused.text()
        assert (await post_password(client, "rina")).status == 303


async def test_enrolling_and_resetting_end_sessions_and_are_audited(settings, engine, clock) -> None:
    app = make_app(settings, engine, clock)
    store: SecondFactorStore = app[auth.AUTH].second_factor
    async with TestClient(TestServer(app)) as client:
        await app[auth.AUTH].users.create("sinta", role="supervisor", password=PASSWORD)
        assert (await post_password(client, "sinta")).status == 303
        assert (await client.get("/pengawas")).status == 200
        await store.enrol("sinta", by="cli:root")
        assert (await client.get("/pengawas", allow_redirects=False)).status == 302
        await store.reset("sinta", by="cli:root")
    actions = [(e.action, e.detail.get("by")) for e in await app[auth.AUTH].users.audit_entries()][:2]
    assert actions == [("totp_reset", "cli:root"), ("totp_enrolled", "cli:root")]


async def test_password_waits_survive_a_restart(settings, db_url: str, clock: FakeClock) -> None:
    await migrate.upgrade_async(db_url)
    engine = create_engine(db_url)
    try:
        before = LoginBackoff(engine, clock)
        for _ in range(FREE_FAILURES):
            await before.failed("rina", "127.0.0.61")
        assert await before.waiting("rina", "127.0.0.61")
    finally:
        await engine.dispose()
    engine = create_engine(db_url)  # as a restarted console would
    try:
        after = LoginBackoff(engine, clock)
        assert await after.waiting("rina", "127.0.0.61") and not await after.waiting("rina", "127.0.0.62")
        clock.advance(minutes=5, seconds=1)
        assert not await after.waiting("rina", "127.0.0.61")
        await after.failed("rina", "127.0.0.61")  # the 6th failure: 10 minutes now
        clock.advance(minutes=9)
        assert await after.waiting("rina", "127.0.0.61")
    finally:
        await engine.dispose()


async def test_a_supervisor_enrols_from_the_console_with_password_and_code(settings, engine, clock) -> None:
    app = make_app(settings, engine, clock)
    account_code.setup(app)
    async with TestClient(TestServer(app)) as client:
        await app[auth.AUTH].users.create("sinta", role="supervisor", password=PASSWORD)
        assert (await post_password(client, "sinta")).status == 303
        page = await (await client.get("/akun/kode")).text()
        hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page))
        secret = hidden["secret"]
        assert f"otpauth://totp/Padang112:sinta?secret={secret}" in page and totp.grouped(secret) in page

        async def confirm(**fields: str) -> aiohttp.ClientResponse:
            return await client.post("/akun/kode", data={**hidden, **fields}, allow_redirects=False)

        code = totp.code_at(secret, totp.step_at(clock()))
        assert (await confirm(password="not-the-password", code=code)).status == 400
        planted = totp.new_secret()  # a secret of the attacker's choosing, with the binding of the shown one
        assert (await confirm(secret=planted, password=PASSWORD, code=code)).status == 400
        assert (await confirm(password=PASSWORD, code="000000" if code != "000000" else "111111")).status == 400
        done = await confirm(password=PASSWORD, code=code)
        assert (done.status, done.headers["Location"]) == (303, "/akun/kode")
        assert "Kode verifikasi aktif" in await (await client.get("/akun/kode")).text()  # a new session

    async with TestClient(TestServer(app)) as client:
        assert (await post_password(client, "sinta")).headers["Location"].startswith("/masuk/kode")
        assert (await post_code(client, code)).status == 401  # the enrolment's code is used up
        clock.advance(seconds=totp.STEP_S)
        assert (await post_code(client, totp.code_at(secret, totp.step_at(clock())))).status == 303
    reasons = [e.detail.get("reason") for e in await app[auth.AUTH].users.audit_entries() if "enrol" in e.action]
    assert reasons == [None, "wrong_code", "wrong_password"]  # newest first; the planted secret never got this far
