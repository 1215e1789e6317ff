"""Helpers of the security suite: each test attacks the live console (``controller`` fixture) over HTTP.

Every test signs in from a loopback address of its own (127.0.0.x), so the per-address sign-in limit and
back-off of one test never touch another (nor the browser tests, which come from 127.0.0.1).
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass

import aiohttp
import pytest

from tests.integration.test_console_page import add_account

FORM_TOKEN = re.compile(r'<input type="hidden" name="csrf_token" value="([^"]+)"')
CSRF_SCRIPT = re.compile(r'<script type="application/json" id="csrf">(.*?)</script>', re.DOTALL)
ERROR_BOX = re.compile(r'<div class="error" role="alert">(.*?)</div>', re.DOTALL)
TIMEOUT = aiohttp.ClientTimeout(total=20)


@dataclass
class Account:
    username: str
    password: str
    role: str


def client(base_url: str, address: str) -> aiohttp.ClientSession:
    """A browser-like client (cookies kept for an IP host) from loopback ``address``."""
    return aiohttp.ClientSession(
        base_url=base_url,
        cookie_jar=aiohttp.CookieJar(unsafe=True),
        timeout=TIMEOUT,
        connector=aiohttp.TCPConnector(local_addr=(address, 0)),
    )


@dataclass
class Answer:
    status: int
    headers: Mapping[str, str]
    text: str
    seconds: float  # the POST alone


async def post_sign_in(
    http: aiohttp.ClientSession,
    username: str,
    password: str,
    *,
    next_path: str = "/",
    headers: dict[str, str] | None = None,
    **extra: str,
) -> Answer:
    """Fetch the form (its token) and post it, as the sign-in page does."""
    async with http.get("/masuk") as page:
        token = FORM_TOKEN.search(await page.text())
    assert token, "no form token on /masuk"
    form = {"username": username, "password": password, "csrf_token": token.group(1), "next": next_path, **extra}
    started = time.monotonic()
    async with http.post("/masuk", data=form, headers=headers, allow_redirects=False) as response:
        text = await response.text()
        return Answer(response.status, response.headers, text, time.monotonic() - started)


def error_text(page: str) -> str | None:
    found = ERROR_BOX.search(page)
    return found.group(1) if found else None


async def page_csrf(http: aiohttp.ClientSession, path: str) -> str:
    async with http.get(path) as page:
        assert page.status == 200, f"{path} answered {page.status}"
        found = CSRF_SCRIPT.search(await page.text())
    assert found, f"no CSRF token on {path}"
    return str(json.loads(found.group(1)))


@pytest.fixture
def make_account(controller, live_settings) -> Callable[[str], Account]:
    """A new account of ``role`` (agency accounts are BPBD's), made with the CLI as an operator does."""

    def make(role: str) -> Account:
        account = Account(f"sec-{role.replace('_', '-')}-{secrets.token_hex(3)}", secrets.token_urlsafe(12), role)
        add_account(
            live_settings, account.username, role, account.password, agency="bpbd" if role == "agency" else None
        )
        return account

    return make


@pytest.fixture
async def signed_in(controller) -> AsyncIterator[Callable[[Account, str], Awaitable[aiohttp.ClientSession]]]:
    """``await signed_in(account, address)``: a client signed in as ``account`` from ``address``."""
    opened: list[aiohttp.ClientSession] = []

    async def sign_in(account: Account, address: str) -> aiohttp.ClientSession:
        http = client(controller.base_url, address)
        opened.append(http)
        done = await post_sign_in(http, account.username, account.password)
        assert done.status == 303, f"signing in {account.username} answered {done.status}"
        return http

    yield sign_in
    for http in opened:
        await http.close()
