"""Who may watch which camera.

Admins, supervisors and call takers work in the 112 room: they may watch every enabled camera. An agency
operator may watch the cameras near the open incidents dispatched to their agency (the same list
``/api/v1/incidents/{id}/cameras`` shows them), and nothing else: an agency with no incident nearby gets no
tile, no stream and no URL. The agency's list is recomputed at most every few seconds.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from padang112.accounts.users import UserRecord
from padang112.cameras.model import Camera
from padang112.cameras.nearest import nearest, place_of

SEE_EVERY_CAMERA = frozenset(
    {"admin", "supervisor", "call_taker", "wall"}
)  # every enabled camera; an agency: near its incidents
CACHE_S = 5.0

IncidentsOf = Callable[[str], Awaitable[list[dict[str, Any]]]]  # agency -> its open incidents (views)
AllCameras = Callable[[], Awaitable[list[Camera]]]


def near_incidents(cameras: list[Camera], incidents: Iterable[dict[str, Any]], radius_m: float, limit: int) -> set[int]:
    """Ids of the cameras listed for any of ``incidents`` (each incident's nearest within the radius)."""
    found: set[int] = set()
    for incident in incidents:
        place = place_of(incident.get("latitude"), incident.get("longitude"), incident.get("kecamatan"))
        if place is not None:
            found.update(n.camera.id for n in nearest(cameras, place.point, radius_m, limit))
    return found


class CameraAccess:
    def __init__(self, cameras: AllCameras, incidents_of: IncidentsOf, radius_m: float, limit: int) -> None:
        self._cameras = cameras
        self._incidents_of = incidents_of
        self._radius_m = radius_m
        self._limit = limit
        self._agency_cache: dict[str, tuple[float, frozenset[int]]] = {}
        self._viewed: dict[tuple[int, int], float] = {}

    async def visible_ids(self, user: UserRecord) -> frozenset[int] | None:
        """None: every enabled camera; else the ids this user may watch."""
        if user.role in SEE_EVERY_CAMERA:
            return None
        if user.role != "agency" or not user.agency:
            return frozenset()
        cached = self._agency_cache.get(user.agency)
        if cached is not None and time.monotonic() - cached[0] < CACHE_S:
            return cached[1]
        ids = frozenset(
            near_incidents(await self._cameras(), await self._incidents_of(user.agency), self._radius_m, self._limit)
        )
        self._agency_cache[user.agency] = (time.monotonic(), ids)
        return ids

    async def may_view(self, user: UserRecord, camera: Camera) -> bool:
        if not camera.enabled:
            return False
        ids = await self.visible_ids(user)
        return ids is None or camera.id in ids

    def forget(self) -> None:
        """Recompute on the next request (a camera or an incident changed)."""
        self._agency_cache.clear()

    def first_view_in(self, user_id: int, camera_id: int, window_s: float) -> bool:
        """True once per ``window_s`` for a user and camera (what the ``camera_viewed`` audit row is written for)."""
        now = time.monotonic()
        if now - self._viewed.get((user_id, camera_id), -window_s) < window_s:
            return False
        if len(self._viewed) > 4096:  # bounded: a wall runs for days
            self._viewed = {k: t for k, t in self._viewed.items() if now - t < window_s}
        self._viewed[(user_id, camera_id)] = now
        return True
