"""Build the Debian sid chroot that runs Asterisk 22 (Debian 12 itself has no asterisk package).

Each step checks whether it is already done, so ``padang112 asterisk install`` can be run again at any time.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

from padang112 import config

SUITE = "sid"
PACKAGES = ("asterisk", "asterisk-modules", "asterisk-core-sounds-en", "asterisk-moh-opsound-wav")
# sid's Release file can be "expired" relative to this machine's clock (snapshot mirrors, frozen clocks)
APT_OPTS = ("-o", "Acquire::Check-Valid-Until=false", "-o", "Dpkg::Use-Pty=0")
CHROOT_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "DEBIAN_FRONTEND": "noninteractive",
    "LANG": "C.UTF-8",
    "HOME": "/root",
}
HOST_SOURCES = (Path("/etc/apt/sources.list.d/debian.sources"), Path("/etc/apt/sources.list"))


class InstallError(RuntimeError):
    """A step failed; the message says what to do (printed without a traceback)."""


def log(message: str) -> None:
    print(f"[asterisk] {message}", flush=True)


def run(cmd: list[str], what: str, env: dict[str, str] | None = None, quiet: bool = True) -> str:
    """Run a command; on failure raise InstallError with the tail of its output."""
    proc = subprocess.run(cmd, env=env, capture_output=quiet, text=True)
    if proc.returncode != 0:
        tail = ((proc.stdout or "") + (proc.stderr or "")).strip().splitlines()[-15:]
        raise InstallError(f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n  " + "\n  ".join(tail))
    return proc.stdout or ""


def host_mirror() -> str:
    """The Debian archive URL of the host's own apt configuration (never a hard-coded host name)."""
    deb822, legacy = HOST_SOURCES
    if deb822.exists():
        for stanza in re.split(r"\n\s*\n", deb822.read_text()):
            fields: dict[str, str] = {}
            for line in stanza.splitlines():
                if line.startswith("#") or ":" not in line:
                    continue
                key, _, value = line.partition(":")
                fields[key.strip().lower()] = value.strip()
            suites = fields.get("suites", "").split()
            if "deb" in fields.get("types", "").split() and suites and not all("security" in s for s in suites):
                return fields.get("uris", "").split()[0]
    if legacy.exists():
        for line in legacy.read_text().splitlines():
            words = re.sub(r"\[[^]]*\]", " ", line).split()
            if len(words) >= 3 and words[0] == "deb" and "security" not in words[2]:
                return words[1]
    raise InstallError("cannot find a Debian mirror in the host's apt sources; set [asterisk] mirror in the config")


def ensure_host_tools(tools: dict[str, str]) -> None:
    """Install host packages for missing commands, e.g. {"debootstrap": "debootstrap"}."""
    missing = sorted({pkg for cmd, pkg in tools.items() if shutil.which(cmd) is None})
    if missing:
        log(f"installing {' '.join(missing)} on the host (apt-get)")
        run(
            ["apt-get", "install", "-y", *missing],
            f"apt-get install {' '.join(missing)}",
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )


def mounts_below(path: Path) -> list[Path]:
    """Mount points at or below ``path`` (from /proc/self/mounts), deepest first."""
    base = str(path.resolve()) if path.exists() else str(path)
    found: list[Path] = []
    with open("/proc/self/mounts") as fh:
        for line in fh:
            target = line.split()[1].replace("\\040", " ")
            if target == base or target.startswith(base.rstrip("/") + "/"):
                found.append(Path(target))
    return sorted(set(found), key=lambda p: len(p.parts), reverse=True)


def is_mount_point(path: Path) -> bool:
    """Like os.path.ismount, but also true for a bind mount within the same file system (same st_dev)."""
    return path.resolve() in mounts_below(path)


def debootstrap(root: Path, mirror: str) -> None:
    complete = (root / "usr/bin/apt-get").exists() and not (root / "debootstrap").exists()
    if complete:
        log(f"Debian {SUITE} chroot already at {root}")
        return
    if root.exists() and any(root.iterdir()):
        if mounts_below(root):
            raise InstallError(f"{root} holds an incomplete chroot with mounts inside; stop asterisk first")
        log(f"removing incomplete chroot {root}")
        shutil.rmtree(root)
    root.parent.mkdir(parents=True, exist_ok=True)
    log(f"debootstrap {SUITE} into {root} from {mirror} (about a minute)")
    started = time.monotonic()
    run(["debootstrap", "--variant=minbase", SUITE, str(root), mirror], "debootstrap")
    log(f"debootstrap done in {time.monotonic() - started:.0f} s")


def prepare_chroot(root: Path) -> None:
    """DNS for apt, the host's name in /etc/hosts, and no service start-up from package scripts."""
    etc = root / "etc"
    resolv = etc / "resolv.conf"
    if resolv.is_symlink():
        resolv.unlink()
    if Path("/etc/resolv.conf").exists():
        shutil.copyfile("/etc/resolv.conf", resolv)
    name = socket.gethostname()
    hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
    if name and name != "localhost":
        hosts += f"127.0.1.1\t{name}\n"
    if not (etc / "hosts").exists() or (etc / "hosts").read_text() != hosts:
        (etc / "hosts").write_text(hosts)
    policy = root / "usr/sbin/policy-rc.d"
    if not policy.exists():
        policy.write_text(
            "#!/bin/sh\n# padang112: never start services inside the chroot from package scripts\nexit 101\n"
        )
        policy.chmod(0o755)


def _installed(root: Path) -> bool:
    proc = subprocess.run(
        ["chroot", str(root), "dpkg-query", "-W", "-f", "${db:Status-Abbrev}\n", *PACKAGES],
        env=CHROOT_ENV,
        capture_output=True,
        text=True,
    )
    lines = proc.stdout.split()
    return proc.returncode == 0 and len(lines) == len(PACKAGES) and all(s == "ii" for s in lines)


def install_packages(root: Path) -> None:
    if _installed(root):
        log("asterisk packages already installed in the chroot")
        return
    log(f"apt-get install {' '.join(PACKAGES)} in the chroot")
    started = time.monotonic()
    chroot = ["chroot", str(root), "apt-get", *APT_OPTS]
    run([*chroot, "update"], "apt-get update in the chroot", env=CHROOT_ENV)
    run(
        [*chroot, "install", "-y", "--no-install-recommends", *PACKAGES],
        "apt-get install in the chroot",
        env=CHROOT_ENV,
    )
    run([*chroot, "clean"], "apt-get clean in the chroot", env=CHROOT_ENV)
    log(f"packages installed in {time.monotonic() - started:.0f} s")


def asterisk_ids(root: Path) -> tuple[int, int]:
    """uid and gid of the chroot's ``asterisk`` user (created by the package)."""
    for line in (root / "etc/passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == "asterisk":
            return int(fields[2]), int(fields[3])
    raise InstallError(f"no asterisk user in {root}/etc/passwd: run `padang112 asterisk install`")


def chroot_version(root: Path) -> str:
    proc = subprocess.run(
        ["chroot", str(root), "dpkg-query", "-W", "-f", "${Version}", "asterisk"],
        env=CHROOT_ENV,
        capture_output=True,
        text=True,
    )
    return proc.stdout.strip() if proc.returncode == 0 else "?"


def make_chroot(settings: config.Settings) -> Path:
    """debootstrap (unless done) and prepare the chroot; packages come after the asterisk account exists."""
    if os.geteuid() != 0:
        raise InstallError("must run as root (debootstrap, chroot and mount need it)")
    root = Path(settings.asterisk.root)
    ensure_host_tools({"debootstrap": "debootstrap"})
    complete = (root / "usr/bin/apt-get").exists() and not (root / "debootstrap").exists()
    mirror = "" if complete else (settings.asterisk.mirror or host_mirror())
    debootstrap(root, mirror)
    prepare_chroot(root)
    return root
