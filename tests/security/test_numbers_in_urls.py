"""Issue 10 item 13: a caller's number is never put in a URL (access logs, browser history, proxies).

Attack surface: the supervisor's call history. After a real call from a fresh number, a supervisor searches
for it in Chromium (the form, then the language switch) and over the API. Every URL the browser requested, and
every line the controller logged meanwhile, is read back: none may hold any form of the number. A client that
still puts ``?number=`` into a URL is refused, not served. (The console writes no access log of its own; a
reverse proxy in front would log exactly the URLs checked here.)
"""

from __future__ import annotations

import secrets

import pytest

from tests.integration.test_console_page import sign_in
from tests.security.conftest import page_csrf
from tests.security.test_prank_marks import abandoned_call

pytestmark = pytest.mark.live


def forms_of(number: str) -> tuple[str, ...]:
    local = "0" + number[3:]
    return number, number.lstrip("+"), "%2B" + number[1:], local, number[3:]


async def test_searching_a_callers_number_puts_it_in_no_url_and_no_log(
    asterisk, controller, repo, live_settings, make_account, signed_in, page
) -> None:
    number = f"+62815{secrets.randbelow(10**7):07d}"
    call = await abandoned_call(asterisk, repo, live_settings, number)
    log_start = controller.log_path.stat().st_size
    supervisor = make_account("supervisor")

    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    await sign_in(page, controller.base_url, supervisor.username, supervisor.password)
    await page.wait_for_url(lambda url: "/masuk" not in url)
    await page.goto(controller.base_url + "/riwayat")
    await page.get_by_label("Nomor", exact=True).fill(number)
    await page.get_by_role("button", name="Cari").click()
    await page.get_by_role("cell", name=number, exact=True).wait_for()  # found: the one call from that number
    urls.append(page.url)
    await page.get_by_role("link", name="English").click()
    await page.get_by_role("heading", name="Call history").wait_for()
    urls.append(page.url)

    http = await signed_in(supervisor, "127.0.0.79")
    csrf = {"X-CSRF-Token": await page_csrf(http, "/supervisor")}
    async with http.post("/api/v1/calls/search", json={"number": number}, headers=csrf) as found:
        assert found.status == 200 and [c["id"] for c in (await found.json())["calls"]] == [call.id]
    async with http.get("/api/v1/calls", params={"number": number}) as refused:
        assert refused.status == 400 and (await refused.json())["parameter"] == "number_in_url"
    async with http.get("/riwayat", params={"number": number}) as refused_page:
        page_text = await refused_page.text()
        assert refused_page.status == 400 and "URL" in page_text and number not in page_text

    assert any("/riwayat" in url for url in urls), urls
    leaked = [url for url in urls if any(form in url for form in forms_of(number))]
    assert not leaked, f"URLs carrying the number: {leaked}"
    written = controller.log_path.read_bytes()[log_start:].decode(errors="replace")
    assert not [form for form in forms_of(number) if form in written], "the number is in the controller's log"
