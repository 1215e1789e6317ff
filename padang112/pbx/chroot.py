"""Run Asterisk instances in the Debian sid chroot: ``padang112 asterisk install|start|stop|status|render``.

The CLI actions take the settings and return an exit code, print ``[asterisk] ...`` progress lines and turn
failures into one clear message instead of a traceback. Tests and the controller use the Python API:
``is_running``, ``asterisk_rx``, ``instance_dir``, ``pid``, ``registered_seats``.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from padang112 import config, privileges
from padang112.pbx import bootstrap, prompts, users
from padang112.pbx import render as _render
from padang112.pbx.bootstrap import CHROOT_ENV, InstallError, log
from padang112.pbx.layout import ASTERISK_BIN, Layout, instance_dir, layout

__all__ = [
    "AsteriskError",
    "asterisk_rx",
    "install",
    "instance_dir",
    "is_running",
    "pid",
    "prepare",
    "registered_seats",
    "render",
    "start",
    "status",
    "stop",
]

BOOT_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0


class AsteriskError(RuntimeError):
    """The switch could not be reached or refused a command."""


def _action(func: Callable[[config.Settings], int]) -> Callable[[config.Settings], int]:
    """CLI wrapper: known failures become one ``[asterisk] error:`` line and exit code 1."""

    @functools.wraps(func)
    def wrapper(settings: config.Settings) -> int:
        try:
            return func(settings)
        except (InstallError, AsteriskError, OSError, ValueError, RuntimeError) as exc:
            print(f"[asterisk] error: {exc}", file=sys.stderr, flush=True)
            return 1

    return wrapper


def _require_root() -> None:
    if os.geteuid() != 0:
        raise InstallError("must run as root (chroot and mount need it)")


def installed(settings: config.Settings) -> bool:
    """The chroot holds Asterisk (``install`` has run; instances then only need ``start``)."""
    lay = layout(settings)
    return (lay.root / ASTERISK_BIN.relative_to("/")).exists()


def _require_installed(lay: Layout) -> None:
    if not (lay.root / ASTERISK_BIN.relative_to("/")).exists():
        raise InstallError(f"no Asterisk in {lay.root}: run `padang112 asterisk install` first")


# ---- Python API ----------------------------------------------------------------------------------------


def is_running(settings: config.Settings) -> bool:
    """True when the instance's control socket accepts a connection (cheap: no subprocess)."""
    path = layout(settings).ctl_socket
    if not path.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(2.0)
        try:
            sock.connect(str(path))
        except OSError:
            return False
    return True


def asterisk_rx(settings: config.Settings, command: str, timeout: float = 15.0) -> str:
    """Run one CLI command on the instance (``asterisk -rx``) and return its output."""
    lay = layout(settings)
    cmd = ["chroot", str(lay.root), str(ASTERISK_BIN), "-C", str(lay.conf), "-rx", command]
    try:
        proc = subprocess.run(
            cmd, env=CHROOT_ENV, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired as exc:
        raise AsteriskError(f"`{command}` timed out after {timeout:.0f} s") from exc
    out = proc.stdout
    if proc.returncode != 0 or out.startswith("Unable to connect to remote asterisk"):
        raise AsteriskError(f"`{command}` failed on instance {lay.instance}: {(out + proc.stderr).strip()}")
    return out


def pid(settings: config.Settings) -> int | None:
    """Process id of the running instance (from its pid file), or None."""
    try:
        value = int(layout(settings).pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    return value if _alive(value) else None


def registered_seats(settings: config.Settings) -> dict[str, str]:
    """Seat -> contact status (``Avail``, ``Unavail``, ...) from ``pjsip show contacts``."""
    seats = set(settings.seats)
    found: dict[str, str] = {}
    for line in asterisk_rx(settings, "pjsip show contacts").splitlines():
        words = line.split()
        if len(words) >= 4 and words[0] == "Contact:":
            aor = words[1].split("/", 1)[0]
            if aor in seats:
                found[aor] = words[3]
    return found


def _alive(value: int) -> bool:
    try:
        os.kill(value, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{value}/comm").read_text().strip() == "asterisk"
    except FileNotFoundError:  # it ended since the signal 0 (a stop or kill waiting on it), unless there is no /proc
        return not Path("/proc/self").exists()


# ---- instance preparation --------------------------------------------------------------------------------


def _write_config(settings: config.Settings, lay: Layout) -> list[Path]:
    uid, gid = (-1, -1)
    passwd = lay.root / "etc/passwd"
    if os.geteuid() == 0 and passwd.exists():
        with contextlib.suppress(InstallError):
            uid, gid = bootstrap.asterisk_ids(lay.root)
    return _render.render_instance(settings, settings.secrets(), uid, gid)


def _prepare_dirs(settings: config.Settings, lay: Layout) -> tuple[int, int]:
    uid, gid = bootstrap.asterisk_ids(lay.root)
    lay.instance_dir.mkdir(parents=True, exist_ok=True)
    for inner in lay.writable_dirs:
        path = lay.host(inner)
        if not bootstrap.is_mount_point(path):
            path.mkdir(parents=True, exist_ok=True)
            os.chown(path, uid, gid)
    privileges.harden_recordings(Path(settings.recordings_dir), uid)
    privileges.harden_logs(lay.host(lay.log))
    return uid, gid


def _mount_recordings(settings: config.Settings, lay: Layout) -> None:
    """Bind-mount the project's recordings dir where ARI and MixMonitor write (spool/recording)."""
    source = Path(settings.recordings_dir).resolve()
    target = lay.recording_dir
    if bootstrap.is_mount_point(target):
        if os.path.samefile(target, source):
            return
        bootstrap.run(["umount", "-l", str(target)], f"unmount stale {target}")
    bootstrap.run(["mount", "--bind", str(source), str(target)], f"bind-mount {source} on {target}")


def _unmount_all(lay: Layout) -> None:
    for mount_point in bootstrap.mounts_below(lay.instance_dir):
        subprocess.run(["umount", str(mount_point)], capture_output=True)
        if bootstrap.is_mount_point(mount_point):
            bootstrap.run(["umount", "-l", str(mount_point)], f"unmount {mount_point}")
        log(f"unmounted {mount_point}")


# ---- CLI actions -----------------------------------------------------------------------------------------


@_action
def install(settings: config.Settings) -> int:
    """Chroot, packages, voice prompts, this instance's directories and configuration. Idempotent."""
    started = time.monotonic()
    root = bootstrap.make_chroot(settings)
    users.ensure_asterisk_user(root)  # before the package would pick an id of its own (see users.py)
    bootstrap.install_packages(root)
    lay = layout(settings)
    bootstrap.ensure_host_tools({"espeak-ng": "espeak-ng", "sox": "sox"})
    where = prompts.install(lay.root, log=log)
    log(f"voice prompts in {where} (sound padang112/<name>)")
    _prepare_dirs(settings, lay)
    _write_config(settings, lay)
    log(
        f"Asterisk {bootstrap.chroot_version(lay.root)} ready in {lay.root} "
        f"(instance {lay.instance}: {time.monotonic() - started:.0f} s); start it with `padang112 asterisk start`"
    )
    return 0


@_action
def render(settings: config.Settings) -> int:
    lay = layout(settings)
    changed = _write_config(settings, lay)
    log(f"configuration of instance {lay.instance} in {lay.etc_dir} ({len(changed)} file(s) changed)")
    return 0


def _prepared(settings: config.Settings) -> tuple[Layout, list[Path]]:
    """Directories, configuration and the recordings bind mount of an installed instance; the changed files."""
    _require_root()
    lay = layout(settings)
    _require_installed(lay)
    _prepare_dirs(settings, lay)
    changed = _write_config(settings, lay)
    _mount_recordings(settings, lay)
    return lay, changed


@_action
def prepare(settings: config.Settings) -> int:
    """Everything ``start`` does but starting Asterisk (systemd starts it in the foreground: ops/systemd/)."""
    lay, changed = _prepared(settings)
    log(f"instance {lay.instance} prepared ({len(changed)} configuration file(s) changed)")
    return 0


@_action
def start(settings: config.Settings) -> int:
    lay, changed = _prepared(settings)
    if is_running(settings):
        if changed:
            asterisk_rx(settings, "core reload")
            log(
                f"instance {lay.instance} already running; reloaded {len(changed)} changed file(s) "
                "(port changes need a restart)"
            )
        else:
            log(f"instance {lay.instance} already running (pid {pid(settings)})")
        return 0
    for stale in (lay.ctl_socket, lay.pid_file):
        stale.unlink(missing_ok=True)
    log(f"starting instance {lay.instance} (SIP {settings.asterisk.bind_address}:{settings.asterisk.sip_port})")
    subprocess.run(
        ["chroot", str(lay.root), str(ASTERISK_BIN), "-C", str(lay.conf), "-U", "asterisk", "-G", "asterisk"],
        env=CHROOT_ENV,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        check=True,
        timeout=30,
        umask=privileges.ASTERISK_UMASK,  # recordings 0640: the controller's group reads them, nobody else
    )  # asterisk daemonises: this returns once the background process is forked
    deadline = time.monotonic() + BOOT_TIMEOUT_S
    while True:
        if is_running(settings):
            try:
                asterisk_rx(settings, "core waitfullybooted", timeout=max(1.0, deadline - time.monotonic()))
                break
            except AsteriskError:
                pass
        if time.monotonic() > deadline:
            raise AsteriskError(
                f"instance {lay.instance} did not boot within {BOOT_TIMEOUT_S:.0f} s; see {lay.messages_log}"
            )
        time.sleep(0.2)
    log(f"instance {lay.instance} fully booted (pid {pid(settings)})")
    return 0


@_action
def stop(settings: config.Settings) -> int:
    _require_root()
    lay = layout(settings)
    process = pid(settings)
    if is_running(settings):
        log(f"stopping instance {lay.instance}")
        with contextlib.suppress(AsteriskError):  # the connection may drop as it exits
            asterisk_rx(settings, "core stop now", timeout=STOP_TIMEOUT_S)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while process is not None and _alive(process) and time.monotonic() < deadline:
        time.sleep(0.1)
    if process is not None and _alive(process):
        log(f"instance {lay.instance} (pid {process}) did not stop: SIGKILL")
        os.kill(process, signal.SIGKILL)
        time.sleep(0.5)
    for stale in (lay.ctl_socket, lay.pid_file):
        stale.unlink(missing_ok=True)
    _unmount_all(lay)
    log(f"instance {lay.instance} stopped")
    return 0


@_action
def status(settings: config.Settings) -> int:
    lay = layout(settings)
    ast = settings.asterisk
    ports = (
        f"SIP udp {ast.bind_address}:{ast.sip_port}, ARI {ast.ari_url}/ari, "
        f"AMI {ast.manager_address}:{ast.ami_port}, RTP {ast.rtp_start}-{ast.rtp_end}"
    )
    if not is_running(settings):
        print(f"asterisk instance {lay.instance}: not running ({lay.root})")
        return 3
    version = asterisk_rx(settings, "core show version").strip()
    seats = registered_seats(settings)
    online = sorted(s for s, state in seats.items() if state.lower().startswith("avail"))
    print(f"asterisk instance {lay.instance}: running, pid {pid(settings)}")
    print(f"  {version}")
    print(f"  {ports}")
    print(f"  config {lay.etc_dir}, recordings {settings.recordings_dir}")
    print(f"  seats registered: {len(online)}/{len(settings.seats)}" + (f" ({', '.join(online)})" if online else ""))
    return 0
