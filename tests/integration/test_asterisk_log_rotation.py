"""ops/logrotate/padang112-asterisk rotates the live switch's logs, and Asterisk keeps writing to the fresh file.

The real ``logrotate`` (Debian package) runs the shipped rules, pointed at this slot's instance and given its own
state file; ``-f`` forces the rotation a daily schedule would do. Asterisk appends (``copytruncate`` needs no
command in the chroot), so its next warning lands at the start of the emptied ``messages.log``.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from padang112 import config
from padang112.pbx.layout import layout
from tests.fixtures.controller import eventually

pytestmark = pytest.mark.live

RULES = config.PROJECT_ROOT / "ops" / "logrotate" / "padang112-asterisk"


async def test_logrotate_rotates_the_switch_logs_and_asterisk_writes_on(
    asterisk, live_settings: config.Settings, tmp_path: Path
) -> None:
    binary = shutil.which("logrotate")
    if binary is None:
        pytest.skip("logrotate not installed (scripts/setup.sh installs it)")
    log_dir = layout(live_settings).host(layout(live_settings).log)
    messages = log_dir / "messages.log"
    asterisk.rx("channel originate Local/nobody@no-such-context application Wait 1")  # something to log
    await eventually(lambda: _grown(messages), 10, what="a line in messages.log")
    rules = tmp_path / "rules"
    rules.write_text(RULES.read_text().replace("/var/lib/padang112/asterisk-root/srv/padang112/*/log", str(log_dir)))
    done = subprocess.run(
        [binary, "--force", "--state", str(tmp_path / "state"), str(rules)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    rotated = sorted(log_dir.glob("messages.log-*"))
    assert rotated and rotated[-1].stat().st_size > 0, sorted(p.name for p in log_dir.iterdir())
    assert messages.stat().st_size == 0

    before = time.monotonic()
    asterisk.rx("channel originate Local/nobody@no-such-context application Wait 1")
    await eventually(lambda: _grown(messages), 10, what="Asterisk writing into the fresh messages.log")
    first_line = messages.read_bytes().split(b"\n", 1)[0]
    assert first_line.startswith(b"[") and b"\0" not in first_line  # appended at offset 0, no hole left behind
    print(f"\nAsterisk wrote into the rotated messages.log {time.monotonic() - before:.2f} s later")


async def _grown(path: Path) -> bool:
    return path.exists() and path.stat().st_size > 0
