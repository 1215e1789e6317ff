"""Camera values shared by the registry, the proxy and the web layer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

KINDS = ("traffic", "public_facility", "flood_gauge", "other")
STREAM_TYPES = ("hls", "mjpeg", "snapshot", "rtsp")
ONLINE, OFFLINE, UNKNOWN = "online", "offline", "unknown"


@dataclass(frozen=True)
class CameraDraft:
    """What an admin submits (``padang112 camera add``, the admin page, ``POST /api/v1/cameras``)."""

    name: str
    kecamatan: str
    location_text: str
    latitude: float | None
    longitude: float | None
    kind: str
    stream_type: str
    stream_url: str


@dataclass(frozen=True)
class Camera:
    id: int
    name: str
    kecamatan: str
    location_text: str
    latitude: float
    longitude: float
    kind: str
    stream_type: str
    stream_url: str  # may hold credentials: never in a page or in a viewer's JSON
    enabled: bool
    created_by: str
    created_at: datetime
    updated_at: datetime
    status: str = UNKNOWN
    checked_at: datetime | None = None
    last_seen_at: datetime | None = None
    error: str | None = None

    @property
    def playback(self) -> str:
        """What the browser plays: RTSP is restreamed as HLS."""
        return "hls" if self.stream_type == "rtsp" else self.stream_type

    @property
    def point(self) -> tuple[float, float]:
        return (self.latitude, self.longitude)


@dataclass(frozen=True)
class ProbeResult:
    camera_id: int
    ok: bool
    at: datetime
    error: str | None = None
