"""Local test cameras: ffmpeg draws a moving test pattern (with the camera's name and the time, WIB, on it) and a
small aiohttp server serves it on loopback behind HTTP Basic auth, as a city camera would: HLS
(``/<slug>/hls/index.m3u8`` and its segments), MJPEG (``/<slug>/mjpeg``) or a JPEG snapshot
(``/<slug>/snapshot.jpg``). Used by ``make demo`` (the wall, the map and "Kamera terdekat" show video) and by the
test fixture ``tests/fixtures/camera_streams.py`` (which adds a camera that can be switched off).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from padang112.stats.service_level import WIB

FFMPEG = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"
USERNAME = "kamera"
SIZE = "320x240"


def lavfi_source(label: str | None = None, rate: int = 10) -> str:
    """``testsrc2`` with, when ``label`` is given, the label and the WIB clock drawn on it."""
    pattern = f"testsrc2=size={SIZE}:rate={rate}"
    if not label:
        return pattern
    text = re.sub(r"[^\w .·-]", "", label)[:40].replace(":", "")  # drawtext's own syntax stays out of it
    box = "box=1:boxcolor=black@0.6:boxborderw=4:fontcolor=white:fontsize=14"
    clock = r"%{localtime\:%H\\\:%M\\\:%S} WIB"
    return f"{pattern},drawtext=text='{text}':x=6:y=6:{box},drawtext=text='{clock}':x=6:y=h-24:{box}"


def _ffmpeg(source: str) -> list[str]:
    return [FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi", "-i", source]


def hls_command(out: Path, source: str) -> list[str]:
    """A live HLS playlist ``out/index.m3u8`` (H.264, 1 s segments, six kept)."""
    encode = ["-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p", "-g", "10"]
    hls = ["-f", "hls", "-hls_time", "1", "-hls_list_size", "6", "-hls_flags", "delete_segments+omit_endlist"]
    return [*_ffmpeg(source), *encode, *hls, str(out / "index.m3u8")]


def jpeg_command(frame: Path, source: str) -> list[str]:
    """The latest frame as ``frame``, replaced atomically (snapshot and MJPEG read it)."""
    return [*_ffmpeg(source), "-q:v", "5", "-f", "image2", "-update", "1", "-atomic_writing", "1", str(frame)]


async def stream_mjpeg(request: web.Request, frame: Path) -> web.StreamResponse:
    """``multipart/x-mixed-replace`` of ``frame`` each time it changes, until the viewer goes away."""
    response = web.StreamResponse(headers={"Content-Type": "multipart/x-mixed-replace; boundary=frame"})
    last = 0.0
    with contextlib.suppress(ConnectionError):
        await response.prepare(request)
        while True:
            stamp = (await asyncio.to_thread(frame.stat)).st_mtime
            if stamp != last:
                last = stamp
                body = await asyncio.to_thread(frame.read_bytes)
                head = f"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                await response.write(head + body + b"\r\n")
            await asyncio.sleep(0.05)
    return response


def basic_auth(password: str) -> Callable[..., Awaitable[web.StreamResponse]]:
    expected = "Basic " + base64.b64encode(f"{USERNAME}:{password}".encode()).decode()

    @web.middleware
    async def check(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]):
        if not secrets.compare_digest(request.headers.get("Authorization", ""), expected):
            return web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="camera"'})
        return await handler(request)

    return check


def serve_hls(root: Path) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def hls(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        path = root / name
        if "/" in name or not path.is_file():
            raise web.HTTPNotFound()
        kind = "application/vnd.apple.mpegurl" if name.endswith(".m3u8") else "video/mp2t"
        return web.Response(body=path.read_bytes(), content_type=kind)

    return hls


@dataclass(frozen=True)
class DemoCamera:
    """A camera of the demo, placed at a real place in Padang (coordinates approximate)."""

    name: str
    kecamatan: str
    location: str
    lat: float
    lon: float
    stream_type: str  # hls | mjpeg | snapshot
    kind: str = "traffic"

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")


PADANG_CAMERAS = (
    DemoCamera(
        "Jembatan Siti Nurbaya", "Padang Selatan", "Jembatan Siti Nurbaya, Batang Arau", -0.9616, 100.3604, "hls"
    ),
    DemoCamera("Simpang Haru", "Padang Timur", "Simpang Haru, Jl. Sutan Syahrir", -0.9497, 100.3741, "hls"),
    DemoCamera(
        "Pasar Raya", "Padang Barat", "Pasar Raya Padang, Jl. Pasar Raya", -0.9496, 100.3614, "mjpeg", "public_facility"
    ),
    DemoCamera("Pantai Muaro Lasak", "Padang Barat", "Taman Muaro Lasak, Jl. Samudera", -0.9318, 100.3512, "mjpeg"),
    DemoCamera("Simpang Tabing", "Koto Tangah", "Simpang Tabing, Jl. Adinegoro", -0.8871, 100.3517, "snapshot"),
    DemoCamera(
        "Khatib Sulaiman", "Padang Utara", "Jl. Khatib Sulaiman, depan Masjid Raya", -0.9226, 100.3625, "snapshot"
    ),
)


@dataclass
class CameraFeeds:
    """One ffmpeg per camera and one server for all; ``await start()``, ``url(camera)``, ``await stop()``."""

    root: Path
    cameras: Iterable[DemoCamera] = PADANG_CAMERAS
    password: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    port: int = 0
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    runner: web.AppRunner | None = None

    def url(self, camera: DemoCamera) -> str:
        """The stream URL an admin registers (credentials included)."""
        path = {"hls": "hls/index.m3u8", "mjpeg": "mjpeg", "snapshot": "snapshot.jpg"}[camera.stream_type]
        return f"http://{USERNAME}:{self.password}@127.0.0.1:{self.port}/{camera.slug}/{path}"

    async def start(self, timeout: float = 20.0) -> None:
        app = web.Application(middlewares=[basic_auth(self.password)])
        outputs = self._launch(app)
        self.runner = web.AppRunner(app, shutdown_timeout=1)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        self.port = self.runner.addresses[0][1]
        deadline = asyncio.get_running_loop().time() + timeout
        while not all(path.exists() for path in outputs):
            if asyncio.get_running_loop().time() > deadline or any(p.poll() is not None for p in self.processes):
                await self.stop()
                raise RuntimeError("the demo cameras did not start (ffmpeg)")
            await asyncio.sleep(0.2)

    def _launch(self, app: web.Application) -> list[Path]:
        """One ffmpeg per camera and its routes; returns the files that exist once each camera is up."""
        clock_env = {**os.environ, "TZ": WIB.key}  # the time drawn on the picture is WIB
        outputs: list[Path] = []
        for camera in self.cameras:
            here = self.root / camera.slug
            if camera.stream_type == "hls":
                (here / "hls").mkdir(parents=True, exist_ok=True)
                command, output = hls_command(here / "hls", lavfi_source(camera.name)), here / "hls" / "index.m3u8"
                app.router.add_get(f"/{camera.slug}/hls/{{name}}", serve_hls(here / "hls"))
            else:
                here.mkdir(parents=True, exist_ok=True)
                output = here / "frame.jpg"
                command = jpeg_command(output, lavfi_source(camera.name, rate=5))
                app.router.add_get(f"/{camera.slug}/snapshot.jpg", _snapshot(output))
                app.router.add_get(f"/{camera.slug}/mjpeg", _mjpeg(output))
            self.processes.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, env=clock_env))
            outputs.append(output)
        return outputs

    async def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                await asyncio.to_thread(process.wait, 5)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait)
        self.processes.clear()
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None


def _snapshot(frame: Path) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def snapshot(request: web.Request) -> web.Response:
        return web.Response(body=await asyncio.to_thread(frame.read_bytes), content_type="image/jpeg")

    return snapshot


def _mjpeg(frame: Path) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def mjpeg(request: web.Request) -> web.StreamResponse:
        return await stream_mjpeg(request, frame)

    return mjpeg
