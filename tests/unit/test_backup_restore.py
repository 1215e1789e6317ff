"""``padang112 backup`` / ``restore`` on real databases and recordings: consistent while writing, checked on the
way back, refused when corrupted or when the target is live. SQLite's online backup, and on PostgreSQL 15 the real
``pg_dump``/``pg_restore`` (tests/fixtures/postgres.py); the PostgreSQL commands' arguments."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112 import config
from padang112.integrity.seals import Sealer
from padang112.ops import dbdump
from padang112.ops.backup import run_backup
from padang112.ops.manifest import MANIFEST, BackupError, read
from padang112.ops.restore import check_backup, run_restore
from padang112.storage.repository import EventWriter
from tests.unit.conftest import sql_in
from tests.unit.test_integrity import recorded_call, write_wav
from tests.unit.test_storage import HEAD_REVISION

T0 = datetime(2023, 8, 7, 1, 0, tzinfo=UTC)


def make_settings(root: Path, database_url: str = "") -> config.Settings:
    """A room in ``root``; its database the state dir's SQLite file, or ``database_url``."""
    toml = root / "padang112.toml"
    root.mkdir(parents=True, exist_ok=True)
    database = f'database_url = "{database_url}"\n' if database_url else ""
    toml.write_text(f'state_dir = "{root / "state"}"\nrecordings_dir = "{root / "recordings"}"\n{database}')
    return config.load(toml, environ={})


@pytest.fixture
def new_database(backend: str, request: pytest.FixtureRequest) -> Iterator[Callable[[], str]]:
    """Gives the ``database_url`` of a new, empty database on the test's engine ("": the state dir's SQLite file)."""
    if backend == "sqlite":
        yield lambda: ""
        return
    cluster = request.getfixturevalue("pg_cluster")
    made: list[str] = []

    def make() -> str:
        made.append(cluster.create_database())
        return str(cluster.url(made[-1]))

    yield make
    for name in made:
        cluster.drop_database(name)


@pytest.fixture
def live(tmp_path: Path, new_database: Callable[[], str]) -> config.Settings:
    return make_settings(tmp_path / "live", new_database())


@pytest.fixture
def db_url(live: config.Settings) -> str:  # the shared engine/writer fixtures use the live room's database
    return live.db_url


@pytest.fixture
async def room(live: config.Settings, engine: AsyncEngine, writer: EventWriter) -> config.Settings:
    recordings = Path(live.recordings_dir)
    recordings.mkdir(parents=True)
    for i in range(5):
        await writer.write(recorded_call(f"c{i}", T0 + timedelta(minutes=i)))
        write_wav(recordings, f"call-c{i}.wav")
    live.secrets()
    await Sealer(engine, recordings, clock=lambda: T0 + timedelta(hours=1)).seal_pending()
    return live


async def calls_in(settings: config.Settings) -> int:
    return int((await sql_in(settings.db_url, "SELECT count(*) FROM calls"))[0][0])


@pytest.mark.engines("sqlite", "postgresql")
async def test_a_backup_taken_while_calls_are_written_restores_and_verifies(
    room: config.Settings, writer: EventWriter, tmp_path: Path, new_database: Callable[[], str]
) -> None:
    async def surge() -> None:
        for i in range(200):
            await writer.write(recorded_call(f"s{i}", T0 + timedelta(hours=2, seconds=i)))

    surging = asyncio.create_task(surge())
    await asyncio.sleep(0.05)
    lines: list[str] = []
    result = await asyncio.to_thread(run_backup, room, tmp_path / "b1", lines.append)
    await surging
    assert result.recordings == 5 and result.size_bytes > 0
    assert lines[0].startswith("[1/3]") and lines[-1].startswith("selesai / done") and "MB" in lines[-1]
    assert oct((tmp_path / "b1").stat().st_mode & 0o777) == "0o700"
    dump = dbdump.for_url(room.db_url)
    assert (tmp_path / "b1" / dump.file_name).read_bytes()[:5] == (b"PGDMP" if dump.kind == "postgresql" else b"SQLit")
    assert lines[0] == f"[1/3] basis data / database ({dump.kind}: {dump.method}) ..."  # pg_dump on PostgreSQL

    fresh = make_settings(tmp_path / "fresh", new_database())
    assert await asyncio.to_thread(run_restore, fresh, tmp_path / "b1", lines.append) == 0
    snapshot_calls = await calls_in(fresh)
    assert 5 <= snapshot_calls <= 205  # a snapshot of some instant of the surge
    assert await sql_in(fresh.db_url, "SELECT count(*) FROM call_events") == [(5 * snapshot_calls,)]  # no half write
    manifest = read(tmp_path / "b1")  # it describes the very snapshot copied, also pg_dump's
    assert manifest.counts["calls"] == snapshot_calls and manifest.database["schema_revision"] == HEAD_REVISION
    assert f"({snapshot_calls} panggilan / calls)" in "".join(lines)
    assert sorted(p.name for p in Path(fresh.recordings_dir).iterdir()) == [f"call-c{i}.wav" for i in range(5)]
    assert fresh.secrets_path.read_text() == room.secrets_path.read_text()
    assert fresh.secrets_path.stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        ("db_byte", "berubah / changed: padang112.db"),
        ("wav_byte", "berubah / changed: recordings/call-c3.wav"),
        ("missing", "hilang / missing: recordings/call-c1.wav"),
        ("extra", "tidak tercantum / not in the manifest: recordings/planted.wav"),
        ("manifest_edit", "manifest berubah / manifest altered"),
        ("manifest_gone", "manifest tidak ada / manifest missing"),
    ],
)
async def test_a_corrupted_backup_is_refused_and_nothing_is_restored(
    room: config.Settings, tmp_path: Path, damage: str, expected: str
) -> None:
    backup = tmp_path / "b"
    await asyncio.to_thread(run_backup, room, backup, lambda line: None)
    flip = {"db_byte": backup / "padang112.db", "wav_byte": backup / "recordings" / "call-c3.wav"}
    if damage in flip:
        data = bytearray(flip[damage].read_bytes())
        data[len(data) // 2] ^= 0x01
        flip[damage].write_bytes(bytes(data))
    elif damage == "missing":
        (backup / "recordings" / "call-c1.wav").unlink()
    elif damage == "extra":
        (backup / "recordings" / "planted.wav").write_bytes(b"RIFF")
    elif damage == "manifest_edit":
        text = (backup / MANIFEST).read_text().replace('"calls": 5', '"calls": 6')
        (backup / MANIFEST).write_text(text)
    else:
        (backup / MANIFEST).unlink()
    with pytest.raises(BackupError) as refused:
        check_backup(backup)
    assert expected in str(refused.value)
    fresh = make_settings(tmp_path / "fresh")
    with pytest.raises(BackupError):
        run_restore(fresh, backup, lambda line: None)
    assert not (fresh.state_dir / "padang112.db").exists() and not Path(fresh.recordings_dir).exists()


@pytest.mark.engines("sqlite", "postgresql")
async def test_restore_refuses_a_live_state_dir(room: config.Settings, tmp_path: Path) -> None:
    await asyncio.to_thread(run_backup, room, tmp_path / "b", lambda line: None)
    with pytest.raises(BackupError, match="refusing to overwrite") as refused:
        run_restore(room, tmp_path / "b", lambda line: None)
    assert await calls_in(room) == 5
    assert "padang112-test" not in str(refused.value)  # a PostgreSQL URL is named without its password


def test_a_backup_never_mixes_into_a_directory_in_use(live: config.Settings, tmp_path: Path) -> None:
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "x").write_text("x")
    with pytest.raises(BackupError, match="not empty"):
        run_backup(live, tmp_path / "used", lambda line: None)


def test_postgresql_dump_commands_keep_the_password_off_the_command_line() -> None:
    dump = dbdump.for_url("postgresql+asyncpg://p112:s3cret@127.0.0.1:5433/padang112")
    assert isinstance(dump, dbdump.PostgresDump) and dump.file_name == "padang112.pgdump"
    command, env = dump.backup_command(Path("/b/padang112.pgdump"))
    assert command == [
        "pg_dump",
        "--format=custom",
        "--no-password",
        "--file",
        "/b/padang112.pgdump",
        "--host",
        "127.0.0.1",
        "--port",
        "5433",
        "--username",
        "p112",
        "--dbname",
        "padang112",
    ]
    assert env == {"PGPASSWORD": "s3cret"}
    command, env = dump.restore_command(Path("/b/padang112.pgdump"))
    assert command[:2] == ["pg_restore", "--no-owner"] and command[-1] == "/b/padang112.pgdump"
    assert "s3cret" not in " ".join(command) and env == {"PGPASSWORD": "s3cret"}
    assert isinstance(dbdump.for_url("sqlite+aiosqlite:////var/lib/padang112/padang112.db"), dbdump.SqliteDump)
    with pytest.raises(ValueError):
        dbdump.for_url("mysql://x@y/z")
