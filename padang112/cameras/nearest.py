"""The cameras nearest to a point (an incident's coordinates, or its kecamatan's approximate centre)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from padang112.cameras.model import Camera
from padang112.incidents import geography

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)


def haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in metres between two (latitude, longitude) points in degrees."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class Near:
    camera: Camera
    distance_m: float


def nearest(cameras: Iterable[Camera], point: tuple[float, float], radius_m: float, limit: int) -> list[Near]:
    """Enabled cameras within ``radius_m`` of ``point``, nearest first (ties by id), at most ``limit``."""
    found = [Near(c, haversine_m(point, c.point)) for c in cameras if c.enabled]
    inside = sorted((n for n in found if n.distance_m <= radius_m), key=lambda n: (n.distance_m, n.camera.id))
    return inside[: max(0, limit)]


@dataclass(frozen=True)
class Place:
    point: tuple[float, float]
    approximate: bool  # True: the kecamatan's rough centre, the incident had no coordinates


def place_of(latitude: float | None, longitude: float | None, kecamatan: str | None) -> Place | None:
    """Where to look around: the coordinates if given, else the kecamatan's approximate centre, else None."""
    if latitude is not None and longitude is not None:
        return Place((float(latitude), float(longitude)), approximate=False)
    if kecamatan and geography.normalise(kecamatan):
        return Place(geography.centre_of(kecamatan), approximate=True)
    return None
