"""Whether the instance's Asterisk still runs, asked while it is being stopped or killed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from padang112.pbx import chroot


def test_a_process_that_ended_or_is_not_asterisk_is_not_the_instance() -> None:
    other = subprocess.Popen(["sleep", "30"])
    try:
        assert not chroot._alive(other.pid)  # alive, but not Asterisk: a recycled pid
    finally:
        other.kill()
        other.wait()
    assert not chroot._alive(other.pid)


def test_a_process_gone_between_the_signal_and_the_name_is_not_running(monkeypatch: pytest.MonkeyPatch) -> None:
    """The race CI hit: ``kill()`` polled the pid it had just SIGKILLed, ``/proc/<pid>`` existed for the signal 0
    and was gone for the name (FileNotFoundError)."""
    gone = subprocess.Popen(["sleep", "30"])
    real_read = Path.read_text

    def vanished(path: Path, *args: object, **kwargs: object) -> str:
        if path == Path(f"/proc/{gone.pid}/comm"):
            raise FileNotFoundError(path)
        return real_read(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "read_text", vanished)
    try:
        assert not chroot._alive(gone.pid)
    finally:
        gone.kill()
        gone.wait()
