"""The console serves HTTPS, or plain HTTP only on loopback when asked explicitly; cookies are Secure by default."""

from __future__ import annotations

import ssl
import stat
from pathlib import Path

import pytest

from padang112 import config
from padang112.web import tls


def web(**values: object) -> config.WebSettings:
    return config.WebSettings(**values)  # type: ignore[arg-type]


def test_plain_http_is_refused_unless_asked_for_on_loopback() -> None:
    with pytest.raises(tls.TlsConfigError, match="HTTPS"):
        tls.server_context(web())
    for host in ("0.0.0.0", "10.20.0.5", "console.padang.go.id"):
        with pytest.raises(tls.TlsConfigError, match="loopback"):
            tls.server_context(web(host=host, insecure_http=True))
    assert tls.server_context(web(host="127.0.0.1", insecure_http=True)) is None
    assert tls.server_context(web(host="::1", insecure_http=True)) is None


def test_cookies_are_secure_unless_plain_http_was_asked_for() -> None:
    assert tls.secure_cookies(web())
    assert tls.secure_cookies(web(tls_cert="c.pem", tls_key="k.pem", insecure_http=True))
    assert not tls.secure_cookies(web(insecure_http=True))


def test_a_self_signed_certificate_serves_tls(tmp_path: Path) -> None:
    settings = config.load(environ={"PADANG112_STATE_DIR": str(tmp_path)})
    cert, key = tls.self_signed(settings, ["padang112.local"])
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    context = tls.server_context(web(host="0.0.0.0", tls_cert=str(cert), tls_key=str(key)))
    assert isinstance(context, ssl.SSLContext) and context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert tls.self_signed(settings, []) == (cert, key)  # kept
    with pytest.raises(tls.TlsConfigError, match="together"):
        tls.server_context(web(tls_cert=str(cert)))
    with pytest.raises(tls.TlsConfigError, match="certificate"):
        tls.server_context(web(tls_cert=str(key), tls_key=str(cert)))
