"""Benchmark: ``padang112 backup`` of a room with N calls (default 10,000), then restore and verify.

Generates N recorded calls (each through the real event writer, so hash-chained), an incident for every tenth,
and a small WAV per call (1 s, 8 kHz, 16 bit: 16 KB) into a temporary state directory; seals the recordings;
then runs the real command line and prints the backup's time and size, the restore's time, and ``verify``.

    .venv/bin/python bench/backup.py --calls 10000
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import struct
import subprocess
import sys
import tempfile
import time
import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path

from padang112 import config
from padang112.domain.events import CallTransition, DomainEvent, RecordingFinished, RecordingStarted
from padang112.incidents.model import IncidentDraft
from padang112.incidents.store import IncidentStore
from padang112.integrity.seals import Sealer
from padang112.storage import migrate
from padang112.storage.db import create_engine
from padang112.storage.repository import EventWriter

T0 = datetime.now(UTC) - timedelta(days=5)  # every call (30 s apart) over before now
PADANG112 = [sys.executable, "-m", "padang112.cli"]


def call_events(i: int, at: datetime) -> list[DomainEvent]:
    cid = f"bench-{i:06d}"
    t = at + timedelta(seconds=4)
    seat = f"seat{i % 6 + 1:02d}"
    name = f"call-{cid}"
    return [
        CallTransition(cid, at, None, "received", data={"caller_number": f"+62812{i:07d}", "carrier": "telkomsel"}),
        CallTransition(cid, at, "received", "queued"),
        CallTransition(cid, t, "queued", "offered", seat=seat),
        CallTransition(cid, t, "offered", "connected", seat=seat),
        RecordingStarted(cid, t, name, f"/recordings/{name}.wav"),
        CallTransition(cid, t + timedelta(seconds=60), "connected", "ended", seat=seat, data={"ended_by": "caller"}),
        RecordingFinished(cid, t + timedelta(seconds=60), name, 60.0),
    ]


TONE = b"".join(struct.pack("<h", int(8000 * math.sin(n * 0.2))) for n in range(8000))


def write_wav(path: Path, i: int) -> None:
    frames = struct.pack("<I", i) + TONE[4:]  # every file differs
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(frames)
    old = time.time() - 3600
    os.utime(path, (old, old))


async def generate(settings: config.Settings, calls: int) -> None:
    await migrate.upgrade_async(settings.db_url)
    engine = create_engine(settings.db_url)
    writer = EventWriter(engine)
    await writer.start()
    incidents = IncidentStore(engine, lambda: T0)
    recordings = Path(settings.recordings_dir)
    recordings.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    pending = []
    for i in range(calls):
        write_wav(recordings / f"call-bench-{i:06d}.wav", i)
        pending.append(writer.write(call_events(i, T0 + timedelta(seconds=30 * i))))
        if len(pending) >= 100:
            await asyncio.gather(*pending)
            pending.clear()
        if i % 10 == 0:
            draft = IncidentDraft("flood", 2, "Kuranji", f"banjir {i}", agencies=("bpbd",), call_id=f"bench-{i:06d}")
            await incidents.create(draft, "bench", lambda priority: 120)
    await asyncio.gather(*pending)
    await writer.stop()
    sealed = await Sealer(engine, recordings).seal_pending()
    await engine.dispose()
    print(
        f"[bench] generated {calls} calls, {calls // 10} incidents, {sealed} sealed recordings "
        f"in {time.monotonic() - started:.1f} s",
        flush=True,
    )


def cli(config_file: Path, *args: str) -> tuple[float, str]:
    started = time.monotonic()
    done = subprocess.run([*PADANG112, "--config", str(config_file), *args], capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return elapsed, done.stdout


def settings_file(root: Path, name: str) -> Path:
    path = root / f"{name}.toml"
    path.write_text(f'state_dir = "{root / name / "state"}"\nrecordings_dir = "{root / name / "recordings"}"\n')
    return path


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="p112-bench-backup-") as tmp:
        root = Path(tmp)
        live = settings_file(root, "live")
        asyncio.run(generate(config.load(live, environ={}), args.calls))
        dest = root / "backup"
        seconds, out = cli(live, "backup", str(dest))
        print(out, end="")
        print(f"[bench] backup of {args.calls} calls: {seconds:.2f} s wall (process included), {du(dest) / 1e6:.1f} MB")
        fresh = settings_file(root, "restored")
        seconds, out = cli(fresh, "restore", str(dest))
        print(f"[bench] restore: {seconds:.2f} s")
        seconds, out = cli(fresh, "verify", "--lang", "en")
        print(f"[bench] verify of the restored room: {seconds:.2f} s: {out.strip().splitlines()[-1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
