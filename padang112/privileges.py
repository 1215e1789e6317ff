"""Who may read what padang112 keeps, and which account runs what (docs/SECURITY.md, "Files and accounts").

* The console/controller runs as ``padang112`` (created by ``scripts/setup.sh``; systemd ``User=padang112``),
  with umask 077: the database (numbers, names, password hashes, audit log, camera passwords), secrets.toml and
  restreams are private to it (0600). The state directory is 0700, or, once the ``padang112`` account exists,
  ``root:padang112`` 1770: the Asterisk chroot lives in it and root executes from there, so the service account
  may add files but never rename or replace root's (sticky bit), and nobody else may enter. Symbolic links in it
  are never followed by root's hardening.
* Asterisk (the chroot's ``asterisk`` account) writes the recordings into a directory of group ``padang112``
  (setgid 2770) with umask 027: files ``asterisk:padang112`` 0640, readable by the controller (audited playback)
  and by no other local account.
* ffmpeg and ffprobe parse untrusted camera streams: when the controller may switch accounts (started as root,
  e.g. by ``make demo``) they run as ``padang112-media``, which owns nothing else; under systemd as ``padang112``
  they stay inside that unit's sandbox.
Only installing (``scripts/setup.sh``, ``padang112 asterisk install|start``) needs root.
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
from dataclasses import dataclass
from pathlib import Path

SERVICE_USER = "padang112"
MEDIA_USER = "padang112-media"
SERVICE_UMASK = 0o077
ASTERISK_UMASK = 0o027  # recordings: owner (asterisk) rw, the controller's group r, others nothing
MEDIA_UMASK = 0o007  # restream files: the controller (group) reads and removes them
STATE_DIR_MODE = 0o700
SHARED_STATE_DIR_MODE = 0o1770  # root:padang112, sticky: the service account cannot replace the chroot
RECORDINGS_DIR_MODE = 0o2770
PRIVATE_FILES = ("secrets.toml", "padang112.db", "padang112.db-wal", "padang112.db-shm", "demo-accounts.txt")


@dataclass(frozen=True)
class Account:
    uid: int
    gid: int


def account(name: str) -> Account | None:
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    return Account(entry.pw_uid, entry.pw_gid)


def service_group() -> int:
    """The group that may read recordings: ``padang112``'s, else this process's (a machine without the account)."""
    try:
        return grp.getgrnam(SERVICE_USER).gr_gid
    except KeyError:
        return os.getgid()


def harden_state_dir(state_dir: Path) -> None:
    """State directory private (see above) and its private files 0600, given to the service account by root."""
    state_dir.mkdir(parents=True, exist_ok=True, mode=STATE_DIR_MODE)
    owner = account(SERVICE_USER) if os.geteuid() == 0 else None
    if owner is not None and state_dir.stat().st_uid == 0:
        os.chown(state_dir, 0, owner.gid)
        state_dir.chmod(SHARED_STATE_DIR_MODE)
    elif state_dir.stat().st_uid == os.geteuid():
        state_dir.chmod(STATE_DIR_MODE)
    for name in PRIVATE_FILES:
        path = state_dir / name
        try:
            info = path.lstat()
        except FileNotFoundError:
            continue
        if not stat.S_ISREG(info.st_mode):
            continue  # a symbolic link planted here is never followed by root
        if owner is not None and info.st_uid == 0:
            os.chown(path, owner.uid, owner.gid, follow_symlinks=False)
        if info.st_uid in (os.geteuid(), 0) or owner is not None:
            path.chmod(0o600)


def start_service(state_dir: Path) -> None:
    """``padang112 serve``: umask 077 for everything it creates, and a private state directory."""
    os.umask(SERVICE_UMASK)
    harden_state_dir(state_dir)


def harden_recordings(recordings: Path, asterisk_uid: int) -> None:
    """Recordings directory ``asterisk:<service group>`` 2770; earlier recordings lose their world bits."""
    gid = service_group()
    recordings.mkdir(parents=True, exist_ok=True)
    os.chown(recordings, asterisk_uid, gid)
    recordings.chmod(RECORDINGS_DIR_MODE)
    with os.scandir(recordings) as entries:
        for entry in entries:
            if entry.is_file(follow_symlinks=False):
                mode = entry.stat(follow_symlinks=False).st_mode
                if mode & (stat.S_IRWXO | stat.S_IWGRP) or entry.stat(follow_symlinks=False).st_gid != gid:
                    os.chown(entry.path, -1, gid)
                    os.chmod(entry.path, stat.S_IMODE(mode) & 0o640)


def harden_logs(log_dir: Path) -> None:
    """Asterisk's log directory 0750 and its files without world (or group write) bits: they may name callers.

    New files are 0640 already (Asterisk runs with umask 027); this tightens those written before that, once at
    each ``padang112 asterisk start``. Only root (operations) and the ``asterisk`` account read them.
    """
    if not log_dir.is_dir() or log_dir.is_symlink():
        return
    log_dir.chmod(0o750)
    with os.scandir(log_dir) as entries:
        for entry in entries:
            if entry.is_file(follow_symlinks=False):
                mode = stat.S_IMODE(entry.stat(follow_symlinks=False).st_mode)
                if mode & (stat.S_IRWXO | stat.S_IWGRP):
                    os.chmod(entry.path, mode & 0o640)


def media_account() -> Account | None:
    """The account ffmpeg/ffprobe run as, or None to run them as this process (it cannot switch accounts)."""
    if os.geteuid() != 0:
        return None
    return account(MEDIA_USER)


def media_process_options(out_dir: Path | None = None) -> dict[str, object]:
    """``subprocess`` keyword arguments that run a camera-stream parser under its own account.

    ``out_dir`` (a restream's output) is given to that account, group the controller's, so ffmpeg can write it
    and the controller read and remove it.
    """
    media = media_account()
    if media is None:
        return {}
    if out_dir is not None:
        os.chown(out_dir, media.uid, os.getgid())
        out_dir.chmod(0o2770)
    return {"user": media.uid, "group": media.gid, "extra_groups": [], "umask": MEDIA_UMASK}
