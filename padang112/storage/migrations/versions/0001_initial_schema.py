"""Initial schema: calls, call_events, seats, seat_events, recordings, fallback_imports.

Revision 0001 (revises nothing), created 2026-11-27. Times are UTC ISO 8601 text (``String(32)``), see
``padang112.storage.types.UTCDateTime``; ``call_events.data`` is JSON text.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TIME = sa.String(length=32)
ID = sa.String(length=64)
STATE = sa.String(length=32)


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("id", ID, nullable=False),
        sa.Column("channel_id", sa.Text(), nullable=True),
        sa.Column("caller_number", sa.Text(), nullable=True),
        sa.Column("caller_name", sa.Text(), nullable=True),
        sa.Column("carrier", sa.Text(), nullable=True),
        sa.Column("dialed", sa.Text(), nullable=True),
        sa.Column("state", STATE, nullable=False),
        sa.Column("disposition", STATE, nullable=True),
        sa.Column("seat", ID, nullable=True),
        sa.Column("via", STATE, nullable=False),
        sa.Column("received_at", TIME, nullable=False),
        sa.Column("queued_at", TIME, nullable=True),
        sa.Column("offered_at", TIME, nullable=True),
        sa.Column("connected_at", TIME, nullable=True),
        sa.Column("ended_at", TIME, nullable=True),
        sa.Column("ended_by", STATE, nullable=True),
        sa.Column("recording", sa.Text(), nullable=True),
        sa.Column("updated_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_calls"),
    )
    op.create_index("ix_calls_caller_number_received_at", "calls", ["caller_number", "received_at"])
    op.create_index("ix_calls_received_at", "calls", ["received_at"])
    op.create_index("ix_calls_state", "calls", ["state"])

    op.create_table(
        "call_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", ID, nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("from_state", STATE, nullable=True),
        sa.Column("to_state", STATE, nullable=False),
        sa.Column("seat", ID, nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name="fk_call_events_call_id_calls"),
        sa.PrimaryKeyConstraint("id", name="pk_call_events"),
    )
    op.create_index("ix_call_events_call_id", "call_events", ["call_id"])

    op.create_table(
        "seats",
        sa.Column("id", ID, nullable=False),
        sa.Column("state", STATE, nullable=False),
        sa.Column("reason", STATE, nullable=True),
        sa.Column("call_id", ID, nullable=True),
        sa.Column("since", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_seats"),
    )

    op.create_table(
        "seat_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("seat_id", ID, nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("from_state", STATE, nullable=True),
        sa.Column("to_state", STATE, nullable=False),
        sa.Column("reason", STATE, nullable=True),
        sa.Column("call_id", ID, nullable=True),
        sa.ForeignKeyConstraint(["seat_id"], ["seats.id"], name="fk_seat_events_seat_id_seats"),
        sa.PrimaryKeyConstraint("id", name="pk_seat_events"),
    )
    op.create_index("ix_seat_events_seat_id", "seat_events", ["seat_id"])

    op.create_table(
        "recordings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", ID, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("started_at", TIME, nullable=False),
        sa.Column("finished_at", TIME, nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name="fk_recordings_call_id_calls"),
        sa.PrimaryKeyConstraint("id", name="pk_recordings"),
    )
    op.create_index("ix_recordings_call_id", "recordings", ["call_id"])

    op.create_table(
        "fallback_imports",
        sa.Column("uniqueid", ID, nullable=False),
        sa.Column("call_id", ID, nullable=False),
        sa.Column("imported_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name="fk_fallback_imports_call_id_calls"),
        sa.PrimaryKeyConstraint("uniqueid", name="pk_fallback_imports"),
    )


def downgrade() -> None:
    for table in ("fallback_imports", "recordings", "seat_events", "seats", "call_events", "calls"):
        op.drop_table(table)  # drops its indexes too
