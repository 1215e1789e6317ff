"""RTSP cameras restreamed to HLS by ffmpeg, started on demand and stopped when nobody watches.

Each watched RTSP camera gets one ``ffmpeg`` process writing a short live HLS playlist (6 segments of 2 s,
older segments deleted) into ``<state_dir>/restream/<camera id>/``. Every playlist or segment request counts
as a viewer; :meth:`Restreamer.reap` (run every few seconds) stops processes nobody asked for within
``idle_s`` and removes their files. A process that died (camera gone) is started again by the next request.
The video is copied, not re-encoded, so a restream costs little CPU.

ffmpeg parses what a camera sends: it runs under its own account when this process may switch accounts
(:func:`padang112.privileges.media_process_options`), in its output directory as working directory and writing
relative paths only, so it needs no way through the private state directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from padang112 import privileges
from padang112.cameras.addresses import Network, check_stream_host
from padang112.cameras.model import Camera
from padang112.cameras.urls import split_credentials, with_credentials

log = logging.getLogger(__name__)

PLAYLIST = "index.m3u8"
SEGMENT_NAME = re.compile(r"seg\d{1,9}\.ts")
START_TIMEOUT_S = 20.0
Command = Callable[[str, str, Path], list[str]]  # (ffmpeg, input URL, output dir as ffmpeg sees it) -> argv
HERE = Path(".")  # ffmpeg runs in its output directory


class RestreamError(Exception):
    """The restream did not produce a playlist in time (camera unreachable, wrong codec, ...)."""


def ffmpeg_command(ffmpeg: str, url: str, out: Path) -> list[str]:
    return [
        ffmpeg,
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-rtsp_transport",
        "tcp",
        "-timeout",
        "5000000",
        "-i",
        url,
        "-map",
        "0:v:0",
        "-c:v",
        "copy",
        "-an",
        "-f",
        "hls",
        "-hls_time",
        "2",
        "-hls_list_size",
        "6",
        "-hls_flags",
        "delete_segments+omit_endlist+independent_segments",
        "-hls_segment_filename",
        str(out / "seg%06d.ts"),
        str(out / PLAYLIST),
    ]


@dataclass
class _Running:
    process: asyncio.subprocess.Process
    out: Path
    last_used: float = field(default_factory=time.monotonic)


class Restreamer:
    def __init__(
        self,
        root: Path,
        ffmpeg: str = "ffmpeg",
        idle_s: float = 30.0,
        command: Command = ffmpeg_command,
        allowed: tuple[Network, ...] | None = None,
    ) -> None:
        """``allowed``: the camera networks (:mod:`.addresses`); None skips the address check (tests' lavfi)."""
        self._root = root
        self._allowed = allowed
        self._ffmpeg = ffmpeg
        self.idle_s = idle_s
        self._command = command
        self._running: dict[int, _Running] = {}
        self._starting: dict[int, asyncio.Lock] = {}

    @property
    def running(self) -> frozenset[int]:
        return frozenset(cid for cid, r in self._running.items() if r.process.returncode is None)

    def fresh(self, camera_id: int, within_s: float) -> bool:
        """Whether a running restream wrote its playlist within ``within_s`` (the camera is answering)."""
        run = self._running.get(camera_id)
        if run is None or run.process.returncode is not None:
            return False
        with contextlib.suppress(OSError):
            return time.time() - (run.out / PLAYLIST).stat().st_mtime < within_s
        return False

    async def playlist(self, camera: Camera) -> Path:
        """The playlist file of a running restream of ``camera``, starting ffmpeg if needed."""
        lock = self._starting.setdefault(camera.id, asyncio.Lock())
        async with lock:
            run = self._running.get(camera.id)
            if run is None or run.process.returncode is not None:
                run = await self._start(camera)
            run.last_used = time.monotonic()
        path = run.out / PLAYLIST
        deadline = time.monotonic() + START_TIMEOUT_S
        while not path.exists():
            if run.process.returncode is not None or time.monotonic() > deadline:
                raise RestreamError(f"camera {camera.id}: no restream playlist")
            await asyncio.sleep(0.2)
        return path

    def segment(self, camera_id: int, name: str) -> Path | None:
        """A segment file of a running restream (names checked: nothing else of the disk is reachable)."""
        run = self._running.get(camera_id)
        if run is None or not SEGMENT_NAME.fullmatch(name):
            return None
        run.last_used = time.monotonic()
        path = run.out / name
        return path if path.is_file() else None

    async def _start(self, camera: Camera) -> _Running:
        await self._stop(camera.id)
        out = self._root / str(camera.id)
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True, mode=0o700)
        url = with_credentials(split_credentials(camera.stream_url))
        if self._allowed is not None:
            try:
                await check_stream_host(url, self._allowed)
            except OSError as exc:
                raise RestreamError(f"camera {camera.id}: {exc}") from None
        options = privileges.media_process_options(out)
        with (out / "ffmpeg.log").open("ab") as errors:
            process = await asyncio.create_subprocess_exec(
                *self._command(self._ffmpeg, url, HERE),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=errors,
                cwd=out,
                **options,  # type: ignore[arg-type]
            )
        log.info("camera %s: restream started (ffmpeg pid %s)", camera.id, process.pid)
        run = self._running[camera.id] = _Running(process, out)
        return run

    async def _stop(self, camera_id: int) -> None:
        run = self._running.pop(camera_id, None)
        if run is None:
            return
        if run.process.returncode is None:
            run.process.terminate()
            try:
                await asyncio.wait_for(run.process.wait(), 5)
            except TimeoutError:
                run.process.kill()
                await run.process.wait()
            log.info("camera %s: restream stopped", camera_id)
        shutil.rmtree(run.out, ignore_errors=True)

    async def stop(self, camera_id: int) -> None:
        """Stop a camera's restream now (the camera was changed or disabled)."""
        async with self._starting.setdefault(camera_id, asyncio.Lock()):
            await self._stop(camera_id)

    async def reap(self) -> list[int]:
        """Stop restreams idle longer than ``idle_s`` or whose ffmpeg exited; returns their camera ids."""
        now = time.monotonic()
        stale = [
            cid
            for cid, r in self._running.items()
            if now - r.last_used > self.idle_s or r.process.returncode is not None
        ]
        for cid in stale:
            await self.stop(cid)
        return stale

    async def close(self) -> None:
        for cid in list(self._running):
            await self._stop(cid)
        self._starting.clear()
