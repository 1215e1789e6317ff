"""The console over HTTPS, against a live controller: TLS with the install's self-signed certificate, HSTS, Secure
cookies on sign-in, no plain HTTP on the TLS port, and a console that refuses to serve plain HTTP off loopback.

The rest of the live suite talks plain HTTP on loopback (``[web] insecure_http``, tests/conftest.py); this test
stops the session's controller and runs one with ``tls_cert``/``tls_key`` for its duration."""

from __future__ import annotations

import os
import re
import ssl
import subprocess
import sys

import aiohttp
import pytest

from padang112.web import tls
from tests.fixtures.controller import ControllerProcess

pytestmark = pytest.mark.live

FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class HttpsController(ControllerProcess):
    def __init__(self, settings, log_path, ca: ssl.SSLContext) -> None:
        super().__init__(settings, log_path)
        self.base_url = self.base_url.replace("http://", "https://")
        self.ca = ca

    async def http_status(self, path: str) -> int | None:
        try:
            async with aiohttp.ClientSession() as session:
                async with session.get(self.base_url + path, ssl=self.ca, timeout=aiohttp.ClientTimeout(total=2)) as r:
                    return r.status
        except (TimeoutError, aiohttp.ClientError, OSError):
            return None


async def test_the_console_serves_https_with_hsts_and_secure_cookies(
    no_controller, live_settings, artefacts_dir, monkeypatch
):
    cert, key = tls.self_signed(live_settings, [])
    monkeypatch.setenv("PADANG112_WEB__TLS_CERT", str(cert))
    monkeypatch.setenv("PADANG112_WEB__TLS_KEY", str(key))
    ca = ssl.create_default_context(cafile=str(cert))
    proc = HttpsController(live_settings, artefacts_dir / "controller-tls.log", ca)
    await proc.start()
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.get(proc.base_url + "/masuk", ssl=ca) as page:
                assert page.status == 200
                assert page.headers["Strict-Transport-Security"].startswith("max-age=")
                assert "Secure" in page.headers.get("Set-Cookie", "")  # the sign-in form's nonce cookie
            async with http.get(proc.base_url + "/api/v1/callbacks", ssl=ca) as refused:  # errors too carry HSTS
                assert refused.status == 401 and "Strict-Transport-Security" in refused.headers
        # plain HTTP to the console's port gets no page
        async with aiohttp.ClientSession() as http:
            with pytest.raises(aiohttp.ClientError):
                async with http.get(proc.base_url.replace("https://", "http://") + "/masuk") as r:
                    await r.read()
        # a client that checks certificates and does not know this one is refused (no silent downgrade)
        async with aiohttp.ClientSession() as http:
            with pytest.raises(aiohttp.ClientConnectorCertificateError):
                await http.get(proc.base_url + "/healthz")
    finally:
        proc.stop()


def test_the_console_refuses_plain_http_off_loopback(live_settings):
    env = dict(
        os.environ,
        PADANG112_CONFIG=str(live_settings.config_path),
        PADANG112_WEB__HOST="0.0.0.0",
        PADANG112_WEB__INSECURE_HTTP="true",
    )
    done = subprocess.run(
        [sys.executable, "-m", "padang112.cli", "serve"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "plain HTTP is allowed on loopback only" in done.stdout + done.stderr
