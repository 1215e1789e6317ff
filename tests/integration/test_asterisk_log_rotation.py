"""ops/logrotate/padang112-asterisk rotates the live switch's logs, and Asterisk keeps writing to the fresh file.

The real ``logrotate`` (Debian package) runs the shipped rules, pointed at this slot's instance and given its own
state file; ``-f`` forces the rotation a daily schedule would do. Asterisk appends (``copytruncate`` needs no
command in the chroot), so its next line lands at the start of the emptied file. The line written is a security event
(an INVITE from an address no carrier has): ``messages.log`` takes warnings and errors only (no notices, which name
the senders of refused requests), and nothing on demand is sure to make Asterisk warn.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from padang112 import config
from padang112.pbx.layout import layout
from tests.fixtures.controller import eventually
from tests.sipraw import raw_call

pytestmark = pytest.mark.live

RULES = config.PROJECT_ROOT / "ops" / "logrotate" / "padang112-asterisk"


async def test_logrotate_rotates_the_switch_logs_and_asterisk_writes_on(
    asterisk, live_settings: config.Settings, tmp_path: Path
) -> None:
    binary = shutil.which("logrotate")
    if binary is None:
        pytest.skip("logrotate not installed (scripts/setup.sh installs it)")
    log_dir = layout(live_settings).host(layout(live_settings).log)
    security = log_dir / "security.log"
    await asyncio.to_thread(_stranger_knocks, asterisk)  # something to log
    await eventually(lambda: _grown(security), 10, what="a line in security.log")
    rules = tmp_path / "rules"
    rules.write_text(RULES.read_text().replace("/var/lib/padang112/asterisk-root/srv/padang112/*/log", str(log_dir)))
    done = subprocess.run(
        [binary, "--force", "--state", str(tmp_path / "state"), str(rules)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    rotated = sorted(log_dir.glob("security.log-*"))
    assert rotated and rotated[-1].stat().st_size > 0, sorted(p.name for p in log_dir.iterdir())
    assert security.stat().st_size == 0

    before = time.monotonic()
    await asyncio.to_thread(_stranger_knocks, asterisk)
    await eventually(lambda: _grown(security), 10, what="Asterisk writing into the fresh security.log")
    first_line = security.read_bytes().split(b"\n", 1)[0]
    assert first_line.startswith(b"[") and b"\0" not in first_line  # appended at offset 0, no hole left behind
    print(f"\nAsterisk wrote into the rotated security.log {time.monotonic() - before:.2f} s later")


def _stranger_knocks(asterisk) -> None:
    """An INVITE from an address no carrier has, under a name that is no number: refused, a security event."""
    raw_call(asterisk.sip_host, asterisk.sip_port, "127.0.0.97", b"", b"scanner", "112", 0.1, 3.0)


async def _grown(path: Path) -> bool:
    return path.exists() and path.stat().st_size > 0
