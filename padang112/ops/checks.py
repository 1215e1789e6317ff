"""The go-live checks of ``padang112 doctor``, one function each: settings (and probes) in, a ``Check`` out.

The network checks (ports, carriers, TLS) are in :mod:`padang112.ops.checks_network`.

Every message and fix is in Bahasa Indonesia and English. The probes that touch the machine (binding a port,
``adjtimex``, ``openssl``, Asterisk) are parameters with real defaults, so each check is unit-tested on its own.
"""

from __future__ import annotations

import ctypes
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from padang112.config import Settings
from padang112.ops.checks_base import FAIL, OK, WARN, Check, make
from padang112.ops.checks_network import carriers, certificates, ports
from padang112.ops.manifest import MANIFEST, BackupError, read

# ---- disk --------------------------------------------------------------------------------------------------


def disk(settings: Settings, usage: Callable[[Path], tuple[int, int, int]] = shutil.disk_usage) -> Check:
    minimum = settings.operations.min_disk_free_pct
    low, report = [], []
    for path in (Path(settings.recordings_dir), settings.state_dir):
        probe = path if path.exists() else path.parent
        total, _used, free = usage(probe)
        pct = 100.0 * free / total if total else 0.0
        report.append(f"{path} {pct:.0f}% ({free / 1e9:.1f} GB)")
        if pct < minimum:
            low.append(f"{path} {pct:.0f}%")
    if low:
        return make(
            "disk",
            FAIL,
            f"ruang disk < {minimum:.0f}%: {', '.join(low)}",
            f"disk free < {minimum:.0f}%: {', '.join(low)}",
            "tambah disk, atau pindahkan cadangan lama; periksa [retention]",
            "add disk, move old backups away; check [retention]",
        )
    return make("disk", OK, f"ruang bebas: {', '.join(report)}", f"free space: {', '.join(report)}")


# ---- clock -------------------------------------------------------------------------------------------------

TIME_ERROR = 5  # adjtimex(2): the kernel clock is not synchronized
_TIMEX_SIZE = 512  # struct timex is 208 bytes on x86-64: room to spare


def kernel_clock_synced() -> bool:
    """What ``timedatectl``'s NTPSynchronized reports, read straight from the kernel (``adjtimex``, modes 0)."""
    libc = ctypes.CDLL(None, use_errno=True)
    buffer = ctypes.create_string_buffer(_TIMEX_SIZE)
    state = libc.adjtimex(buffer)
    if state < 0:
        raise OSError(ctypes.get_errno(), "adjtimex failed")
    return bool(state != TIME_ERROR)


def clock(synced: Callable[[], bool] = kernel_clock_synced) -> Check:
    try:
        ok = synced()
    except OSError as exc:
        return make("clock", WARN, f"status jam tidak terbaca: {exc}", f"clock state unreadable: {exc}")
    if not ok:
        return make(
            "clock",
            FAIL,
            "jam tidak tersinkron (NTP)",
            "clock not synchronized (NTP)",
            "pasang dan jalankan chrony atau systemd-timesyncd; waktu panggilan dan laporan bergantung padanya",
            "install and run chrony or systemd-timesyncd: call times and reports depend on it",
        )
    return make("clock", OK, "jam tersinkron", "clock synchronized")


# ---- Asterisk ----------------------------------------------------------------------------------------------


def asterisk_version(settings: Settings, version: Callable[[Settings], str] | None = None) -> Check:
    if version is None:
        from padang112.pbx import bootstrap

        version = lambda s: bootstrap.chroot_version(s.asterisk.root)  # noqa: E731
    found = version(settings).strip()
    major = found.split(":")[-1].split(".")[0]
    if not major.isdigit():
        return make(
            "asterisk",
            FAIL,
            f"Asterisk tidak terpasang di {settings.asterisk.root}",
            f"Asterisk not installed in {settings.asterisk.root}",
            "jalankan: padang112 asterisk install",
            "run: padang112 asterisk install",
        )
    if int(major) != 22:
        return make(
            "asterisk",
            FAIL,
            f"Asterisk {found}, dibutuhkan 22",
            f"Asterisk {found}, 22 is required",
            "pasang ulang: padang112 asterisk install",
            "reinstall: padang112 asterisk install",
        )
    return make("asterisk", OK, f"Asterisk {found}", f"Asterisk {found}")


# ---- secrets -----------------------------------------------------------------------------------------------


def secrets_file(settings: Settings) -> Check:
    path = settings.secrets_path
    if not path.exists():
        return make(
            "secrets",
            FAIL,
            f"{path} belum ada",
            f"{path} does not exist",
            "jalankan: padang112 secrets",
            "run: padang112 secrets",
        )
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        return make(
            "secrets",
            FAIL,
            f"{path} dapat dibaca orang lain (mode {mode:o})",
            f"{path} is readable by others (mode {mode:o})",
            f"chmod 600 {path}",
            f"chmod 600 {path}",
        )
    return make("secrets", OK, f"{path} mode {mode:o}", f"{path} mode {mode:o}")


# ---- backups -----------------------------------------------------------------------------------------------


def backups(settings: Settings, now: float | None = None) -> Check:
    ops = settings.operations
    now = time.time() if now is None else now
    found = (
        sorted((p.parent for p in ops.backup_dir.glob(f"*/{MANIFEST}")), key=lambda d: (d / MANIFEST).stat().st_mtime)
        if ops.backup_dir.is_dir()
        else []
    )
    fix = (
        f"jalankan: padang112 backup {ops.backup_dir}/<tanggal>; aktifkan padang112-backup.timer",
        f"run: padang112 backup {ops.backup_dir}/<date>; enable padang112-backup.timer",
    )
    if not found:
        return make("backups", FAIL, f"tidak ada cadangan di {ops.backup_dir}", f"no backup in {ops.backup_dir}", *fix)
    newest = found[-1]
    try:
        manifest = read(newest)
    except BackupError as exc:
        return make("backups", FAIL, f"cadangan terbaru rusak: {exc}", f"newest backup damaged: {exc}", *fix)
    age_h = (now - (newest / MANIFEST).stat().st_mtime) / 3600
    if age_h > ops.backup_max_age_h:
        return make(
            "backups",
            FAIL,
            f"cadangan terbaru {newest.name} berumur {age_h:.0f} jam",
            f"newest backup {newest.name} is {age_h:.0f} h old",
            *fix,
        )
    calls = json.dumps(manifest.counts.get("calls", "?"))
    return make(
        "backups",
        OK,
        f"cadangan {newest.name} ({age_h:.1f} jam, {calls} panggilan)",
        f"backup {newest.name} ({age_h:.1f} h, {calls} calls)",
    )


def local_checks(settings: Settings) -> list[Check]:
    """Every check, in the order doctor prints them."""
    return [
        ports(settings),
        carriers(settings),
        certificates(settings),
        disk(settings),
        clock(),
        asterisk_version(settings),
        secrets_file(settings),
        backups(settings),
    ]
