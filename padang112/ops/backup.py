"""``padang112 backup DEST``: the database, the secrets and every recording, with a manifest, while calls run.

The database is copied first (one consistent snapshot, see :mod:`padang112.ops.dbdump`), then the recordings
(each read once: copied and hashed together), then the manifest. A recording still being written is copied as
it is at that moment; the snapshot knows it as an open recording. The destination must be new or empty.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from padang112.config import Settings
from padang112.ops import dbdump
from padang112.ops.manifest import BackupError, Entry, Manifest, copy_hashed, write

Say = Callable[[str], None]
PROGRESS_EVERY_S = 2.0


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size_bytes: int
    files: int
    recordings: int
    seconds: float
    database_seconds: float


def mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def run_backup(settings: Settings, dest: Path, say: Say = print) -> BackupResult:
    started = time.monotonic()
    _prepare(dest)
    dump = dbdump.for_url(settings.db_url)
    db_path = dest / dump.file_name
    say(f"[1/3] basis data / database ({dump.kind}: {dump.method}) ...")
    t = time.monotonic()
    facts = dump.backup(db_path)
    database_seconds = time.monotonic() - t
    sha, size = _hash_in_place(db_path)
    entries = [Entry(dump.file_name, sha, size)]
    say(f"      {mb(size)} dalam / in {database_seconds:.2f} s")
    database = {"kind": dump.kind, "file": dump.file_name, "schema_revision": facts.schema_revision}
    counts = facts.counts
    if settings.secrets_path.is_file():
        sha, size = copy_hashed(settings.secrets_path, dest / "secrets.toml")
        os.chmod(dest / "secrets.toml", 0o600)
        entries.append(Entry("secrets.toml", sha, size))
    entries += _copy_recordings(Path(settings.recordings_dir), dest / "recordings", say)
    say("[3/3] manifest ...")
    write(dest, Manifest(datetime.now(UTC).isoformat(timespec="seconds"), database, entries, counts))
    os.sync()  # a backup is only one once it is on the disk
    total = sum(e.size for e in entries)
    result = BackupResult(
        dest,
        total,
        len(entries),
        sum(1 for e in entries if e.path.startswith("recordings/")),
        time.monotonic() - started,
        database_seconds,
    )
    say(
        f"selesai / done: {mb(total)}, {result.files} berkas / files ({result.recordings} rekaman / recordings, "
        f"{counts.get('calls', '?')} panggilan / calls) dalam / in {result.seconds:.1f} s -> {dest}"
    )
    return result


def _prepare(dest: Path) -> None:
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"tujuan tidak kosong / destination is not empty: {dest}")
    dest.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(dest, 0o700)  # callers' numbers and voices: only root and the padang112 user


def _hash_in_place(path: Path) -> tuple[str, int]:
    from padang112.integrity.seals import digest

    found = digest(path)
    return found.sha256, found.size_bytes


def _copy_recordings(source: Path, dest: Path, say: Say) -> list[Entry]:
    files = sorted(p for p in source.iterdir() if p.is_file()) if source.is_dir() else []
    total = sum(p.stat().st_size for p in files)
    say(f"[2/3] rekaman / recordings: {len(files)} berkas / files, {mb(total)} ...")
    entries: list[Entry] = []
    done_bytes, last = 0, time.monotonic()
    for i, path in enumerate(files, start=1):
        try:
            sha, size = copy_hashed(path, dest / path.name)
        except FileNotFoundError:  # deleted meanwhile (retention): not part of this backup
            continue
        entries.append(Entry(f"recordings/{path.name}", sha, size))
        done_bytes += size
        if time.monotonic() - last >= PROGRESS_EVERY_S or i == len(files):
            last = time.monotonic()
            say(f"      {i}/{len(files)} ({mb(done_bytes)})")
    return entries
