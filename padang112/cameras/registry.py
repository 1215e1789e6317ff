"""The camera tables: ``cameras``, ``camera_health`` (latest probe) and ``wall_layouts`` (one per user).

Writes are single ``BEGIN IMMEDIATE`` transactions; a change to a camera also writes an ``audit_log`` row
(who, what), with the stream URL redacted (:func:`padang112.cameras.urls.redact`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from padang112.cameras.model import OFFLINE, ONLINE, Camera, CameraDraft, ProbeResult
from padang112.cameras.urls import redact
from padang112.storage.db import for_writing, session_factory
from padang112.storage.models import AuditEntry, CameraHealthRow, CameraRow, WallLayoutRow

Clock = Callable[[], datetime]
GRIDS = (1, 4, 9, 16)
EDITABLE = frozenset(f.name for f in dataclasses.fields(CameraDraft)) | {"enabled"}


class CameraNotFound(LookupError):
    pass


def _now() -> datetime:
    return datetime.now(UTC)


def _camera(row: CameraRow, health: CameraHealthRow | None) -> Camera:
    camera = Camera(
        id=row.id,
        name=row.name,
        kecamatan=row.kecamatan,
        location_text=row.location_text,
        latitude=row.latitude,
        longitude=row.longitude,
        kind=row.kind,
        stream_type=row.stream_type,
        stream_url=row.stream_url,
        enabled=row.enabled,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
    if health is None:
        return camera
    return dataclasses.replace(
        camera,
        status=health.status,
        checked_at=health.checked_at,
        last_seen_at=health.last_seen_at,
        error=health.error,
    )


class CameraRegistry:
    def __init__(self, engine: AsyncEngine, clock: Clock = _now) -> None:
        self._read = session_factory(engine)
        self._write = session_factory(for_writing(engine))
        self._clock = clock

    async def add(self, draft: CameraDraft, by: str) -> Camera:
        """Store a validated draft (see :func:`padang112.cameras.validation.validate`) as an enabled camera."""
        now = self._clock()
        async with self._write() as session, session.begin():
            row = CameraRow(**dataclasses.asdict(draft), enabled=True, created_by=by, created_at=now, updated_at=now)
            session.add(row)
            await session.flush()
            self._audit(session, by, "camera_added", row)
        return _camera(row, None)

    async def update(self, camera_id: int, changes: dict[str, Any], by: str) -> Camera:
        """Apply validated changes (fields of :class:`CameraDraft` and ``enabled``); ``CameraNotFound`` if none."""
        unknown = set(changes) - EDITABLE
        if unknown:
            raise ValueError(f"not editable: {sorted(unknown)}")
        async with self._write() as session, session.begin():
            row = await session.get(CameraRow, camera_id)
            if row is None:
                raise CameraNotFound(camera_id)
            for name, value in changes.items():
                setattr(row, name, value)
            row.updated_at = self._clock()
            action = "camera_disabled" if changes.get("enabled") is False else "camera_changed"
            self._audit(session, by, action, row, fields=sorted(changes))
            health = await session.get(CameraHealthRow, camera_id)
        return _camera(row, health)

    def _audit(self, session: AsyncSession, by: str, action: str, row: CameraRow, **extra: Any) -> None:
        session.add(
            AuditEntry(
                at=self._clock(),
                username=by,
                action=action,
                detail={
                    "camera_id": row.id,
                    "name": row.name,
                    "stream_type": row.stream_type,
                    "stream_url": redact(row.stream_url),
                    "enabled": row.enabled,
                    **extra,
                },
            )
        )

    async def get(self, camera_id: int) -> Camera | None:
        async with self._read() as session:
            found = (
                await session.execute(
                    select(CameraRow, CameraHealthRow).outerjoin(CameraHealthRow).where(CameraRow.id == camera_id)
                )
            ).first()
        return None if found is None else _camera(*found)

    async def all(self, include_disabled: bool = True) -> list[Camera]:
        query = select(CameraRow, CameraHealthRow).outerjoin(CameraHealthRow).order_by(CameraRow.id)
        if not include_disabled:
            query = query.where(CameraRow.enabled.is_(True))
        async with self._read() as session:
            return [_camera(*found) for found in (await session.execute(query)).all()]

    async def record_probe(self, result: ProbeResult) -> tuple[str | None, Camera | None]:
        """Store a probe's outcome; returns the status before it (None: never probed) and the camera now."""
        status = ONLINE if result.ok else OFFLINE
        async with self._write() as session, session.begin():
            row = await session.get(CameraRow, result.camera_id)
            if row is None:
                return None, None
            health = await session.get(CameraHealthRow, result.camera_id)
            before = None if health is None else health.status
            if health is None:
                health = CameraHealthRow(
                    camera_id=result.camera_id, status=status, checked_at=result.at, changed_at=result.at
                )
                session.add(health)
            elif health.status != status:
                health.changed_at = result.at
            health.status = status
            health.checked_at = result.at
            health.error = result.error
            if result.ok:
                health.last_seen_at = result.at
        return before, _camera(row, health)

    async def layout(self, user_id: int) -> tuple[int, list[int | None]] | None:
        async with self._read() as session:
            row = await session.get(WallLayoutRow, user_id)
        return None if row is None else (row.grid, list(row.tiles))

    async def save_layout(self, user_id: int, grid: int, tiles: list[int | None]) -> None:
        if grid not in GRIDS or len(tiles) > grid:
            raise ValueError(f"grid must be one of {GRIDS} with at most that many tiles")
        async with self._write() as session, session.begin():
            row = await session.get(WallLayoutRow, user_id)
            if row is None:
                session.add(WallLayoutRow(user_id=user_id, grid=grid, tiles=tiles, updated_at=self._clock()))
            else:
                row.grid, row.tiles, row.updated_at = grid, tiles, self._clock()
