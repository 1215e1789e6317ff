"""``padang112 doctor``: each go-live check on its own (machine probes replaced), then the report and exit code."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from padang112 import config
from padang112.ops import checks, checks_network, doctor
from padang112.ops.checks_base import FAIL, OK, WARN, make
from padang112.ops.manifest import Manifest, write


def test_ports_held_by_another_program_fail_and_ours_pass(settings: config.Settings) -> None:
    assert checks_network.ports(settings, free=lambda *a: True).status == OK
    held = checks_network.ports(settings, free=lambda *a: False, ours=lambda *a: True)
    assert held.status == OK
    foreign = checks_network.ports(settings, free=lambda *a: False, ours=lambda *a: False)
    assert foreign.status == FAIL and "8080" in foreign.message["en"] and foreign.fix is not None


def test_a_port_really_taken_is_found(settings: config.Settings) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        settings.web.port = squatter.getsockname()[1]
        result = checks_network.ports(settings)
    assert result.status == FAIL and f"127.0.0.1:{settings.web.port}" in result.message["id"]


def test_carriers_need_their_own_valid_address(settings: config.Settings) -> None:
    assert checks_network.carriers(settings).status == OK
    settings.carriers = [config.Carrier("telkom", "127.0.0.11"), config.Carrier("xl", "127.0.0.11")]
    assert checks_network.carriers(settings).status == FAIL
    settings.carriers = [config.Carrier("telkom", "not-an-ip")]
    assert "not-an-ip" in checks_network.carriers(settings).message["en"]
    settings.carriers = [config.Carrier("telkom", "0.0.0.0")]
    assert checks_network.carriers(settings).status == FAIL


def test_certificates_expired_soon_or_fine(settings: config.Settings) -> None:
    now = 1_800_000_000.0
    settings.operations.tls_certificates = ("/etc/p112/console.pem",)
    days = lambda d: lambda path: now + d * 86400  # noqa: E731
    assert checks_network.certificates(settings, days(90), now).status == OK
    assert checks_network.certificates(settings, days(10), now).status == WARN
    assert checks_network.certificates(settings, days(-1), now).status == FAIL


def test_a_real_certificate_is_read_with_openssl(tmp_path: Path) -> None:
    import subprocess

    key, cert = tmp_path / "k.pem", tmp_path / "c.pem"
    made = subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "45",
            "-subj",
            "/CN=padang112.local",
        ],
        capture_output=True,
    )
    if made.returncode != 0:
        pytest.skip("openssl cannot make a test certificate here")
    assert 44 < (checks_network.cert_not_after(cert) - time.time()) / 86400 <= 45
    with pytest.raises(ValueError):
        checks_network.cert_not_after(key)


def test_disk_below_the_minimum_fails(settings: config.Settings) -> None:
    assert checks.disk(settings, usage=lambda p: (100, 50, 50)).status == OK
    low = checks.disk(settings, usage=lambda p: (100, 90, 10))
    assert low.status == FAIL and "10%" in low.message["en"]


def test_clock_not_synchronized_fails() -> None:
    assert checks.clock(lambda: True).status == OK
    assert checks.clock(lambda: False).status == FAIL
    assert isinstance(checks.kernel_clock_synced(), bool)  # the real adjtimex answers


def test_asterisk_must_be_22(settings: config.Settings) -> None:
    assert checks.asterisk_version(settings, lambda s: "1:22.10.1+dfsg-1").status == OK
    assert checks.asterisk_version(settings, lambda s: "1:20.5.0-1").status == FAIL
    assert "asterisk install" in (checks.asterisk_version(settings, lambda s: "?").fix or {})["en"]


def test_secrets_readable_by_others_fail(settings: config.Settings) -> None:
    assert checks.secrets_file(settings).status == FAIL  # not generated yet
    settings.secrets()
    assert checks.secrets_file(settings).status == OK
    os.chmod(settings.secrets_path, 0o644)
    result = checks.secrets_file(settings)
    assert result.status == FAIL and result.fix == {"id": f"chmod 600 {settings.secrets_path}"} | {
        "en": f"chmod 600 {settings.secrets_path}"
    }


def test_backups_must_exist_be_intact_and_recent(settings: config.Settings, tmp_path: Path) -> None:
    settings.operations.backup_dir = tmp_path / "backups"
    assert checks.backups(settings).status == FAIL
    newest = settings.operations.backup_dir / "20261202"
    newest.mkdir(parents=True)
    write(newest, Manifest("2026-12-02T00:00:00+00:00", {"kind": "sqlite"}, [], {"calls": 7}))
    assert checks.backups(settings).status == OK
    assert checks.backups(settings, now=time.time() + 27 * 3600).status == FAIL
    (newest / "MANIFEST.json").write_text("{}")
    assert "damaged" in checks.backups(settings).message["en"]


def test_doctor_prints_what_to_fix_and_fails_only_on_a_failure() -> None:
    results = [make("a", OK, "baik", "fine"), make("b", WARN, "awas", "careful", "x", "do x")]
    lines, code = doctor.render(results, "en")
    assert code == 0 and lines[-1] == "0 failed, 1 warnings" and "fix: do x" in lines[2]
    lines, code = doctor.render([*results, make("c", FAIL, "rusak", "broken", "perbaiki c", "fix c")], "id")
    assert code == 1 and "[GAGAL] c" in lines[3] and "perbaiki: perbaiki c" in lines[4]
    assert lines[-1] == "1 gagal, 1 peringatan"
