"""``padang112 verify``: changed, missing or extra recordings and broken links in the event chains.

- changed: a sealed recording whose SHA-256 (or size) is not what was stored when it was closed;
- missing: a sealed recording whose file is gone without retention having removed it;
- extra: a file in ``recordings_dir`` the database does not know (not a call's, fallback's or call-back's);
- unsealed (reported, not a failure): a closed recording not sealed yet (the sealer runs every few seconds);
- chain breaks: a call or incident event whose content or predecessor does not match its hash.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112.integrity.seals import digest, known_recordings
from padang112.storage import chain
from padang112.storage.db import session_factory
from padang112.storage.models import ChainTombstone, RecordingSeal


@dataclass
class Report:
    recordings_checked: int = 0
    rows_checked: dict[str, int] = field(default_factory=dict)
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    unsealed: list[str] = field(default_factory=list)
    breaks: list[chain.Break] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.changed or self.missing or self.extra or self.breaks)


TEXT = {
    "id": {
        "ok": "BAIK: {recordings} rekaman dan {rows} baris kejadian terverifikasi, tidak ada yang berubah.",
        "changed": "BERUBAH (isi rekaman tidak sama dengan SHA-256 saat ditutup): {name}",
        "missing": "HILANG (rekaman tersegel tetapi berkasnya tidak ada): {name}",
        "extra": "TAMBAHAN (berkas tidak dikenal di direktori rekaman): {name}",
        "unsealed": "belum disegel (akan disegel dalam beberapa detik): {name}",
        "changed_row": "RANTAI PUTUS: {table} baris {row_id} diubah",
        "unlinked_row": (
            "RANTAI PUTUS: {table} baris {row_id} tidak tersambung ke baris sebelumnya (dihapus/disisipkan)"
        ),
        "failed": "GAGAL: {n} masalah integritas ditemukan.",
    },
    "en": {
        "ok": "OK: {recordings} recordings and {rows} event rows verified, nothing changed.",
        "changed": "CHANGED (recording does not match its SHA-256 taken when it was closed): {name}",
        "missing": "MISSING (sealed recording whose file is gone): {name}",
        "extra": "EXTRA (unknown file in the recordings directory): {name}",
        "unsealed": "not sealed yet (will be within seconds): {name}",
        "changed_row": "BROKEN CHAIN: {table} row {row_id} was changed",
        "unlinked_row": "BROKEN CHAIN: {table} row {row_id} does not link to the row before it (deleted/inserted)",
        "failed": "FAILED: {n} integrity problems found.",
    },
}


def render(report: Report, lang: str = "id") -> list[str]:
    t = TEXT[lang]
    lines = [t["changed"].format(name=n) for n in report.changed]
    lines += [t["missing"].format(name=n) for n in report.missing]
    lines += [t["extra"].format(name=n) for n in report.extra]
    lines += [t[f"{b.reason}_row"].format(table=b.table, row_id=b.row_id) for b in report.breaks]
    lines += [t["unsealed"].format(name=n) for n in report.unsealed]
    problems = len(report.changed) + len(report.missing) + len(report.extra) + len(report.breaks)
    if problems:
        lines.append(t["failed"].format(n=problems))
    else:
        lines.append(t["ok"].format(recordings=report.recordings_checked, rows=sum(report.rows_checked.values())))
    return lines


async def verify(engine: AsyncEngine, recordings_dir: Path) -> Report:
    report = Report()
    for table in chain.CHAINED:
        links = await _links(engine, table)
        report.rows_checked[table] = sum(1 for *_, values in links if values is not None)
        report.breaks += list(chain.check(table, links))
    known = await known_recordings(engine, datetime.now(UTC))
    async with session_factory(engine)() as session:
        seals = {s.name: s for s in await session.scalars(select(RecordingSeal))}
    on_disk = await asyncio.to_thread(_wav_names, recordings_dir)
    for name, seal in sorted(seals.items()):
        if seal.removed_at is not None:
            if name in on_disk:
                report.extra.append(name)  # deleted by retention, yet here again
            continue
        if name not in on_disk:
            report.missing.append(name)
            continue
        found = await asyncio.to_thread(digest, recordings_dir / name)
        report.recordings_checked += 1
        if (found.sha256, found.size_bytes) != (seal.sha256, seal.size_bytes):
            report.changed.append(name)
    for name in sorted(on_disk - set(seals)):
        if name in known.closed:
            report.unsealed.append(name)
        elif name not in known.open:
            report.extra.append(name)
    return report


def _wav_names(directory: Path) -> set[str]:
    return {p.name for p in directory.glob("*.wav")} if directory.is_dir() else set()


async def _links(engine: AsyncEngine, table: str) -> list[tuple[int, str | None, str | None, dict[str, object] | None]]:
    """The table's rows (with their chained values) and tombstones, in id order."""
    model = chain.MODELS[table]
    async with session_factory(engine)() as session:
        rows: Any = await session.scalars(select(model).order_by(model.id))
        out: list[tuple[int, str | None, str | None, dict[str, object] | None]] = [
            (row.id, row.prev_hash, row.row_hash, chain.row_values(row, table)) for row in rows
        ]
        tombs = await session.scalars(select(ChainTombstone).where(ChainTombstone.table_name == table))
        out += [(t.row_id, t.prev_hash, t.row_hash, None) for t in tombs]
    return sorted(out, key=lambda link: link[0])
