"""Files and accounts: the state directory and its private files, and ffmpeg under its own account."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from padang112 import privileges
from padang112.cameras.restream import Restreamer
from tests.unit.test_camera_registry import lavfi_command

needs_accounts = pytest.mark.skipif(
    os.geteuid() != 0 or privileges.account(privileges.MEDIA_USER) is None,
    reason="needs root and the accounts scripts/setup.sh creates",
)


@needs_accounts
def test_the_state_dir_is_closed_to_others_and_root_never_follows_a_planted_link(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o755)
    (state / "padang112.db").write_bytes(b"SQLite")
    (state / "padang112.db").chmod(0o644)
    victim = tmp_path / "shadow"
    victim.write_text("root's")
    victim.chmod(0o640)
    (state / "secrets.toml").symlink_to(victim)  # planted by a compromised service account
    privileges.harden_state_dir(state)
    service = privileges.account(privileges.SERVICE_USER)
    assert service is not None
    info = state.stat()
    assert (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid) == (0o1770, 0, service.gid)
    db = (state / "padang112.db").stat()
    assert (stat.S_IMODE(db.st_mode), db.st_uid) == (0o600, service.uid)
    assert (victim.stat().st_uid, stat.S_IMODE(victim.stat().st_mode)) == (0, 0o640)  # untouched


@needs_accounts
def test_recordings_are_given_to_the_controllers_group_and_lose_their_world_bits(tmp_path: Path) -> None:
    recordings = tmp_path / "rec"
    recordings.mkdir()
    old = recordings / "call-1.wav"
    old.write_bytes(b"RIFF")
    old.chmod(0o644)
    privileges.harden_recordings(recordings, asterisk_uid=0)
    assert stat.S_IMODE(recordings.stat().st_mode) == 0o2770
    assert stat.S_IMODE(old.stat().st_mode) == 0o640
    assert recordings.stat().st_gid == old.stat().st_gid == privileges.service_group()


def test_asterisk_logs_written_before_the_umask_lose_their_world_bits(tmp_path: Path) -> None:
    logs = tmp_path / "log"
    logs.mkdir(mode=0o755)
    old, fresh = logs / "queue_log", logs / "messages.log"
    old.write_text("1796246908|1796246900.221|padang112-fallback|NONE|ENTERQUEUE||+6281400000001|1\n")
    old.chmod(0o666)
    fresh.write_text("")
    fresh.chmod(0o600)
    (logs / "elsewhere").symlink_to(tmp_path / "outside")  # never followed
    privileges.harden_logs(logs)
    assert stat.S_IMODE(logs.stat().st_mode) == 0o750
    assert (stat.S_IMODE(old.stat().st_mode), stat.S_IMODE(fresh.stat().st_mode)) == (0o640, 0o600)


@needs_accounts
@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs Debian's ffmpeg (scripts/setup.sh)")
async def test_ffmpeg_parses_camera_streams_under_its_own_account(tmp_path: Path) -> None:
    from tests.unit.test_cameras import camera

    root = tmp_path / "private"
    root.mkdir(mode=0o700)  # like the state directory: the media account cannot pass through it
    restreamer = Restreamer(root / "restream", command=lavfi_command)
    try:
        playlist = await restreamer.playlist(camera(5, -0.95, 100.35))
        assert playlist.read_text().startswith("#EXTM3U")
        (pid,) = [r.process.pid for r in restreamer._running.values()]
        uid_line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith("Uid:"))
        media = privileges.account(privileges.MEDIA_USER)
        assert media is not None and set(uid_line.split()[1:]) == {str(media.uid)}
    finally:
        await restreamer.close()
