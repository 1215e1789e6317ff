"""A backup's manifest: every file in it with its SHA-256 and size, itself sealed by ``MANIFEST.json.sha256``.

Restore reads the manifest and checks every file against it before touching the target, so a changed byte
in the database or a recording, a missing or an added file, or an edited manifest is refused.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from padang112.integrity.seals import CHUNK, digest

FORMAT = "padang112-backup/1"
MANIFEST = "MANIFEST.json"
MANIFEST_SEAL = "MANIFEST.json.sha256"


class BackupError(Exception):
    """A backup that cannot be made or trusted; the message says what and where (Indonesian, then English)."""


@dataclass(frozen=True)
class Entry:
    path: str  # relative to the backup directory, '/'-separated
    sha256: str
    size: int


@dataclass
class Manifest:
    created_at: str
    database: dict[str, Any]  # kind, file, schema revision
    entries: list[Entry] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    format: str = FORMAT

    def files(self) -> dict[str, Entry]:
        return {e.path: e for e in self.entries}


def copy_hashed(src: Path, dest: Path) -> tuple[str, int]:
    """Copy ``src`` to ``dest`` reading it once; returns the SHA-256 and size of what was written."""
    h = hashlib.sha256()
    size = 0
    dest.parent.mkdir(parents=True, exist_ok=True)
    with src.open("rb") as fin, dest.open("wb") as fout:
        while chunk := fin.read(CHUNK):
            h.update(chunk)
            fout.write(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def write(directory: Path, manifest: Manifest) -> None:
    body = json.dumps(asdict(manifest), ensure_ascii=False, indent=1, sort_keys=True).encode()
    (directory / MANIFEST).write_bytes(body)
    (directory / MANIFEST_SEAL).write_text(f"{hashlib.sha256(body).hexdigest()}  {MANIFEST}\n")


def read(directory: Path) -> Manifest:
    """The manifest, or :class:`BackupError` if it is missing, altered or not one of ours."""
    path, seal = directory / MANIFEST, directory / MANIFEST_SEAL
    if not path.is_file() or not seal.is_file():
        raise BackupError(f"manifest tidak ada / manifest missing: {path}")
    body = path.read_bytes()
    if seal.read_text().split()[:1] != [hashlib.sha256(body).hexdigest()]:
        raise BackupError(f"manifest berubah / manifest altered (its SHA-256 does not match {seal.name})")
    try:
        data = json.loads(body)
        if data.get("format") != FORMAT:
            raise BackupError(f"format cadangan tidak dikenal / unknown backup format: {data.get('format')!r}")
        entries = [Entry(str(e["path"]), str(e["sha256"]), int(e["size"])) for e in data["entries"]]
        return Manifest(str(data["created_at"]), dict(data["database"]), entries, dict(data.get("counts", {})))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BackupError(f"manifest rusak / manifest unreadable: {exc}") from None


def problems(directory: Path, manifest: Manifest) -> list[str]:
    """Every file that differs from the manifest: changed, missing, or present but not listed."""
    out: list[str] = []
    listed = manifest.files()
    for rel, entry in sorted(listed.items()):
        path = directory / rel
        if ".." in Path(rel).parts or Path(rel).is_absolute():
            out.append(f"jalur tidak sah / invalid path: {rel}")
        elif not path.is_file():
            out.append(f"hilang / missing: {rel}")
        else:
            found = digest(path)
            if (found.sha256, found.size_bytes) != (entry.sha256, entry.size):
                out.append(f"berubah / changed: {rel}")
    present = {p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file()}
    for rel in sorted(present - set(listed) - {MANIFEST, MANIFEST_SEAL}):
        out.append(f"tidak tercantum / not in the manifest: {rel}")
    return out
