"""Run Kamailio for the SIP edge in the foreground (systemd's ``Type=simple``, the tests' fixture, the demo).

It logs to stderr (``-E``) and keeps its pid file and control socket in ``[edge] run_dir``, so two edges on one
machine (the test slots) never share them. Rendering first means the running edge always matches the settings.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from padang112 import config
from padang112.edge import render

SHARED_MEMORY_MB = 64


def command(settings: config.Settings, cfg: Path, check_only: bool = False) -> list[str]:
    run_dir = settings.edge.run_dir
    if check_only:
        return [settings.edge.kamailio, "-c", "-f", str(cfg)]
    return [
        *(settings.edge.kamailio, "-DD", "-E", "-f", str(cfg)),
        *("-Y", str(run_dir), "-P", str(run_dir / "kamailio.pid"), "-m", str(SHARED_MEMORY_MB)),
    ]


def prepare(settings: config.Settings) -> Path:
    """Render the configuration and create the run directory (0700); the path of ``kamailio.cfg``."""
    cfg = render.write_all(settings)
    settings.edge.run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    return cfg


def check(settings: config.Settings) -> int:
    """Kamailio's own check of the rendered configuration (exit code 0 when it would start)."""
    done = subprocess.run(command(settings, prepare(settings), check_only=True), capture_output=True, text=True)
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
    else:
        print("konfigurasi edge valid / the edge's configuration is valid")
    return done.returncode


def run(settings: config.Settings) -> int:
    """Replace this process with Kamailio (the service manager then watches Kamailio itself)."""
    argv = command(settings, prepare(settings))
    os.execv(argv[0], argv)
    return 1  # not reached
