"""HTTPS for the console: the certificate from ``[web] tls_cert``/``tls_key``, HSTS, and plain HTTP only on loopback.

Agency operators sign in from their own offices: their passwords and session cookies must not cross a network in
clear. So ``padang112 serve`` refuses to serve plain HTTP unless ``[web] insecure_http = true`` and it listens on a
loopback address (the test suite; a TLS-terminating proxy on the same machine). Session, sign-in and language
cookies are ``Secure`` unless that explicit exception is taken. Over HTTPS every answer carries
``Strict-Transport-Security``. ``padang112 tls selfsigned`` makes a self-signed certificate for the demo (at
install: scripts/setup.sh); production uses the city's own.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
import subprocess
from pathlib import Path

from aiohttp import web

from padang112 import privileges
from padang112.config import Settings, WebSettings

HSTS = "max-age=31536000"  # one year; no includeSubDomains: the console's host name is the city's to decide
SELF_SIGNED_DAYS = 825


class TlsConfigError(ValueError):
    """The console would serve passwords in clear, or its certificate cannot be loaded."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def secure_cookies(web_settings: WebSettings) -> bool:
    """Cookies carry ``Secure`` unless plain HTTP on loopback was asked for explicitly."""
    return bool(web_settings.tls_cert) or not web_settings.insecure_http


def server_context(web_settings: WebSettings) -> ssl.SSLContext | None:
    """The console's TLS context, or None for the explicit loopback-only plain-HTTP exception."""
    if web_settings.tls_cert or web_settings.tls_key:
        if not (web_settings.tls_cert and web_settings.tls_key):
            raise TlsConfigError("[web] tls_cert and tls_key go together")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            context.load_cert_chain(web_settings.tls_cert, web_settings.tls_key)
        except (OSError, ssl.SSLError) as exc:
            raise TlsConfigError(f"cannot load the console's certificate: {exc}") from None
        return context
    if web_settings.insecure_http and is_loopback(web_settings.host):
        return None
    if web_settings.insecure_http:
        raise TlsConfigError(
            f"plain HTTP is allowed on loopback only, not on {web_settings.host}: set [web] tls_cert and tls_key"
        )
    raise TlsConfigError(
        "the console serves HTTPS: set [web] tls_cert and tls_key (`padang112 tls selfsigned` makes a demo one), "
        "or, on a loopback address only, [web] insecure_http = true"
    )


async def _hsts(request: web.Request, response: web.StreamResponse) -> None:
    if request.secure:
        response.headers["Strict-Transport-Security"] = HSTS


def setup(app: web.Application) -> None:
    """Every answer over HTTPS (errors included) carries HSTS."""
    app.on_response_prepare.append(_hsts)


def self_signed(settings: Settings, hosts: list[str]) -> tuple[Path, Path]:
    """A self-signed certificate for the demo in ``<state_dir>/tls/`` (kept if present); returns (cert, key)."""
    directory = settings.state_dir / "tls"
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    cert, key = directory / "console.crt", directory / "console.key"
    if cert.exists() and key.exists():
        return cert, key
    names = ["localhost", "127.0.0.1", *hosts]
    alt = ",".join(f"IP:{n}" if _is_ip(n) else f"DNS:{n}" for n in dict.fromkeys(names))
    old = os.umask(0o077)
    try:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-days", str(SELF_SIGNED_DAYS), "-subj", "/O=padang112 demo/CN=padang112",
             "-addext", f"subjectAltName={alt}", "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True,
        )  # fmt: skip
    finally:
        os.umask(old)
    service = privileges.account(privileges.SERVICE_USER) if os.geteuid() == 0 else None
    if service is not None:
        for path in (directory, cert, key):
            os.chown(path, service.uid, service.gid)  # the console (as padang112) reads its key
    return cert, key


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True
