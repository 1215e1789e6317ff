"""SIP over TLS with SRTP for seats and duty phones (an option: ``[asterisk] sip_tls_port``, ``secure_phones``).

With ``sip_tls_port`` set, Asterisk also listens for SIP over TLS on the SIP address, with the certificate
``[asterisk] tls_cert``/``tls_key`` copied into the instance's configuration directory (the chroot cannot see the
host's paths). Phones named in ``secure_phones`` (or all seats and duty phones with ``"*"``) get
``media_encryption = sdes`` (SRTP, keys exchanged in the TLS-protected SDP) with no fallback to plain RTP, and no
fixed UDP transport: Asterisk reaches them over the transport they registered with (TLS). Carrier trunks keep UDP.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from padang112 import config

CERT_FILE = "padang112-sip.crt"
KEY_FILE = "padang112-sip.key"
ALL = "*"


def enabled(settings: config.Settings) -> bool:
    return settings.asterisk.sip_tls_port > 0


def secure(settings: config.Settings, phone: str) -> bool:
    """Does ``phone`` (a seat or duty phone) use TLS and SRTP?"""
    wanted = settings.asterisk.secure_phones
    return enabled(settings) and (ALL in wanted or phone in wanted)


def check(settings: config.Settings) -> None:
    ast = settings.asterisk
    if ast.secure_phones and not enabled(settings):
        raise ValueError("[asterisk] secure_phones needs sip_tls_port (SRTP keys must not cross in clear)")
    if enabled(settings):
        if not (ast.tls_cert and ast.tls_key):
            raise ValueError("[asterisk] sip_tls_port needs tls_cert and tls_key")
        if ast.sip_tls_port in (ast.sip_port, ast.http_port, ast.ami_port) or not 0 < ast.sip_tls_port < 65536:
            raise ValueError(f"[asterisk] sip_tls_port {ast.sip_tls_port}: a free port of its own")
        phones = set(settings.seats) | set(settings.duty_phones.values())
        unknown = set(ast.secure_phones) - phones - {ALL}
        if unknown:
            raise ValueError(f"[asterisk] secure_phones names no seat or duty phone: {sorted(unknown)}")


def template_context(settings: config.Settings, etc: PurePosixPath) -> dict[str, Any]:
    return {
        "enabled": enabled(settings),
        "port": settings.asterisk.sip_tls_port,
        "cert": str(etc / CERT_FILE),
        "key": str(etc / KEY_FILE),
    }


def files(settings: config.Settings) -> dict[str, str]:
    """The certificate and key, as files of the instance's configuration directory (written 0640, group asterisk)."""
    if not enabled(settings):
        return {}
    ast = settings.asterisk
    return {CERT_FILE: Path(ast.tls_cert).read_text(), KEY_FILE: Path(ast.tls_key).read_text()}
