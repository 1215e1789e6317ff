"""What the read side returns: frozen plain values, usable after the session that loaded them is gone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from padang112.storage import models


@dataclass(frozen=True)
class CallRecord:
    id: str
    state: str
    via: str
    received_at: datetime
    updated_at: datetime
    channel_id: str | None = None
    caller_number: str | None = None
    caller_name: str | None = None
    carrier: str | None = None
    dialed: str | None = None
    disposition: str | None = None
    seat: str | None = None
    queued_at: datetime | None = None
    offered_at: datetime | None = None
    connected_at: datetime | None = None
    ended_at: datetime | None = None
    ended_by: str | None = None
    recording: str | None = None
    node: str | None = None  # the Asterisk node it arrived on (several nodes only)

    @classmethod
    def of(cls, row: models.Call) -> CallRecord:
        return cls(
            id=row.id,
            state=row.state,
            via=row.via,
            received_at=row.received_at,
            updated_at=row.updated_at,
            channel_id=row.channel_id,
            caller_number=row.caller_number,
            caller_name=row.caller_name,
            carrier=row.carrier,
            dialed=row.dialed,
            disposition=row.disposition,
            seat=row.seat,
            queued_at=row.queued_at,
            offered_at=row.offered_at,
            connected_at=row.connected_at,
            ended_at=row.ended_at,
            ended_by=row.ended_by,
            recording=row.recording,
            node=row.node,
        )


@dataclass(frozen=True)
class CallEventRecord:
    id: int
    call_id: str
    at: datetime
    from_state: str | None
    to_state: str
    seat: str | None
    data: dict[str, Any]
    kind: str = "transition"

    @classmethod
    def of(cls, row: models.CallEvent) -> CallEventRecord:
        return cls(row.id, row.call_id, row.at, row.from_state, row.to_state, row.seat, dict(row.data), row.kind)


@dataclass(frozen=True)
class SeatEventRecord:
    id: int
    seat_id: str
    at: datetime
    from_state: str | None
    to_state: str
    reason: str | None
    call_id: str | None

    @classmethod
    def of(cls, row: models.SeatEvent) -> SeatEventRecord:
        return cls(row.id, row.seat_id, row.at, row.from_state, row.to_state, row.reason, row.call_id)


class SeatStateRecord(NamedTuple):
    """A seat's current state; a tuple so that ``state, reason, since = states[seat]`` works."""

    state: str
    reason: str | None
    since: datetime


@dataclass(frozen=True)
class RecordingRecord:
    id: int
    call_id: str
    name: str
    path: str
    started_at: datetime
    finished_at: datetime | None
    duration_s: float | None

    @classmethod
    def of(cls, row: models.Recording) -> RecordingRecord:
        return cls(row.id, row.call_id, row.name, row.path, row.started_at, row.finished_at, row.duration_s)
