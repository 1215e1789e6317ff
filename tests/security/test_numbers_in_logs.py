"""Issue 10 item 13: a caller's number never reaches the controller's log.

Attack: read the log (kept longer and by more people than call records) after a call from a known number was
received, queued, abandoned and put on the call-back list; the number must not be in any line written meanwhile.
"""

from __future__ import annotations

import secrets

import pytest

from tests.security.test_prank_marks import abandoned_call

pytestmark = pytest.mark.live


async def test_the_log_holds_call_ids_but_no_caller_number(asterisk, controller, repo, live_settings) -> None:
    log = controller.log_path
    start = log.stat().st_size
    number = f"+62815{secrets.randbelow(10**7):07d}"
    call = await abandoned_call(asterisk, repo, live_settings, number)
    written = log.read_bytes()[start:].decode(errors="replace")
    assert call.id in written, "the call's lines are not in the log"
    for form in (number, number.lstrip("+"), "0" + number[3:]):
        assert form not in written, f"{form} is in the log"
