"""The console over HTTPS, against a live controller: TLS with the install's self-signed certificate, HSTS, Secure
cookies on sign-in, no plain HTTP on the TLS port, and a console that refuses to serve plain HTTP off loopback.

The rest of the live suite talks plain HTTP on loopback (``[web] insecure_http``, tests/conftest.py); this test
stops the session's controller and runs one with ``tls_cert``/``tls_key`` for its duration."""

from __future__ import annotations

import json
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


REGISTER_OVER_TLS = r"""
import json, sys, time
import pjsua2 as pj
host, port, user, password, ca, verify = sys.argv[1:7]
ep = pj.Endpoint(); ep.libCreate()
cfg = pj.EpConfig(); cfg.uaConfig.threadCnt = 0; cfg.uaConfig.mainThreadOnly = True
cfg.logConfig.level = 0; cfg.logConfig.consoleLevel = 0
cfg.medConfig.srtpUse = pj.PJMEDIA_SRTP_MANDATORY
ep.libInit(cfg); ep.audDevManager().setNullDev()
tc = pj.TransportConfig(); tc.port = 0; tc.boundAddress = "127.0.0.1"
tc.tlsConfig.CaListFile = ca; tc.tlsConfig.verifyServer = verify == "1"
tc.tlsConfig.method = pj.PJSIP_TLSV1_2_METHOD
tid = ep.transportCreate(pj.PJSIP_TRANSPORT_TLS, tc)
ep.libStart()
acc_cfg = pj.AccountConfig()
acc_cfg.idUri = f"sip:{user}@{host}"
acc_cfg.regConfig.registrarUri = f"sip:{host}:{port};transport=tls"
acc_cfg.sipConfig.transportId = tid
acc_cfg.sipConfig.authCreds.append(pj.AuthCredInfo("digest", "*", user, 0, password))
acc_cfg.mediaConfig.srtpUse = pj.PJMEDIA_SRTP_MANDATORY
acc_cfg.mediaConfig.srtpSecureSignaling = 1
acc = pj.Account(); acc.create(acc_cfg)
deadline = time.time() + 10
code = 0
while time.time() < deadline:
    ep.libHandleEvents(50)
    info = acc.getInfo()
    code = info.regStatus
    if info.regIsActive or code >= 300:
        break
print(json.dumps({"code": code, "active": acc.getInfo().regIsActive}), flush=True)
acc.setRegistration(False)
for _ in range(20):
    ep.libHandleEvents(50)
acc.shutdown()
ep.libDestroy()
"""


def _register(live_settings, seat: str, password: str, verify: bool) -> dict:
    ast = live_settings.asterisk
    cert = live_settings.state_dir / "tls" / "console.crt"
    args = [ast.bind_address, str(ast.sip_tls_port), seat, password, str(cert), "1" if verify else "0"]
    done = subprocess.run([sys.executable, "-c", REGISTER_OVER_TLS, *args], capture_output=True, text=True, timeout=60)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, done.stdout + done.stderr
    return json.loads(lines[-1])


def test_a_secure_seat_registers_over_tls_and_a_wrong_password_does_not(asterisk, live_settings):
    from tests.conftest import TLS_SEAT

    password = asterisk.secrets.seat_passwords[TLS_SEAT]
    wrong = _register(live_settings, TLS_SEAT, password + "x", verify=True)
    assert not wrong["active"] and wrong["code"] in (401, 403)
    done = _register(live_settings, TLS_SEAT, password, verify=True)  # the server's certificate verified
    assert done == {"code": 200, "active": True}, done
    endpoint = asterisk.rx(f"pjsip show endpoint {TLS_SEAT}")
    assert "media_encryption" in endpoint and "sdes" in endpoint
