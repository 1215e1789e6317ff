"""The camera tables (a real migrated SQLite file) and the RTSP restream's lifecycle (a real ffmpeg process)."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import shutil
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112.cameras.model import OFFLINE, ONLINE, UNKNOWN, CameraDraft, ProbeResult
from padang112.cameras.registry import CameraRegistry
from padang112.cameras.restream import Restreamer
from padang112.storage.db import session_factory
from padang112.storage.models import AuditEntry

pytestmark = pytest.mark.engines("sqlite", "postgresql")  # the storage contract, on both engines

DRAFT = CameraDraft(
    name="Jembatan Siti Nurbaya",
    kecamatan="Padang Selatan",
    location_text="arah Muaro",
    latitude=-0.965,
    longitude=100.36,
    kind="traffic",
    stream_type="rtsp",
    stream_url="rtsp://admin:s3cret@10.0.0.8:554/stream1",
)


async def test_a_camera_is_stored_probed_and_disabled_with_an_audit_trail_that_hides_its_password(
    engine: AsyncEngine, clock
):
    registry = CameraRegistry(engine, clock=clock)
    added = await registry.add(DRAFT, by="admin1")
    assert (added.status, added.enabled, added.stream_url) == (UNKNOWN, True, DRAFT.stream_url)

    assert await registry.record_probe(ProbeResult(added.id, True, clock.now)) == (None, await registry.get(added.id))
    seen = clock.now
    clock.advance(seconds=30)
    before, now = await registry.record_probe(ProbeResult(added.id, False, clock.now, "TimeoutError"))
    assert before == ONLINE and now is not None
    assert (now.status, now.last_seen_at, now.checked_at, now.error) == (OFFLINE, seen, clock.now, "TimeoutError")

    disabled = await registry.update(added.id, {"enabled": False}, by="admin1")
    assert not disabled.enabled and disabled.status == OFFLINE
    assert [c.id for c in await registry.all(include_disabled=False)] == []
    async with session_factory(engine)() as session:
        audit = (await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars().all()
    assert [(a.action, a.username) for a in audit] == [("camera_added", "admin1"), ("camera_disabled", "admin1")]
    assert all("s3cret" not in str(a.detail) for a in audit)
    with pytest.raises(ValueError):
        await registry.update(added.id, {"created_by": "x"}, by="admin1")


async def test_a_wall_layout_is_saved_per_user(engine: AsyncEngine, clock):
    from padang112.accounts.users import UserStore

    users = UserStore(engine, clock=clock)
    joni = await users.create("joni", role="supervisor", password="Cukup-panjang-112", by="t")
    registry = CameraRegistry(engine, clock=clock)
    assert await registry.layout(joni.id) is None
    await registry.save_layout(joni.id, 4, [3, None, 1])
    await registry.save_layout(joni.id, 9, [3, None, 1, 2])
    assert await registry.layout(joni.id) == (9, [3, None, 1, 2])
    with pytest.raises(ValueError):
        await registry.save_layout(joni.id, 5, [])
    with pytest.raises(ValueError):
        await registry.save_layout(joni.id, 1, [1, 2])


def lavfi_command(ffmpeg: str, url: str, out: Path) -> list[str]:
    """The restream's HLS output with a test pattern as input: the lifecycle without an RTSP server."""
    return [
        ffmpeg,
        "-nostdin",
        "-loglevel",
        "error",
        "-re",
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=160x120:rate=5",
        "-c:v",
        "mpeg2video",
        "-f",
        "hls",
        "-hls_time",
        "1",
        "-hls_list_size",
        "4",
        "-hls_flags",
        "delete_segments+omit_endlist",
        "-hls_segment_filename",
        str(out / "seg%06d.ts"),
        str(out / "index.m3u8"),
    ]


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs Debian's ffmpeg (scripts/setup.sh)")
async def test_a_restream_starts_on_demand_serves_only_its_segments_and_stops_when_nobody_watches(
    tmp_path: Path, clock
):
    from tests.unit.test_cameras import camera

    rtsp = camera(5, -0.95, 100.35)
    restreamer = Restreamer(tmp_path / "restream", idle_s=0.5, command=lavfi_command)
    try:
        playlist = await restreamer.playlist(rtsp)
        assert playlist.read_text().startswith("#EXTM3U") and restreamer.running == {5}
        await restreamer.playlist(rtsp)  # a second viewer shares the process
        assert restreamer.running == {5}
        name = next(line for line in playlist.read_text().splitlines() if line.endswith(".ts"))
        assert restreamer.segment(5, name) == playlist.parent / name
        for hostile in ("../../etc/passwd", "index.m3u8", "ffmpeg.log", "seg1.ts/../x"):
            assert restreamer.segment(5, hostile) is None
        assert await restreamer.reap() == []  # just used
        await asyncio.sleep(0.7)
        assert await restreamer.reap() == [5]
        assert restreamer.running == frozenset() and not playlist.parent.exists()
    finally:
        await restreamer.close()


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs Debian's ffmpeg (scripts/setup.sh)")
async def test_an_rtsp_cameras_restream_is_served_through_the_proxy_without_its_address(tmp_path: Path):
    import aiohttp

    from padang112.cameras.proxy import CameraProxy
    from tests.unit.test_cameras import camera

    rtsp = dataclasses.replace(
        camera(9, -0.95, 100.35), stream_type="rtsp", stream_url="rtsp://admin:s3cret@10.0.0.8:554/stream1"
    )
    restreamer = Restreamer(tmp_path / "restream", command=lavfi_command)
    try:
        async with aiohttp.ClientSession() as http:
            proxy = CameraProxy(http, b"k", restreamer)
            text = (await proxy.playlist(rtsp)).text or ""
        segments = [line for line in text.splitlines() if not line.startswith("#")]
        assert segments and all(re.fullmatch(r"/kamera/9/r/seg\d{6}\.ts", s) for s in segments), text
        assert "10.0.0.8" not in text and "s3cret" not in text and str(tmp_path) not in text
        assert isinstance(proxy.restream_segment(rtsp, segments[0].rsplit("/", 1)[1]), web.FileResponse)
        with pytest.raises(web.HTTPNotFound):
            proxy.restream_segment(rtsp, "../../secrets.toml")
    finally:
        await restreamer.close()
