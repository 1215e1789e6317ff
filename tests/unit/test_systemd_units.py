"""ops/systemd/: units systemd itself accepts (``systemd-analyze verify``), with what issues 9, 10 and 12 need."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from padang112 import config
from padang112.pbx import taskprocessors

UNITS = config.PROJECT_ROOT / "ops" / "systemd"
INSTALL_DIR = "/opt/padang112"  # where the units expect the code (README, Operations)


def properties(name: str) -> dict[str, list[str]]:
    """``key -> values`` of a unit file (a key may repeat); comments and section headers skipped."""
    out: dict[str, list[str]] = {}
    for line in (UNITS / name).read_text().splitlines():
        if line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            out.setdefault(key, []).append(value)
    return out


def test_systemd_analyze_verify_accepts_every_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not installed (scripts/setup.sh installs systemd)")
    for unit in UNITS.iterdir():  # the code's real location here, so ExecStart= binaries exist
        (tmp_path / unit.name).write_text(unit.read_text().replace(INSTALL_DIR, str(config.PROJECT_ROOT)))
    names = sorted(p.name for p in tmp_path.iterdir())
    assert {"padang112.service", "padang112-asterisk.service"} <= set(names)
    done = subprocess.run(
        [analyze, "verify", *(f"./{n}" for n in names)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    complaints = [line for line in (done.stdout + done.stderr).splitlines() if "padang112" in line]
    assert done.returncode == 0 and complaints == [], done.stdout + done.stderr


def test_the_controller_is_a_watched_non_root_notify_service_back_within_two_seconds() -> None:
    unit = properties("padang112.service")
    assert unit["Type"] == ["notify"] and unit["NotifyAccess"] == ["main"]
    assert unit["User"] == ["padang112"] and unit["Group"] == ["padang112"]
    assert unit["Restart"] == ["always"] and unit["RestartSec"] == ["1"]
    assert unit["StartLimitIntervalSec"] == ["0"]
    assert 0 < int(unit["WatchdogSec"][0]) <= 30
    assert unit["ExecStart"] == [f"{INSTALL_DIR}/.venv/bin/padang112 serve"]


def test_the_controller_runs_sandboxed() -> None:
    unit = properties("padang112.service")
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "PrivateTmp": "yes",
        "ProtectHome": "yes",
        "ProtectProc": "invisible",  # ffmpeg's command line (camera passwords) hidden from other users
        "CapabilityBoundingSet": "",
        "AmbientCapabilities": "",
        "RestrictSUIDSGID": "yes",
    }.items():
        assert unit[key] == [value], key
    writable = unit["ReadWritePaths"][0].split()
    settings = config.load(environ={})
    assert str(settings.state_dir) in writable and str(settings.operations.backup_dir) in writable
    assert "/srv/padang112/recordings" in writable  # the production recordings_dir in README's example


def test_asterisk_runs_in_its_chroot_in_the_foreground_and_always_comes_back() -> None:
    unit = properties("padang112-asterisk.service")
    settings = config.load(environ={})
    [start] = unit["ExecStart"]
    assert start.startswith(f"/usr/sbin/chroot {settings.asterisk.root} /usr/sbin/asterisk -f ")
    assert "-U asterisk -G asterisk" in start
    assert unit["ExecStartPre"] == [f"{INSTALL_DIR}/.venv/bin/padang112 asterisk prepare"]
    assert unit["Restart"] == ["always"] and unit["RestartSec"] == ["1"]
    assert "Before" in unit and "padang112.service" in unit["Before"][0]


def test_the_taskprocessor_exporter_serves_on_loopback_where_prometheus_scrapes_it() -> None:
    unit = properties("padang112-asterisk-taskprocessors.service")
    [start] = unit["ExecStart"]
    command, listen = start.split(" --listen ")
    assert command == f"{INSTALL_DIR}/.venv/bin/padang112 asterisk taskprocessors"
    host, port = taskprocessors.listen_address(listen)  # refuses anything but loopback
    scrape = yaml.safe_load((config.PROJECT_ROOT / "ops" / "prometheus" / "prometheus.yml").read_text())
    [job] = [job for job in scrape["scrape_configs"] if job["job_name"] == "asterisk-taskprocessors"]
    assert job["static_configs"] == [{"targets": [f"{host}:{port}"]}]
    # root only to enter the chroot and open Asterisk's control socket, as the switch's own unit does
    assert unit["CapabilityBoundingSet"] == ["CAP_SYS_CHROOT CAP_DAC_OVERRIDE"]
    assert unit["NoNewPrivileges"] == ["yes"] and unit["ProtectSystem"] == ["strict"]
    assert unit["IPAddressAllow"] == ["localhost"] and unit["IPAddressDeny"] == ["any"]
    assert unit["Restart"] == ["always"] and "padang112-asterisk.service" in unit["After"][0]


def test_the_sip_edge_runs_kamailio_in_the_foreground_and_always_comes_back() -> None:
    unit = properties("padang112-edge.service")
    settings = config.load(environ={})
    assert unit["ExecStart"] == [f"{INSTALL_DIR}/.venv/bin/padang112 edge run"]
    assert unit["Type"] == ["simple"] and unit["Restart"] == ["always"] and unit["RestartSec"] == ["1"]
    assert [f"/run/{name}" for name in unit["RuntimeDirectory"]] == [str(settings.edge.run_dir)]
    assert unit["ReadWritePaths"] == [str(settings.state_dir)]  # where it renders kamailio.cfg
