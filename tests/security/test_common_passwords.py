"""Issue 10 item 14 (first half): the leaked-password list is refused where accounts get their passwords.

Attack: give an account one of the passwords every guesser tries first (as is, or with digits added); the
``padang112 user add`` / ``passwd`` commands must refuse it, and no account may exist afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.live

WEAK = ("password1234", "iloveyou2026", "qwertyuiop", "Padang112!!", "1234567890")


def user_cli(settings, *argv: str, stdin: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PADANG112_CONFIG=str(settings.config_path))
    command = [sys.executable, "-m", "padang112.cli", "user", *argv]
    return subprocess.run(command, input=stdin, text=True, env=env, capture_output=True)


@pytest.mark.parametrize("weak", WEAK)
def test_a_common_password_is_refused_for_a_new_account_and_a_new_password(live_settings, weak: str) -> None:
    name = f"sec-weak-{abs(hash(weak)) % 10**6}"
    made = user_cli(live_settings, "add", name, "--role", "supervisor", "--password-stdin", stdin=weak + "\n")
    assert made.returncode != 0 and "too common" in made.stderr, made.stderr
    assert name not in user_cli(live_settings, "list", stdin="").stdout
    good = user_cli(live_settings, "add", name, "--role", "supervisor", "--password-stdin", stdin="Kopi-tubruk-jam-3\n")
    assert good.returncode == 0, good.stderr
    changed = user_cli(live_settings, "passwd", name, "--password-stdin", stdin=weak + "\n")
    assert changed.returncode != 0 and "too common" in changed.stderr, changed.stderr
