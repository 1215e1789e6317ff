"""Issue 10 item 13, the switch's side: Asterisk's own logs do not keep callers' numbers in clear.

After a real 112 call over a carrier trunk, and a request from an unknown sender presenting a number, the
instance's log files (queue_log, messages.log, security.log) are read back. The caller's number must be in none;
the unknown sender's presented number may be in security.log only, as the ``AccountID`` of an
``InvalidAccountID`` event (the toll-fraud evidence that file exists for; 30 days). No log file is readable
by other local accounts. The fallback queue's side (no ENTERQUEUE caller ID in queue_log) is checked in
tests/integration/test_fallback_and_restart.py.
"""

from __future__ import annotations

import asyncio
import secrets
import stat

import pytest

from tests.fixtures.controller import eventually
from tests.security.test_numbers_in_urls import forms_of
from tests.security.test_prank_marks import abandoned_call
from tests.sipraw import raw_call

pytestmark = pytest.mark.live
UNKNOWN_SENDER = "127.0.0.98"  # no carrier's address


async def test_the_switch_logs_no_callers_number_and_only_refused_senders_in_security_log(
    asterisk, controller, repo, live_settings
) -> None:
    sizes = asterisk.log_sizes()
    caller = f"+62816{secrets.randbelow(10**7):07d}"
    await abandoned_call(asterisk, repo, live_settings, caller)  # received, queued, abandoned: stored
    stranger = f"+62817{secrets.randbelow(10**7):07d}"
    refused = await asyncio.to_thread(
        raw_call, asterisk.sip_host, asterisk.sip_port, UNKNOWN_SENDER, b"", stranger.encode(), "112", 0.5, 5.0
    )
    assert refused.final != 200, refused.statuses

    async def security_event() -> bool:
        return stranger.lstrip("+") in asterisk.logged_since(sizes).get("security.log", "")

    await eventually(security_event, 10, what="the refused request in security.log")
    written = asterisk.logged_since(sizes)
    for name, text in written.items():
        assert not [f for f in forms_of(caller) if f in text], f"the caller's number is in {name}"
        if name != "security.log":
            assert not [f for f in forms_of(stranger) if f in text], f"the refused sender's number is in {name}"
    for line in written["security.log"].splitlines():
        if stranger.lstrip("+") in line:
            assert 'SecurityEvent="InvalidAccountID"' in line, line
    assert "queue_log" not in written or not written["queue_log"]
    log_dir = asterisk.log_dir
    assert not stat.S_IMODE(log_dir.stat().st_mode) & stat.S_IRWXO
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in log_dir.iterdir() if p.is_file()}
    assert not {name: oct(mode) for name, mode in modes.items() if mode & (stat.S_IRWXO | stat.S_IWGRP)}
