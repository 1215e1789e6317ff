"""Issue 10 item 12: security headers on every answer, malformed JSON refused with 400, the wall sees counts.

Attacks: frame the console or run an injected inline script (the CSP must forbid both), read the library
version from ``Server``; post ``1e400``, ``NaN`` and a 100 000-deep array where JSON is read (used to be 500);
read incident details with the wall's kiosk account over REST and ``/ws``.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.security.conftest import client, page_csrf

pytestmark = pytest.mark.live

HOSTILE_BODIES = ("1e400", '{"text": 1e400}', '{"x": NaN}', '{"x": -Infinity}', "[" * 100_000 + "]" * 100_000)
INCIDENT = {
    "type_code": "flood",
    "priority": 3,
    "kecamatan": "Padang Barat",
    "caller_name": "Pelapor Rahasia",
    "callback_number": "081299990001",
    "location_text": "Jl. Sudirman 1",
    "description": "banjir setinggi lutut",
    "agencies": ["bpbd"],
    "source": "walk_in",
}


def csp_directives(header: str) -> dict[str, str]:
    return {part.split()[0]: part.strip()[len(part.split()[0]) :].strip() for part in header.split(";") if part.strip()}


async def test_every_answer_carries_the_security_headers(controller, make_account, signed_in) -> None:
    http = await signed_in(make_account("supervisor"), "127.0.0.71")
    async with client(controller.base_url, "127.0.0.71") as anonymous:
        for who, path in (
            (anonymous, "/masuk"),
            (anonymous, "/healthz"),
            (anonymous, "/static/live.js"),
            (anonymous, "/api/v1/me"),  # 401
            (anonymous, "/no-such-page"),  # 404 from the router
            (http, "/supervisor"),
            (http, "/api/v1/room"),
        ):
            async with who.get(path, allow_redirects=False) as r:
                csp = csp_directives(r.headers.get("Content-Security-Policy", ""))
                assert csp.get("script-src") == "'self'", (path, csp)  # no 'unsafe-inline', no other origin
                assert csp.get("frame-ancestors") == "'none'", path
                assert csp.get("object-src") == "'none'" and csp.get("base-uri") == "'none'", path
                assert r.headers.get("X-Content-Type-Options") == "nosniff", path
                assert r.headers.get("Referrer-Policy") == "no-referrer", path
                assert r.headers.get("Server") == "padang112", (path, r.headers.get("Server"))
    # a request aiohttp cannot even parse is answered before any application code runs
    reader, writer = await asyncio.open_connection(controller.settings.web.host, controller.settings.web.port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n")
    await writer.drain()
    head = (await reader.read(4096)).decode(errors="replace")
    writer.close()
    assert "aiohttp" not in head.lower() and "python" not in head.lower(), head


async def test_hostile_json_gets_400_everywhere_json_is_read(make_account, signed_in) -> None:
    supervisor = make_account("supervisor")
    http = await signed_in(supervisor, "127.0.0.72")
    csrf = await page_csrf(http, "/supervisor")
    headers = {"X-CSRF-Token": csrf, "Content-Type": "application/json"}
    for path in ("/api/v1/incidents", "/api/v1/prank-clearances", "/api/v1/seats/nobody/pause"):
        for body in HOSTILE_BODIES:
            async with http.post(path, data=body, headers=headers) as r:
                assert r.status == 400, (path, body[:20], r.status)
                assert (await r.json())["error"] == "bad_json"


async def test_the_wall_kiosk_gets_counts_never_incident_details(make_account, signed_in) -> None:
    supervisor = await signed_in(make_account("supervisor"), "127.0.0.73")
    csrf = await page_csrf(supervisor, "/supervisor")
    wall = await signed_in(make_account("wall"), "127.0.0.74")
    async with wall.ws_connect("/ws") as ws:
        assert (await ws.receive_json(timeout=5))["type"] == "hello"
        async with supervisor.post("/api/v1/incidents", json=INCIDENT, headers={"X-CSRF-Token": csrf}) as made:
            assert made.status == 201, await made.text()
        pushed = [await ws.receive_json(timeout=5)]
        while True:  # whatever else arrives within a second
            try:
                pushed.append(await ws.receive_json(timeout=1))
            except TimeoutError:
                break
    async with wall.get("/api/v1/incidents") as r:
        assert r.status == 403
    async with wall.get("/api/v1/incident-count") as r:
        assert r.status == 200
        body = await r.json()
    assert set(body) == {"open"} and isinstance(body["open"], int) and body["open"] >= 1
    seen = json.dumps([body, *pushed])
    for secret in ("Pelapor Rahasia", "081299990001", "Jl. Sudirman"):
        assert secret not in seen, f"the wall received {secret!r}"
    assert {"type": "incidents_changed"} in pushed


async def test_the_console_refuses_to_be_framed_in_a_browser(controller, browser) -> None:
    """A page of another origin frames the sign-in form: Chromium must refuse to show it."""
    context = await browser.new_context()
    page = await context.new_page()
    try:
        await page.set_content(f'<iframe id="f" src="{controller.base_url}/masuk"></iframe>')
        await page.wait_for_timeout(1500)
        frame = page.frame_locator("#f")
        assert await frame.locator("input[name=username]").count() == 0
    finally:
        await context.close()


async def test_an_inline_script_injected_into_a_page_does_not_run(controller, browser) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        await page.goto(controller.base_url + "/masuk")
        await page.evaluate(
            "() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1';"
            " document.body.appendChild(s); }"
        )
        assert await page.evaluate("() => window.__ran") is None
        assert violations, "Chromium reported no CSP refusal"
    finally:
        await context.close()
