"""``padang112 restore SRC``: a checked backup into an empty state directory and recordings directory.

Nothing is written until the whole backup matched its manifest. The target must hold no database, no
secrets and no recordings: restoring over a live room would silently replace its history, so that is refused
(stop it and move its state away first, on purpose). After the copy the schema is brought to this version's
head and the restored event chains are checked.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from padang112.config import Settings
from padang112.integrity.verify import Report, verify
from padang112.ops import dbdump
from padang112.ops.backup import Say, mb
from padang112.ops.manifest import BackupError, copy_hashed, problems, read
from padang112.storage import migrate
from padang112.storage.db import create_engine, shown


def check_backup(src: Path) -> None:
    """Raise :class:`BackupError` naming every file that does not match the manifest."""
    if not src.is_dir():
        raise BackupError(f"cadangan tidak ditemukan / backup not found: {src}")
    manifest = read(src)
    found = problems(src, manifest)
    if manifest.database.get("file") not in manifest.files():
        found.append("basis data tidak tercantum / database not in the manifest")
    if found:
        raise BackupError("cadangan rusak, tidak dipulihkan / backup corrupted, not restored:\n  " + "\n  ".join(found))


def _refuse_live_target(settings: Settings, dump: dbdump.DatabaseDump) -> None:
    recordings = Path(settings.recordings_dir)
    live = []
    if dump.has_data():
        live.append(f"basis data / database {shown(settings.db_url)}")
    if settings.secrets_path.exists():
        live.append(str(settings.secrets_path))
    if recordings.is_dir() and any(recordings.iterdir()):
        live.append(f"rekaman / recordings in {recordings}")
    if live:
        raise BackupError(
            "target tidak kosong, tidak ditimpa / target is not empty, refusing to overwrite: " + "; ".join(live)
        )


def run_restore(settings: Settings, src: Path, say: Say = print) -> int:
    say(f"memeriksa cadangan / checking the backup {src} ...")
    check_backup(src)
    manifest = read(src)
    dump = dbdump.for_url(settings.db_url)
    if dump.kind != manifest.database.get("kind"):
        raise BackupError(f"cadangan {manifest.database.get('kind')} tidak bisa dipulihkan ke {dump.kind}")
    _refuse_live_target(settings, dump)
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    dump.restore(src / str(manifest.database["file"]))
    say(f"basis data dipulihkan / database restored ({manifest.counts.get('calls', '?')} panggilan / calls)")
    files = manifest.files()
    if "secrets.toml" in files:
        copy_hashed(src / "secrets.toml", settings.secrets_path)
        os.chmod(settings.secrets_path, 0o600)
    recordings = [e for e in files.values() if e.path.startswith("recordings/")]
    target = Path(settings.recordings_dir)
    for entry in recordings:
        sha, _ = copy_hashed(src / entry.path, target / Path(entry.path).name)
        if sha != entry.sha256:  # the source changed under us
            raise BackupError(f"berubah saat disalin / changed while copying: {entry.path}")
    say(f"rekaman dipulihkan / recordings restored: {len(recordings)} ({mb(sum(e.size for e in recordings))})")
    migrate.upgrade(settings.db_url)
    report = asyncio.run(_verify(settings))
    if report.breaks:
        raise BackupError(
            f"rantai kejadian putus setelah pemulihan / event chain broken after restore: {report.breaks[:5]}"
        )
    say("pemulihan selesai / restore complete; mulai / start: padang112 serve")
    return 0


async def _verify(settings: Settings) -> Report:
    engine = create_engine(settings.db_url)
    try:
        return await verify(engine, Path(settings.recordings_dir))
    finally:
        await engine.dispose()
