"""Where one Asterisk instance lives, seen from inside the chroot and from the host.

Several instances (the demo's "main", the test suite's "test") share one chroot and its packages, modules and
sounds; each has its own ``/srv/padang112/<instance>/`` with configuration, spool, run (control socket, pid),
log and astdb, so they can run at the same time on different ports. The Docker image uses the same inner
paths, so the rendered configuration works unchanged in both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from padang112 import config

INSTANCES_BASE = PurePosixPath("/srv/padang112")
SOUNDS_DIR = PurePosixPath("/usr/share/asterisk/sounds")
ASTERISK_BIN = PurePosixPath("/usr/sbin/asterisk")
PROMPT_FOLDER = "padang112"  # sounds are referenced as padang112/<name>
_INSTANCE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


@dataclass(frozen=True)
class Layout:
    root: Path  # the chroot on the host
    instance: str

    def __post_init__(self) -> None:
        if not _INSTANCE_RE.match(self.instance):
            raise ValueError(f"invalid asterisk instance name {self.instance!r} (use a-z, 0-9, '-', '_')")

    # paths inside the chroot (what Asterisk sees) -------------------------------------------------------
    @property
    def inner(self) -> PurePosixPath:
        return INSTANCES_BASE / self.instance

    @property
    def etc(self) -> PurePosixPath:
        return self.inner / "etc"

    @property
    def conf(self) -> PurePosixPath:
        return self.etc / "asterisk.conf"

    @property
    def spool(self) -> PurePosixPath:
        return self.inner / "spool"

    @property
    def recording(self) -> PurePosixPath:
        """ARI stores bridge/channel recordings here; the project's recordings dir is bind-mounted on it."""
        return self.spool / "recording"

    @property
    def run(self) -> PurePosixPath:
        return self.inner / "run"

    @property
    def log(self) -> PurePosixPath:
        return self.inner / "log"

    @property
    def lib(self) -> PurePosixPath:
        return self.inner / "lib"  # astvarlibdir and astdbdir (astdb.sqlite3 holds the fallback records)

    @property
    def cache(self) -> PurePosixPath:
        return self.inner / "cache"

    @property
    def writable_dirs(self) -> list[PurePosixPath]:
        """Directories Asterisk (running as user asterisk) must be able to write."""
        return [self.spool, self.recording, self.spool / "tmp", self.run, self.log, self.lib, self.cache]

    # host paths -------------------------------------------------------------------------------------------
    def host(self, inner: PurePosixPath) -> Path:
        return self.root / inner.relative_to("/")

    @property
    def instance_dir(self) -> Path:
        return self.host(self.inner)

    @property
    def etc_dir(self) -> Path:
        return self.host(self.etc)

    @property
    def ctl_socket(self) -> Path:
        return self.host(self.run / "asterisk.ctl")

    @property
    def pid_file(self) -> Path:
        return self.host(self.run / "asterisk.pid")

    @property
    def recording_dir(self) -> Path:
        return self.host(self.recording)

    @property
    def messages_log(self) -> Path:
        return self.host(self.log / "messages.log")


def layout(settings: config.Settings) -> Layout:
    return Layout(Path(settings.asterisk.root), settings.asterisk.instance)


def instance_dir(settings: config.Settings) -> Path:
    """Host path of this instance's directory inside the chroot."""
    return layout(settings).instance_dir
