"""Issue 10 item 5: ``next`` after sign-in never leads off the site.

Each payload is tried both ways a browser meets it: ``GET /masuk?next=...`` with a live session (answered with
a redirect at once) and the sign-in form posted with it. The ``Location`` must be a path on this site: one
``/`` and no second ``/`` or ``\\`` after it, no control characters (browsers drop tabs and newlines, so
``/<TAB>/evil.example`` is read as ``//evil.example``).
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from tests.security.conftest import client, post_sign_in

pytestmark = pytest.mark.live

PAYLOADS = (
    "/\t/evil.example/",
    "/\n/evil.example/",
    "/\r/evil.example/",
    "//evil.example/",
    "/\\evil.example/",
    "\\/evil.example/",
    "/\\/evil.example/",
    "https://evil.example/",
    "javascript:alert(1)",
    " /\t/evil.example",
    "/%09/evil.example/",  # stays a path on this site once escaped
)
LOCAL = re.compile(r"/(?![/\\])[\x21-\x7e]*")


def assert_local(location: str, payload: str) -> None:
    assert LOCAL.fullmatch(location), f"next={payload!r} redirected to {location!r}"


async def test_open_redirect_payloads_stay_on_the_site(controller, make_account) -> None:
    account = make_account("supervisor")
    async with client(controller.base_url, "127.0.0.51") as http:
        for payload in PAYLOADS:
            http.cookie_jar.clear()  # signed out: the form itself, as after a redirect to /masuk
            done = await post_sign_in(http, account.username, account.password, next_path=payload)
            assert done.status == 303, payload
            assert_local(done.headers["Location"], payload)
        for payload in PAYLOADS:  # signed in now: /masuk sends the browser on at once
            async with http.get("/masuk?next=" + quote(payload, safe=""), allow_redirects=False) as page:
                assert page.status == 303, payload
                assert_local(page.headers["Location"], payload)
        async with http.get("/masuk?next=/riwayat%3Flang%3Den", allow_redirects=False) as page:
            assert page.headers["Location"] == "/riwayat?lang=en"  # a real page path still works
