"""Where the controller's time goes: py-spy samples its stacks while a load step runs (``load.py --profile``).

py-spy (from the package index, ``.[bench]``) attaches to the running process from outside (ptrace, root here),
so the controller runs unchanged; it counts only samples that hold the GIL (the controller's Python work: it
runs one event loop). ``--format raw`` writes collapsed stacks, one line per distinct stack:
``frame;frame;...;frame count``. The summary counts a sample for the innermost frame (self time),
by function and by the package it is in.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

RATE_HZ = 200
# "function (path/to/module.py:123)" -> the module path; the line number is dropped so a function is one entry
FRAME_RE = re.compile(r"^(?P<func>.*?) \((?P<path>[^:()]+)(?::\d+)?\)$")
AREAS = (  # the package a sample's innermost frame is in (py-spy names a module by its path from sys.path)
    ("padang112", ("padang112/",)),
    ("sqlalchemy", ("sqlalchemy/",)),
    ("database driver", ("asyncpg/", "aiosqlite/", "sqlite3/")),
    ("aiohttp", ("aiohttp/", "yarl/", "multidict/")),
    ("json", ("json/",)),
    ("logging", ("logging/",)),
    ("asyncio", ("asyncio/", "selectors.py")),
    ("AMI (panoramisk)", ("panoramisk/",)),
)


def start(pid: int, out: Path, duration_s: float) -> subprocess.Popen[bytes] | None:
    """Sample ``pid`` for ``duration_s`` into ``out`` (collapsed stacks); None when py-spy is not installed."""
    spy = shutil.which("py-spy") or str(Path(__file__).resolve().parent.parent / ".venv/bin/py-spy")
    if not Path(spy).exists():
        return None
    # --gil: only samples of a thread running Python (idle waits and the database's C work let go of the GIL)
    cmd = [spy, "record", "--pid", str(pid), "--rate", str(RATE_HZ), "--format", "raw", "--output", str(out), "--gil"]
    cmd += ["--duration", str(max(1, round(duration_s))), "--nonblocking"]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def parse_collapsed(lines: Iterable[str]) -> Counter[tuple[str, ...]]:
    """Collapsed stacks -> {stack (outermost first): samples}; malformed lines are skipped."""
    stacks: Counter[tuple[str, ...]] = Counter()
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if stack and count.isdigit():
            stacks[tuple(stack.split(";"))] += int(count)
    return stacks


def area(frame: str) -> str:
    match = FRAME_RE.match(frame)
    path = match.group("path") if match else frame
    return next((name for name, prefixes in AREAS if path.startswith(prefixes)), "other")


def short(frame: str) -> str:
    match = FRAME_RE.match(frame)
    if not match:
        return frame
    path = match.group("path")
    tail = path.split("/site-packages/")[-1].split("/padang112/")[-1]
    return f"{match.group('func')} ({tail})"


def summary(stacks: Counter[tuple[str, ...]], top: int = 12) -> str:
    """Shares of the samples by package (innermost frame) and the functions with the most self time."""
    total = sum(stacks.values())
    if not total:
        return "no samples"
    by_package: Counter[str] = Counter()
    by_function: Counter[str] = Counter()
    for stack, count in stacks.items():
        by_package[area(stack[-1])] += count
        by_function[short(stack[-1])] += count
    shares = ", ".join(f"{a} {n * 100 / total:.0f} %" for a, n in by_package.most_common())
    lines = [f"{total} samples at {RATE_HZ} Hz ({total / RATE_HZ:.1f} s of Python); by package: {shares}"]
    lines += [f"  {n * 100 / total:5.1f} %  {name}" for name, n in by_function.most_common(top)]
    return "\n".join(lines)
