"""SIP over TLS with SRTP for seats and duty phones, as rendered into pjsip.conf (an option, off by default)."""

from __future__ import annotations

from pathlib import Path

import pytest

from padang112 import config
from padang112.pbx import confparse, render, sip_tls
from padang112.web import tls
from tests.unit.test_pbx_render import _secrets


def _settings(tmp_path: Path, **asterisk: str) -> config.Settings:
    env = {f"PADANG112_ASTERISK__{k.upper()}": v for k, v in asterisk.items()}
    return config.load(environ={"PADANG112_STATE_DIR": str(tmp_path), **env})


def _pjsip(settings: config.Settings) -> tuple[dict[str, str], dict]:
    files = render.render_all(settings, _secrets(settings))
    return files, confparse.parse(files["pjsip.conf"])


def test_off_by_default_every_phone_on_udp_without_srtp(tmp_path: Path) -> None:
    files, pjsip = _pjsip(_settings(tmp_path))
    assert list(confparse.by_type(pjsip, "transport")) == ["transport-udp"]
    for endpoint in confparse.by_type(pjsip, "endpoint").values():
        assert endpoint.get("transport") == "transport-udp" and endpoint.get("media_encryption") is None
    assert sip_tls.CERT_FILE not in files


def test_secure_phones_register_over_tls_and_use_srtp_only(tmp_path: Path) -> None:
    cert, key = tls.self_signed(_settings(tmp_path), [])
    settings = _settings(
        tmp_path, sip_tls_port="5061", tls_cert=str(cert), tls_key=str(key), secure_phones="seat01,duty-damkar"
    )
    files, pjsip = _pjsip(settings)
    transport = confparse.by_type(pjsip, "transport")["transport-tls"]
    assert (transport.get("protocol"), transport.get("bind"), transport.get("method")) == (
        "tls",
        "127.0.0.1:5061",
        "tlsv1_2",
    )
    assert transport.get("cert_file") == f"/srv/padang112/main/etc/{sip_tls.CERT_FILE}"
    assert files[sip_tls.KEY_FILE] == key.read_text()  # copied where the chroot's Asterisk reads it
    endpoints = confparse.by_type(pjsip, "endpoint")
    for name in ("seat01", "duty-damkar"):
        assert endpoints[name].get("media_encryption") == "sdes"
        assert endpoints[name].get("media_encryption_optimistic") == "no"
        assert endpoints[name].get("transport") is None  # reached over the transport it registered with (TLS)
    assert (
        endpoints["seat02"].get("transport") == "transport-udp" and endpoints["seat02"].get("media_encryption") is None
    )
    assert endpoints["telkomsel"].get("transport") == "transport-udp"  # carriers keep UDP


def test_all_phones_with_a_star_and_carriers_never(tmp_path: Path) -> None:
    cert, key = tls.self_signed(_settings(tmp_path), [])
    settings = _settings(tmp_path, sip_tls_port="5061", tls_cert=str(cert), tls_key=str(key), secure_phones="*")
    _, pjsip = _pjsip(settings)
    endpoints = confparse.by_type(pjsip, "endpoint")
    phones = set(settings.seats) | set(settings.duty_phones.values())
    assert {n for n, e in endpoints.items() if e.get("media_encryption") == "sdes"} == phones


@pytest.mark.parametrize(
    "values",
    [
        {"secure_phones": "seat01"},  # SRTP keys would cross in clear
        {"sip_tls_port": "5061"},  # no certificate
        {"sip_tls_port": "5060", "tls_cert": "c", "tls_key": "k"},  # the UDP port
        {"sip_tls_port": "5061", "tls_cert": "c", "tls_key": "k", "secure_phones": "seat99"},
    ],
)
def test_inconsistent_tls_settings_are_refused(tmp_path: Path, values: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        _pjsip(_settings(tmp_path, **values))
