"""Tables of the call center database (SQLAlchemy declarative, typed).

``calls`` and ``seats`` hold the latest state; ``call_events`` and ``seat_events`` are the append-only audit
trail they were derived from. Strings that come from outside (caller ID, carrier, channel names, file
names) are ``Text``: SQLite does not enforce lengths, but another backend would, and a caller ID must never
be refused for being long. Times are :class:`~padang112.storage.types.UTCDateTime`.

A change here needs a new revision under ``migrations/versions`` (see :func:`padang112.storage.migrate.revision`);
a test fails while the models and the migrations disagree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from padang112.storage.types import JSONText, UTCDateTime

# Deterministic constraint names, so that later migrations (batch mode on SQLite) can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID = String(64)  # Asterisk linkedid / uniqueid, seat names
STATE = String(32)
HASH = String(64)  # SHA-256, hex


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Call(Base):
    __tablename__ = "calls"
    __table_args__ = (
        Index("ix_calls_caller_number_received_at", "caller_number", "received_at"),
        Index("ix_calls_received_at", "received_at"),
        Index("ix_calls_state", "state"),  # open calls, looked up on every reconnect
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)  # the Asterisk linkedid
    channel_id: Mapped[str | None] = mapped_column(Text)
    caller_number: Mapped[str | None] = mapped_column(Text)  # raw, as received
    caller_name: Mapped[str | None] = mapped_column(Text)
    carrier: Mapped[str | None] = mapped_column(Text)
    dialed: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(STATE)
    disposition: Mapped[str | None] = mapped_column(STATE)
    seat: Mapped[str | None] = mapped_column(ID)
    via: Mapped[str] = mapped_column(STATE)  # 'controller', 'fallback' or 'early' (hung up before either had it)
    node: Mapped[str | None] = mapped_column(String(32))  # the Asterisk node it arrived on (migration 0013)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    connected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # reached 'ended' or 'abandoned'
    ended_by: Mapped[str | None] = mapped_column(STATE)  # caller, seat, system
    recording: Mapped[str | None] = mapped_column(Text)  # file name of the latest recording
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)  # time of the last event applied


class CallEvent(Base):
    __tablename__ = "call_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ID, ForeignKey("calls.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    from_state: Mapped[str | None] = mapped_column(STATE)
    to_state: Mapped[str] = mapped_column(STATE)
    seat: Mapped[str | None] = mapped_column(ID)
    data: Mapped[dict[str, Any]] = mapped_column(JSONText)
    kind: Mapped[str] = mapped_column(STATE, default="transition", server_default="transition")
    prev_hash: Mapped[str | None] = mapped_column(HASH)  # the chain (padang112/storage/chain.py)
    row_hash: Mapped[str | None] = mapped_column(HASH)


class Seat(Base):
    __tablename__ = "seats"

    id: Mapped[str] = mapped_column(ID, primary_key=True)  # 'seat01'
    state: Mapped[str] = mapped_column(STATE)
    reason: Mapped[str | None] = mapped_column(STATE)
    call_id: Mapped[str | None] = mapped_column(ID)
    since: Mapped[datetime] = mapped_column(UTCDateTime)  # time of the last transition


class SeatEvent(Base):
    """A seat's move; ``call_id`` is not a foreign key: a seat may be busy with a call not (yet) imported."""

    __tablename__ = "seat_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    seat_id: Mapped[str] = mapped_column(ID, ForeignKey("seats.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    from_state: Mapped[str | None] = mapped_column(STATE)
    to_state: Mapped[str] = mapped_column(STATE)
    reason: Mapped[str | None] = mapped_column(STATE)
    call_id: Mapped[str | None] = mapped_column(ID)


class Recording(Base):
    __tablename__ = "recordings"
    __table_args__ = (Index("ix_recordings_finished_at", "finished_at"),)  # the sealer's recent recordings

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ID, ForeignKey("calls.id"), index=True)
    name: Mapped[str] = mapped_column(Text)
    path: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_s: Mapped[float | None] = mapped_column(Float)


class FallbackImport(Base):
    """A call Asterisk's fallback queue handled while the controller was down, imported once."""

    __tablename__ = "fallback_imports"

    uniqueid: Mapped[str] = mapped_column(ID, primary_key=True)
    call_id: Mapped[str] = mapped_column(ID, ForeignKey("calls.id"))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)


class User(Base):
    """A console account. ``agency`` is set only for the ``agency`` role (one of the seven agency codes).

    ``failed_logins`` counts consecutive failures since the last success or new password (no lock: see
    :mod:`padang112.accounts.backoff`). ``totp_secret`` is set once the user enrolled a second factor
    (:mod:`padang112.accounts.totp`); ``totp_last_step`` is the time step of the last code accepted.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(STATE)
    agency: Mapped[str | None] = mapped_column(STATE)
    password_hash: Mapped[str] = mapped_column(Text)
    disabled: Mapped[bool] = mapped_column(Boolean)
    failed_logins: Mapped[int] = mapped_column(Integer)
    totp_secret: Mapped[str | None] = mapped_column(Text)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebSession(Base):
    """A signed-in browser. ``id`` is the SHA-256 of the cookie's token: a copy of the database opens no session."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(ID)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SignInWait(Base):
    """Consecutive sign-in failures of one name (from one client address, or ``*``) and how long it must wait.

    ``scope``: ``password`` or ``code`` (second factor); see :mod:`padang112.accounts.backoff`.
    """

    __tablename__ = "sign_in_waits"

    scope: Mapped[str] = mapped_column(STATE, primary_key=True)
    username: Mapped[str] = mapped_column(String(128), primary_key=True)
    client: Mapped[str] = mapped_column(ID, primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    wait_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AuditEntry(Base):
    """Sign-ins, failed sign-ins, lockouts and account changes. ``username`` is as typed (may name no account)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    username: Mapped[str | None] = mapped_column(Text)
    action: Mapped[str] = mapped_column(STATE)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONText)


class IncidentRow(Base):
    """An incident (see :mod:`padang112.incidents.model`); ``version`` grows with every change (edit conflicts).

    ``number`` is the human reference ``112-YYYYMMDD-NNNN`` (WIB date, per-day sequence). ``call_id`` is not a
    foreign key: an incident may be entered by hand, or for a call not (yet) imported.
    """

    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_state_priority", "state", "priority"),
        Index("ix_incidents_call_id", "call_id"),
        Index("ix_incidents_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    state: Mapped[str] = mapped_column(STATE)
    type_code: Mapped[str] = mapped_column(STATE)
    priority: Mapped[int] = mapped_column(Integer)
    kecamatan: Mapped[str] = mapped_column(Text)
    kelurahan: Mapped[str | None] = mapped_column(Text)
    location_text: Mapped[str] = mapped_column(Text)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    description: Mapped[str] = mapped_column(Text)
    victims: Mapped[int] = mapped_column(Integer)
    caller_name: Mapped[str] = mapped_column(Text)
    callback_number: Mapped[str] = mapped_column(Text)
    notes: Mapped[str] = mapped_column(Text)
    call_id: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(STATE)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)


class AgencyTaskRow(Base):
    """One agency's part in an incident; at most one per agency and incident (a unique index)."""

    __tablename__ = "agency_tasks"
    __table_args__ = (
        Index("uq_agency_tasks_incident_id_agency", "incident_id", "agency", unique=True),
        Index("ix_agency_tasks_agency_state", "agency", "state"),
        Index("ix_agency_tasks_state_ack_deadline", "state", "ack_deadline"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(Integer, ForeignKey("incidents.id"))
    agency: Mapped[str] = mapped_column(STATE)
    state: Mapped[str] = mapped_column(STATE)
    dispatched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ack_deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text)


class IncidentEventRow(Base):
    """The incident's audit trail: who did what when (``by`` is a username, or ``system``)."""

    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(Integer, ForeignKey("incidents.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    by: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(STATE)  # created|edited|dispatched|task_state|task_added|task_cancelled|...
    agency: Mapped[str | None] = mapped_column(STATE)
    from_state: Mapped[str | None] = mapped_column(STATE)
    to_state: Mapped[str | None] = mapped_column(STATE)
    data: Mapped[dict[str, Any]] = mapped_column(JSONText)
    prev_hash: Mapped[str | None] = mapped_column(HASH)  # the chain (padang112/storage/chain.py)
    row_hash: Mapped[str | None] = mapped_column(HASH)


class CallbackRow(Base):
    """A caller who hung up before being answered, to be called back (see padang112/callbacks/)."""

    __tablename__ = "callbacks"
    __table_args__ = (
        Index("ix_callbacks_state_deadline", "state", "deadline"),
        Index("ix_callbacks_number_state", "number", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(Text)
    carrier: Mapped[str] = mapped_column(Text)
    first_call_id: Mapped[str] = mapped_column(ID)
    last_call_id: Mapped[str] = mapped_column(ID)
    abandoned_calls: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(STATE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer)
    last_outcome: Mapped[str | None] = mapped_column(STATE)
    taken_by: Mapped[str | None] = mapped_column(String(64))
    seat: Mapped[str | None] = mapped_column(ID)
    matched_call_id: Mapped[str | None] = mapped_column(ID)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CallbackEventRow(Base):
    __tablename__ = "callback_events"
    __table_args__ = (Index("ix_callback_events_callback_id", "callback_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    callback_id: Mapped[int] = mapped_column(ForeignKey("callbacks.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    by: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(STATE)
    data: Mapped[dict[str, Any]] = mapped_column(JSONText)


class CameraRow(Base):
    """A CCTV camera (see :mod:`padang112.cameras`). ``stream_url`` may hold credentials: it never leaves the server
    except, password masked, to admins."""

    __tablename__ = "cameras"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(Text)
    kecamatan: Mapped[str] = mapped_column(Text)
    location_text: Mapped[str] = mapped_column(Text)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    kind: Mapped[str] = mapped_column(STATE)  # traffic | public_facility | flood_gauge | other
    stream_type: Mapped[str] = mapped_column(STATE)  # hls | mjpeg | snapshot | rtsp
    stream_url: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CameraHealthRow(Base):
    """The latest probe of a camera: ``status`` online/offline, ``last_seen_at`` its last good answer."""

    __tablename__ = "camera_health"

    camera_id: Mapped[int] = mapped_column(Integer, ForeignKey("cameras.id"), primary_key=True)
    status: Mapped[str] = mapped_column(STATE)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when ``status`` last changed
    error: Mapped[str | None] = mapped_column(Text)


class WallLayoutRow(Base):
    """A user's video wall: grid size (1, 4, 9 or 16) and the camera id of each tile (``null`` for an empty one)."""

    __tablename__ = "wall_layouts"

    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id"), primary_key=True)
    grid: Mapped[int] = mapped_column(Integer)
    tiles: Mapped[list[Any]] = mapped_column(JSONText)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IncidentMessageRow(Base):
    """An agency's question about an incident (``reply_to`` None) or the 112 room's answer to one.

    ``agency`` is the asking agency (the thread's); ``answered_at`` is set on a question by its first answer.
    """

    __tablename__ = "incident_messages"
    __table_args__ = (Index("ix_incident_messages_reply_to_answered_at", "reply_to", "answered_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(Integer, ForeignKey("incidents.id"), index=True)
    agency: Mapped[str] = mapped_column(STATE)
    reply_to: Mapped[int | None] = mapped_column(Integer, ForeignKey("incident_messages.id"))
    text: Mapped[str] = mapped_column(Text)
    by: Mapped[str] = mapped_column(String(64))
    by_role: Mapped[str] = mapped_column(STATE)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PrankClearanceRow(Base):
    """A number's prank score cleared by a call taker or supervisor (append-only: the audit trail)."""

    __tablename__ = "prank_clearances"
    __table_args__ = (
        Index("ix_prank_clearances_number_cleared_at", "number", "cleared_at"),
        Index("ix_prank_clearances_cleared_at", "cleared_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(Text)
    cleared_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cleared_by: Mapped[str] = mapped_column(String(64))
    call_id: Mapped[str | None] = mapped_column(Text)  # the call on screen when it was cleared, if any
    score_before: Mapped[float] = mapped_column(Float)


class ChainTombstone(Base):
    """What retention leaves of a deleted chained row: its id and hashes, no content (the chain still verifies)."""

    __tablename__ = "chain_tombstones"

    table_name: Mapped[str] = mapped_column(STATE, primary_key=True)
    row_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prev_hash: Mapped[str | None] = mapped_column(HASH)
    row_hash: Mapped[str | None] = mapped_column(HASH)
    deleted_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RecordingSeal(Base):
    """A closed recording file's SHA-256 and size, keyed by its file name in ``recordings_dir``.

    Written once the recording is closed (controller bridge recordings, fallback MixMonitor ones when imported,
    call-back recordings); ``removed_at`` is set when retention deletes the file on purpose.
    """

    __tablename__ = "recording_seals"

    name: Mapped[str] = mapped_column(Text, primary_key=True)  # 'call-<id>.wav'
    call_id: Mapped[str | None] = mapped_column(ID, index=True)  # None for a call-back recording
    sha256: Mapped[str] = mapped_column(HASH)
    size_bytes: Mapped[int] = mapped_column(Integer)
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_by: Mapped[str | None] = mapped_column(String(64))


class KeepMark(Base):
    """A call or incident retention must not delete (a legal hold), until ``released_at``."""

    __tablename__ = "keep_marks"
    __table_args__ = (Index("ix_keep_marks_subject", "subject", "subject_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(STATE)  # 'call' | 'incident'
    subject_id: Mapped[str] = mapped_column(ID)  # a call id, or an incident id as text
    reason: Mapped[str] = mapped_column(Text)
    marked_by: Mapped[str] = mapped_column(String(64))
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    released_by: Mapped[str | None] = mapped_column(String(64))
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LeadershipRow(Base):
    """The controllers' lease (PostgreSQL only; :mod:`padang112.cluster.leadership`): one row, ``id`` 1.

    ``epoch`` grows by one at every change of holder (the fencing token); ``expires_at`` is the database's clock.
    """

    __tablename__ = "leadership"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    holder: Mapped[str] = mapped_column(String(128))
    epoch: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
