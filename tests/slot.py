"""Which live-test slot this test process uses: its own switch ("testN", shifted ports), PostgreSQL and artefacts.

``P112_TEST_SLOT=N`` (default 0; not PADANG112_*, which is read as a setting) moves a developer's session off the
slots another session on the machine uses. ``make test`` runs the suite in two pytest-xdist workers (gw0, gw1):
each is a session of its own on the next slot, with its own switch and controller, so live scenarios run side by
side and never meet.
"""

from __future__ import annotations

import os

BASE = int(os.environ.get("P112_TEST_SLOT", "0"))
WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
SLOT = BASE + WORKER
