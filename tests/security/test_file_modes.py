"""Personal data on disk, attacked by another local account (``nobody``): the database, the secrets and the
recordings of a real call cannot be read; the controller's group can read the recordings (audited playback), and
the controller creates everything with umask 077."""

from __future__ import annotations

import grp
import os
import stat
import subprocess
from pathlib import Path

import pytest

from padang112 import privileges
from padang112.simulator import fleet
from tests.fixtures.controller import eventually
from tests.integration.test_call_path import call_of

pytestmark = pytest.mark.live


def read_as(user: str, group: str, path: Path) -> subprocess.CompletedProcess[bytes]:
    """``head -c4 path`` as ``user``:``group`` (no other groups). The file is reached through a descriptor of its
    directory opened here, so only the directory's and the file's own modes decide (not the test's tmp parents)."""
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        command = ["setpriv", f"--reuid={user}", f"--regid={group}", "--clear-groups", "head", "-c4"]
        return subprocess.run([*command, f"/proc/self/fd/{fd}/{path.name}"], capture_output=True, pass_fds=(fd,))
    finally:
        os.close(fd)


def _umask(pid: int) -> int:
    line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith("Umask:"))
    return int(line.split()[1], 8)


async def test_another_local_account_reads_neither_the_database_nor_secrets_nor_recordings(
    asterisk, controller, repo, seat_phones, simulator, seat_pool, live_settings
):
    if privileges.account(privileges.SERVICE_USER) is None:
        pytest.skip("the padang112 account is created by scripts/setup.sh")
    (seat,) = seat_pool(1)
    await seat_phones([seat], answer_after=0.3, hangup_after=1.5)
    citizen = await simulator("citizen-modes")
    caller = "+6281200000777"
    await citizen.call(
        "m1", fleet.target_uri(live_settings), bind=fleet.carrier_address(live_settings, "xl"), caller=caller
    )
    call = await eventually(lambda: call_of(repo, caller, "ended"), 20, what="the call ended")
    recording = live_settings.recordings_dir / f"{call.recording}.wav"
    await eventually(lambda: _exists(recording), 5, what="the recording")

    state = live_settings.state_dir
    service_gid = grp.getgrnam(privileges.SERVICE_USER).gr_gid
    mode = state.stat().st_mode
    assert stat.S_IMODE(mode) in (0o700, 0o1770) and not mode & stat.S_IRWXO
    for name in ("padang112.db", "secrets.toml"):
        assert stat.S_IMODE((state / name).stat().st_mode) == 0o600, name
    rec_dir = live_settings.recordings_dir.stat()
    assert (stat.S_IMODE(rec_dir.st_mode), rec_dir.st_gid) == (0o2770, service_gid)
    rec = recording.stat()
    assert not rec.st_mode & stat.S_IRWXO and rec.st_gid == service_gid, oct(rec.st_mode)
    assert _umask(controller.proc.pid) == 0o077

    # the attack: an unrelated local account tries to read them
    assert read_as("root", "root", recording).stdout == b"RIFF"  # the way in works
    for path in (state / "padang112.db", state / "secrets.toml", recording):
        attempt = read_as("nobody", "nogroup", path)
        assert attempt.returncode != 0 and b"Permission denied" in attempt.stderr, (path, attempt.stderr)
    # the controller's account reads the recording through its group (audited playback)
    allowed = read_as(privileges.SERVICE_USER, privileges.SERVICE_USER, recording)
    assert (allowed.returncode, allowed.stdout) == (0, b"RIFF"), allowed.stderr


async def _exists(path: Path) -> bool:
    return path.exists() and path.stat().st_size > 0 and os.access(path, os.R_OK)
