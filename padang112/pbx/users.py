"""The chroot's ``asterisk`` account must not share its uid/gid with an account of the host.

The chroot shares the host's kernel: a process running as uid N inside it can signal (and, depending on
ptrace settings, trace) every host process of uid N, and files it writes to shared directories (recordings)
belong to whoever has uid N on the host. Debian's package would pick the next free system id of the chroot,
which on this kind of machine is the host's ``postgres`` (101). So the account is created before the package
is installed, with an id free on both sides (112 when possible), and an existing chroot is moved to such an id.
"""

from __future__ import annotations

import os
from pathlib import Path

from padang112.pbx.bootstrap import CHROOT_ENV, log, mounts_below, run

PREFERRED_ID = 112
SEARCH = range(200, 1000)
HOST_ETC = Path("/etc")


def _table(path: Path) -> dict[int, str]:
    """id -> name of a passwd or group file."""
    out: dict[int, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            fields = line.split(":")
            if len(fields) >= 3 and fields[2].isdigit():
                out[int(fields[2])] = fields[0]
    return out


def current_ids(root: Path) -> tuple[int, int] | None:
    for line in (root / "etc/passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == "asterisk":
            return int(fields[2]), int(fields[3])
    return None


def host_collisions(uid: int, gid: int, host_etc: Path = HOST_ETC) -> list[str]:
    """Host accounts that share the chroot asterisk's uid or gid (an ``asterisk`` account of the host is fine)."""
    clashes = []
    user = _table(host_etc / "passwd").get(uid)
    if user and user != "asterisk":
        clashes.append(f"user {user} (uid {uid})")
    group = _table(host_etc / "group").get(gid)
    if group and group != "asterisk":
        clashes.append(f"group {group} (gid {gid})")
    return clashes


def choose_id(root: Path, host_etc: Path = HOST_ETC) -> int:
    taken = set()
    for base in (host_etc, root / "etc"):
        taken |= set(_table(base / "passwd")) | set(_table(base / "group"))
    for candidate in (PREFERRED_ID, *SEARCH):
        if candidate not in taken:
            return candidate
    raise RuntimeError("no free system id for the asterisk account")


def processes_in(root: Path) -> list[int]:
    """Processes whose root directory is this chroot (running instances)."""
    target = str(root.resolve())
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.readlink(f"/proc/{entry}/root") == target:
                    found.append(int(entry))
            except OSError:
                continue
    return found


def _chown_tree(root: Path, old: tuple[int, int], new: tuple[int, int]) -> int:
    """Give files of the old uid/gid the new ones, without entering mount points (recordings, /proc)."""
    skip = {str(p) for p in mounts_below(root)} - {str(root.resolve())}
    changed = 0
    for directory, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if os.path.join(directory, d) not in skip]
        for name in [*dirs, *files, ""]:
            path = os.path.join(directory, name) if name else directory
            st = os.lstat(path)
            uid = new[0] if st.st_uid == old[0] else -1
            gid = new[1] if st.st_gid == old[1] else -1
            if uid != -1 or gid != -1:
                os.lchown(path, uid, gid)
                changed += 1
    return changed


def ensure_asterisk_user(root: Path) -> tuple[int, int]:
    """Create (or move) the chroot's asterisk account to an id no host account uses; returns (uid, gid)."""
    ids = current_ids(root)
    if ids is None:
        new = choose_id(root)
        chroot = ["chroot", str(root)]
        run([*chroot, "groupadd", "--system", "--gid", str(new), "asterisk"], "groupadd asterisk", env=CHROOT_ENV)
        run(
            [
                *chroot,
                "useradd",
                "--system",
                "--uid",
                str(new),
                "--gid",
                str(new),
                "--home-dir",
                "/var/lib/asterisk",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                "--comment",
                "Asterisk PBX daemon",
                "asterisk",
            ],
            "useradd asterisk",
            env=CHROOT_ENV,
        )
        log(f"chroot account asterisk created with uid/gid {new}")
        return new, new
    clashes = host_collisions(*ids)
    if not clashes:
        return ids
    if processes_in(root):
        log(
            f"WARNING: the chroot's asterisk uid/gid {ids} is also the host's {', '.join(clashes)}; "
            "stop all instances and run install again to move it"
        )
        return ids
    new = choose_id(root)
    log(f"moving the chroot's asterisk account from {ids} to {new} (host {', '.join(clashes)} uses it)")
    chroot = ["chroot", str(root)]
    run([*chroot, "groupmod", "--gid", str(new), "asterisk"], "groupmod asterisk", env=CHROOT_ENV)
    run([*chroot, "usermod", "--uid", str(new), "--gid", str(new), "asterisk"], "usermod asterisk", env=CHROOT_ENV)
    changed = _chown_tree(root, ids, (new, new))
    log(f"{changed} file(s) given to uid/gid {new}")
    return new, new
