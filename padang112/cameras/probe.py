"""Camera health: each enabled camera's stream is checked every ``probe_interval_s``.

A check asks for as little as tells the stream is alive: the HLS playlist (must start ``#EXTM3U``), the first
bytes of the MJPEG stream or the snapshot (a JPEG starts ``FF D8``), and for RTSP ``ffprobe`` (skipped while a
restream of that camera is writing its playlist: some cameras take one RTSP client only). Outcomes are
stored (:meth:`CameraRegistry.record_probe`); a change of status is handed to ``notify`` (pushed live).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import aiohttp

from padang112 import privileges
from padang112.cameras.addresses import Network, check_stream_host, url_refusal
from padang112.cameras.model import Camera, ProbeResult
from padang112.cameras.registry import CameraRegistry
from padang112.cameras.restream import Restreamer
from padang112.cameras.urls import split_credentials, with_credentials
from padang112.storage.outage import log_failure

log = logging.getLogger(__name__)

PARALLEL = 8
JPEG = b"\xff\xd8"


def _now() -> datetime:
    return datetime.now(UTC)


async def probe_http(
    http: aiohttp.ClientSession, camera: Camera, timeout_s: float, allowed: tuple[Network, ...] = ()
) -> str | None:
    """None if the camera answers like a stream of its type, else why not (no address in the text; logged only:
    the console shows up or down, never the reason, or the probe would scan ports for whoever adds cameras)."""
    upstream = split_credentials(camera.stream_url)
    if (reason := url_refusal(upstream.url, allowed)) is not None:
        return f"address refused: {reason}"
    try:
        async with http.get(
            upstream.url,
            headers=upstream.headers_for(upstream.url),
            timeout=aiohttp.ClientTimeout(total=timeout_s),
            allow_redirects=False,
        ) as r:
            if r.status != 200:
                return f"HTTP {r.status}"
            head = await r.content.read(4096) if camera.stream_type != "mjpeg" else await _first_bytes(r)
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        return type(exc).__name__
    if camera.stream_type == "hls":
        return None if head.lstrip(b"\xef\xbb\xbf").startswith(b"#EXTM3U") else "not a playlist"
    return None if JPEG in head else "no JPEG"


async def _first_bytes(response: aiohttp.ClientResponse) -> bytes:
    """The MJPEG stream's bytes until the first JPEG marker (or 256 KiB)."""
    seen = b""
    async for chunk in response.content.iter_chunked(16384):
        seen += chunk
        if JPEG in seen or len(seen) > 256 << 10:
            break
    return seen


async def probe_rtsp(ffprobe: str, camera: Camera, timeout_s: float, allowed: tuple[Network, ...] = ()) -> str | None:
    url = with_credentials(split_credentials(camera.stream_url))
    try:
        await check_stream_host(url, allowed)
    except OSError as exc:
        return str(exc)
    try:
        process = await asyncio.create_subprocess_exec(
            ffprobe,
            "-v",
            "error",
            "-rtsp_transport",
            "tcp",
            "-timeout",
            str(int(timeout_s * 1e6)),
            "-i",
            url,
            "-show_entries",
            "stream=codec_type",
            "-of",
            "csv=p=0",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            cwd="/",
            **privileges.media_process_options(),  # type: ignore[arg-type]
        )
    except OSError as exc:
        return f"ffprobe: {type(exc).__name__}"
    try:
        out, _ = await asyncio.wait_for(process.communicate(), timeout_s + 2)
    except TimeoutError:
        process.kill()
        await process.wait()
        return "timeout"
    return None if b"video" in out else "no video stream"


class ProbeLoop:
    def __init__(
        self,
        registry: CameraRegistry,
        http: aiohttp.ClientSession,
        restreamer: Restreamer,
        interval_s: float,
        timeout_s: float,
        ffprobe: str,
        notify: Callable[[Camera], Awaitable[None] | None] = lambda camera: None,
        allowed: tuple[Network, ...] = (),
    ) -> None:
        self._allowed = allowed
        self._registry = registry
        self._http = http
        self._restreamer = restreamer
        self.interval_s = interval_s
        self._timeout_s = min(timeout_s, max(0.5, interval_s * 0.8))  # a round never overruns the next
        self._ffprobe = ffprobe
        self._notify = notify
        self._gate = asyncio.Semaphore(PARALLEL)

    async def check(self, camera: Camera) -> ProbeResult:
        async with self._gate:
            if camera.stream_type == "rtsp":
                if self._restreamer.fresh(camera.id, within_s=10):
                    error = None
                else:
                    error = await probe_rtsp(self._ffprobe, camera, self._timeout_s, self._allowed)
            else:
                error = await probe_http(self._http, camera, self._timeout_s, self._allowed)
        return ProbeResult(camera.id, error is None, _now(), error)

    async def round(self) -> list[ProbeResult]:
        """Probe every enabled camera once (in parallel, at most ``PARALLEL`` at a time)."""
        cameras = await self._registry.all(include_disabled=False)
        results = await asyncio.gather(*(self.check(c) for c in cameras))
        for result in results:
            before, camera = await self._registry.record_probe(result)
            if camera is not None and before != camera.status:
                log.log(
                    logging.WARNING if not result.ok else logging.INFO,
                    "camera %s: %s -> %s (%s)",
                    camera.id,
                    before,
                    camera.status,
                    result.error or "ok",
                )
                maybe = self._notify(camera)
                if maybe is not None:
                    await maybe
        return list(results)

    async def run(self) -> None:
        """Probe forever, one round every ``interval_s`` (measured from the start of a round)."""
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            try:
                await self.round()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the watch must keep watching
                log_failure(log, "camera probe round failed", exc)
            await asyncio.sleep(max(0.0, self.interval_s - (loop.time() - started)))
