"""Issue 10 item 14 (TOTP) and the persisted back-off: attacks on the second sign-in step, on the live console.

An admin enrols a supervisor's second factor with ``padang112 user totp-enrol`` (as an operator does), then:
a wrong code, a code used a second time, pages and API called straight after the password step (skipping the
code), codes guessed from two addresses, and the recovery ``totp-reset``. Last, a guesser's password back-off
must survive a restart of the console.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from yarl import URL

from padang112.accounts import totp
from padang112.accounts.backoff import FREE_FAILURES
from padang112.accounts.users import UserStore
from padang112.storage.db import create_engine
from padang112.web import auth, second_step
from tests.integration.test_console_page import sign_in as sign_in_page
from tests.security.conftest import FORM_TOKEN, client, post_sign_in

pytestmark = pytest.mark.live
SECRET_LINE = re.compile(r"secret: ([A-Z2-7 ]+)\n")


def user_cli(settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PADANG112_CONFIG=str(settings.config_path))
    return subprocess.run(
        [sys.executable, "-m", "padang112.cli", "user", *args], text=True, env=env, capture_output=True
    )


def enrol(settings, username: str) -> str:
    done = user_cli(settings, "totp-enrol", username)
    assert done.returncode == 0, done.stderr
    found = SECRET_LINE.search(done.stdout)
    assert found and "otpauth://totp/Padang112:" in done.stdout, done.stdout
    return found.group(1).replace(" ", "")


def now_code(secret: str) -> str:
    return totp.code_at(secret, totp.step_at(datetime.now(UTC)))


async def post_code(http, code: str) -> int:
    async with http.get("/masuk/kode") as page:
        token = FORM_TOKEN.search(await page.text())
    assert token, "no form token on /masuk/kode"
    form = {"code": code, "csrf_token": token.group(1)}
    async with http.post("/masuk/kode", data=form, allow_redirects=False) as answer:
        return answer.status


async def signed_in(http) -> bool:
    async with http.get("/api/v1/me") as me:
        return me.status == 200


async def audit(settings, username: str) -> list[tuple[str, str | None]]:
    engine = create_engine(settings.db_url)
    try:
        rows = await UserStore(engine).audit_entries(limit=500)
    finally:
        await engine.dispose()
    return [(r.action, r.detail.get("reason")) for r in reversed(rows) if r.username == username]


def wrong(code: str) -> str:
    return f"{(int(code) + 500_000) % 10**6:06d}"


async def test_a_wrong_code_and_a_replayed_code_open_no_session(controller, live_settings, make_account) -> None:
    boss = make_account("supervisor")
    secret = enrol(live_settings, boss.username)
    async with client(controller.base_url, "127.0.0.71") as http:
        step = await post_sign_in(http, boss.username, boss.password)
        assert (step.status, step.headers["Location"]) == (303, "/masuk/kode")
        code = now_code(secret)
        assert await post_code(http, wrong(code)) == 401 and not await signed_in(http)
        assert await post_code(http, code) == 303 and await signed_in(http)
    async with client(controller.base_url, "127.0.0.72") as thief:  # who saw the code over the shoulder
        assert (await post_sign_in(thief, boss.username, boss.password)).status == 303
        assert await post_code(thief, code) == 401 and not await signed_in(thief)
    trail = await audit(live_settings, boss.username)
    assert [a for a in trail if a[0] != "user_created"] == [
        ("totp_enrolled", None),
        ("password_ok", None),
        ("login_failed", "wrong_code"),
        ("login", None),
        ("password_ok", None),
        ("login_failed", "replayed_code"),
    ]


async def test_pages_and_api_refuse_a_browser_that_skipped_the_code(controller, live_settings, make_account) -> None:
    admin = make_account("admin")
    enrol(live_settings, admin.username)
    async with client(controller.base_url, "127.0.0.73") as http:
        assert (await post_sign_in(http, admin.username, admin.password)).status == 303
        step_cookie = http.cookie_jar.filter_cookies(URL(controller.base_url + "/masuk/kode"))
        assert second_step.STEP_COOKIE in step_cookie and auth.SESSION_COOKIE not in step_cookie
        for path in ("/supervisor", "/riwayat", "/admin/kamera", "/"):
            async with http.get(path, allow_redirects=False) as page:
                assert page.status == 302 and page.headers["Location"].startswith("/masuk"), path
        upgrade = {"Upgrade": "websocket", "Connection": "Upgrade"}
        for path, headers in [("/api/v1/me", {}), ("/api/v1/room", {}), ("/api/v1/calls", {}), ("/ws", upgrade)]:
            async with http.get(path, headers=headers, allow_redirects=False) as api:
                assert api.status == 401, path
        async with http.post("/api/v1/calls/search", json={}) as api:
            assert api.status == 401
        # the step cookie's value presented as a session
        forged = {"Cookie": f"{auth.SESSION_COOKIE}={step_cookie[second_step.STEP_COOKIE].value}"}
        async with http.get("/api/v1/me", headers=forged) as api:
            assert api.status == 401


async def test_guessing_codes_slows_the_account_from_every_address(controller, live_settings, make_account) -> None:
    boss = make_account("supervisor")
    secret = enrol(live_settings, boss.username)
    async with client(controller.base_url, "127.0.0.74") as guesser:
        assert (await post_sign_in(guesser, boss.username, boss.password)).status == 303
        for i in range(FREE_FAILURES + 3):
            assert await post_code(guesser, f"{(i * 7919) % 10**6:06d}") == 401
    async with client(controller.base_url, "127.0.0.75") as other:  # another address, the right code
        assert (await post_sign_in(other, boss.username, boss.password)).status == 303
        assert await post_code(other, now_code(secret)) == 401 and not await signed_in(other)
    refused = [a for a in await audit(live_settings, boss.username) if a == ("login_refused", "backoff_code")]
    assert len(refused) == 4  # 3 guesses and the right code while waiting: none of them even checked


async def test_an_admin_resets_a_lost_second_factor_with_the_cli(controller, live_settings, make_account) -> None:
    boss = make_account("supervisor")
    enrol(live_settings, boss.username)
    done = user_cli(live_settings, "totp-reset", boss.username)
    assert done.returncode == 0, done.stderr
    async with client(controller.base_url, "127.0.0.76") as http:
        answer = await post_sign_in(http, boss.username, boss.password)
        assert (answer.status, answer.headers["Location"]) == (303, "/")
    call_taker = make_account("call_taker")
    refused = user_cli(live_settings, "totp-enrol", call_taker.username)
    assert refused.returncode == 2 and "admin, supervisor" in refused.stderr
    assert ("totp_reset", None) in await audit(live_settings, boss.username)


async def test_a_restart_does_not_reset_a_guessers_wait(controller, make_account) -> None:
    victim = make_account("call_taker")
    async with client(controller.base_url, "127.0.0.77") as guesser:
        for i in range(FREE_FAILURES):
            assert (await post_sign_in(guesser, victim.username, f"tebakan-{i}-salah")).status == 401
    controller.stop()
    await controller.start()
    async with client(controller.base_url, "127.0.0.77") as guesser:
        assert (await post_sign_in(guesser, victim.username, victim.password)).status == 401
    async with client(controller.base_url, "127.0.0.78") as desk:
        assert (await post_sign_in(desk, victim.username, victim.password)).status == 303


async def test_a_supervisor_turns_on_the_second_factor_in_chromium(controller, make_account, page) -> None:
    """The console page (no CSP refusal allowed by the browser fixture); afterwards the password alone is not enough."""
    boss = make_account("supervisor")
    await sign_in_page(page, controller.base_url, boss.username, boss.password)
    await page.wait_for_url(lambda url: "/masuk" not in url)
    await page.get_by_role("link", name="Kode verifikasi").click()
    secret = (await page.locator("code.totp-secret").text_content() or "").replace(" ", "")
    assert await page.locator("code.totp-uri").text_content() == totp.otpauth_uri(secret, boss.username)
    await page.get_by_label("Kata sandi").fill(boss.password)
    await page.get_by_label("Kode 6 angka").fill(now_code(secret))
    await page.get_by_role("button", name="Aktifkan").click()
    await page.locator("p.second-factor-active").wait_for()
    async with client(controller.base_url, "127.0.0.70") as http:
        step = await post_sign_in(http, boss.username, boss.password)
        assert (step.status, step.headers["Location"]) == (303, "/masuk/kode") and not await signed_in(http)
