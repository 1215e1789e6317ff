"""The operations commands as an operator types them: ``verify``, ``keep``, ``retention run`` (exit codes, output)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112 import cli
from padang112.accounts.users import UserStore
from padang112.storage.repository import EventWriter
from tests.unit.test_integrity import sealed_calls

PASSWORD = "kuranji-banjir-2023"


@pytest.fixture
def toml(tmp_path: Path) -> Path:
    path = tmp_path / "ops.toml"  # the same state dir (database) as the engine fixture's
    path.write_text(f'state_dir = "{tmp_path / "state"}"\nrecordings_dir = "{tmp_path / "recordings"}"\n')
    return path


async def run(toml: Path, *args: str) -> int:
    return await asyncio.to_thread(cli.main, ["--config", str(toml), *args])


async def test_verify_exits_1_naming_the_changed_wav_and_the_changed_row(
    engine: AsyncEngine, writer: EventWriter, tmp_path: Path, toml: Path, db_file: Path, capsys: pytest.CaptureFixture
) -> None:
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    await sealed_calls(writer, engine, recordings, "c1", "c2")
    assert await run(toml, "verify") == 0
    assert capsys.readouterr().out.startswith("BAIK: 2 rekaman")
    wav = recordings / "call-c1.wav"
    wav.write_bytes(wav.read_bytes()[:-1] + b"\x00")
    with sqlite3.connect(db_file) as db:
        db.execute('UPDATE call_events SET data = \'{"caller_number": "0899"}\' WHERE id = 1')
    assert await run(toml, "verify", "--lang", "en") == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "CHANGED (recording does not match its SHA-256 taken when it was closed): call-c1.wav"
    assert out[1] == "BROKEN CHAIN: call_events row 1 was changed" and out[-1] == "FAILED: 2 integrity problems found."


async def test_keep_marks_from_the_shell_and_retention_leaves_the_kept_call(
    engine: AsyncEngine, writer: EventWriter, tmp_path: Path, toml: Path, db_file: Path, capsys: pytest.CaptureFixture
) -> None:
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    await sealed_calls(writer, engine, recordings, "c1", "c2")  # in 2023: past the default 730 days
    users = UserStore(engine)
    await users.create("joni", role="supervisor", password=PASSWORD)
    await users.create("rina", role="call_taker", password=PASSWORD)
    assert await run(toml, "keep", "add", "call", "c1", "--reason", "permintaan polisi", "--by", "rina") == 2
    assert await run(toml, "keep", "add", "call", "nope", "--reason", "x", "--by", "joni") == 2
    assert await run(toml, "keep", "add", "call", "c1", "--reason", "permintaan polisi", "--by", "joni") == 0
    assert await run(toml, "keep", "list") == 0
    assert "call c1\tjoni\tpermintaan polisi" in capsys.readouterr().out
    assert await run(toml, "retention", "run") == 0
    with sqlite3.connect(db_file) as db:
        assert [row[0] for row in db.execute("SELECT id FROM calls")] == ["c1"]
    assert sorted(p.name for p in recordings.iterdir()) == ["call-c1.wav"]
    assert await run(toml, "verify") == 0
