"""The web console in a real browser (Debian's Chromium through Playwright).

The console pages are served by the running controller (``controller`` fixture). The escaping test needs no
Asterisk: it serves its own jinja2 page, so it proves what a browser does with an escaped hostile string,
independent of the console.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import jinja2
import pytest
from aiohttp import web
from playwright.async_api import Browser, Page, expect

from padang112.simulator import fleet

HOSTILE = "<script>window.__pwned=1</script>"
# The trusted inline script shows that JavaScript does run on the page, so the absence of __pwned means the
# hostile value was not executed, not that scripts were off.
PROBE_TEMPLATE = """<!doctype html>
<html lang="id"><head><meta charset="utf-8"><title>Uji escape</title></head>
<body><h1>Penelepon</h1><p id="caller">{{ caller }}</p><script>window.__trusted = 1;</script></body></html>
"""


@pytest.mark.live
async def test_console_sends_a_visitor_without_a_session_to_the_sign_in_form(controller, page: Page):
    response = await page.goto(controller.base_url + "/")
    assert response is not None and response.ok, f"GET / answered {response and response.status}"
    assert urlsplit(page.url).path == "/masuk", f"/ without a session went to {page.url}, not the sign-in form"

    await expect(page).to_have_title(re.compile("Masuk"))
    await expect(page.get_by_role("heading", name="Padang Command Center 112", level=1)).to_be_visible()
    await expect(page.get_by_role("heading", name="Masuk", level=2)).to_be_visible()
    await expect(page.get_by_label("Nama pengguna")).to_be_visible()
    await expect(page.get_by_label("Nama pengguna")).to_be_focused()
    await expect(page.get_by_label("Kata sandi")).to_have_attribute("type", "password")
    await expect(page.get_by_role("button", name="Masuk")).to_be_enabled()


@pytest.mark.live
async def test_healthz_answers_ok_in_the_browser_without_signing_in(controller, page: Page):
    response = await page.goto(controller.base_url + "/healthz")
    assert response is not None and response.status == 200
    assert urlsplit(page.url).path == "/healthz"
    assert await response.json() == {"status": "ok"}


def _probe_app(autoescape: bool) -> web.Application:
    template = jinja2.Environment(autoescape=autoescape).from_string(PROBE_TEMPLATE)

    async def caller(request: web.Request) -> web.Response:
        return web.Response(text=template.render(caller=HOSTILE), content_type="text/html")

    app = web.Application()
    app.router.add_get("/", caller)
    return app


@pytest.fixture
async def probe_site() -> AsyncIterator[dict[bool, str]]:
    """Two local pages rendering ``HOSTILE``: {True: autoescaped page URL, False: unescaped page URL}."""
    runners: list[web.AppRunner] = []
    urls: dict[bool, str] = {}
    try:
        for autoescape in (True, False):
            runner = web.AppRunner(_probe_app(autoescape))
            await runner.setup()
            runners.append(runner)
            site = web.TCPSite(runner, "127.0.0.1", 0)  # port 0: the kernel picks a free one
            await site.start()
            host, port = runner.addresses[0][:2]
            urls[autoescape] = f"http://{host}:{port}/"
        yield urls
    finally:
        for runner in runners:
            await runner.cleanup()


async def test_browser_runs_no_script_from_an_autoescaped_value(page: Page, browser: Browser, probe_site):
    await page.goto(probe_site[True])

    assert await page.evaluate("window.__trusted") == 1, "JavaScript did not run at all: the check proves nothing"
    assert await page.evaluate("typeof window.__pwned") == "undefined"
    await expect(page.locator("#caller")).to_have_text(HOSTILE)  # shown literally, as the caller sent it

    # Control: the same value left unescaped does run, so the check above would catch a missing escape.
    context = await browser.new_context()
    try:
        control = await context.new_page()
        await control.goto(probe_site[False])
        assert await control.evaluate("window.__pwned") == 1
    finally:
        await context.close()


def add_account(settings, username: str, role: str, password: str, agency: str | None = None) -> None:
    """Create a console account the way an operator does: ``padang112 user add ... --password-stdin``."""
    env = dict(os.environ, PADANG112_CONFIG=str(settings.config_path))
    extra = ["--agency", agency] if agency else []
    done = subprocess.run(
        [sys.executable, "-m", "padang112.cli", "user", "add", username, "--role", role, *extra, "--password-stdin"],
        input=password + "\n",
        text=True,
        env=env,
        capture_output=True,
    )
    assert done.returncode == 0, done.stderr


async def sign_in(page: Page, base_url: str, username: str, password: str) -> None:
    await page.goto(base_url + "/")
    await page.get_by_label("Nama pengguna").fill(username)
    await page.get_by_label("Kata sandi").fill(password)
    await page.get_by_role("button", name="Masuk").click()


@pytest.mark.live
async def test_a_signed_in_supervisor_sees_a_waiting_caller_whose_script_caller_id_shows_as_text(
    controller, live_settings, simulator, page: Page
):
    password = secrets.token_urlsafe(12)
    add_account(live_settings, "joni", "supervisor", password)
    citizen = await simulator("citizen")
    hostile = "<script>window.__pwned=1</script>"
    await citizen.call(
        "x1",
        fleet.target_uri(live_settings),
        bind=fleet.carrier_address(live_settings, "telkomsel"),
        caller="+6281600000001",
        caller_name=hostile,
    )
    await citizen.wait_call_state("x1", "CONFIRMED", 10)

    await sign_in(page, controller.base_url, "joni", password)
    await expect(page).to_have_url(re.compile("/supervisor$"))
    waiting = page.locator("#waiting tbody tr")
    await expect(waiting.filter(has_text="+6281600000001")).to_have_count(1)
    await expect(page.get_by_role("cell", name=hostile)).to_be_visible()  # shown as text, not run
    assert await page.evaluate("typeof window.__pwned") == "undefined"
    await citizen.hangup("x1")
    await expect(waiting.filter(has_text="+6281600000001")).to_have_count(0)


@pytest.mark.live
async def test_english_chosen_on_one_page_stays_for_the_next(controller, live_settings, page: Page):
    password = secrets.token_urlsafe(12)
    add_account(live_settings, "sup_en", "supervisor", password)
    await sign_in(page, controller.base_url, "sup_en", password)
    await page.wait_for_url("**/supervisor")
    await expect(page.get_by_role("heading", name="Antrean (0)")).to_be_visible()
    await page.get_by_role("link", name="English").click()
    await expect(page.get_by_role("heading", name="Queue (0)")).to_be_visible()
    await page.goto(controller.base_url + "/riwayat")
    await expect(page.get_by_role("heading", name="Call history")).to_be_visible()
