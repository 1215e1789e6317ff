"""Integrity and retention: hash chains on call and incident events, recording seals, keep marks, tombstones.

Existing call and incident events are chained here, oldest first, so a database upgraded from an earlier
version verifies like a new one. Revision 0008 (revises 0007).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from padang112.storage import chain
from padang112.storage.types import JSONText, UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_TYPES: dict[str, Any] = {"at": UTCDateTime(), "data": JSONText()}


def _chain_existing(table: str) -> None:
    columns: list[Any] = [sa.column(name, _TYPES.get(name)) for name in chain.CHAINED[table]]
    view = sa.table(table, *columns, sa.column("prev_hash"), sa.column("row_hash"))
    connection = op.get_bind()
    selected = [view.c[name] for name in chain.CHAINED[table]]
    rows = connection.execute(sa.select(*selected).order_by(view.c.id)).mappings().all()
    prev = chain.GENESIS
    for row in rows:
        row_hash = chain.link(prev, table, dict(row))
        connection.execute(sa.update(view).where(view.c.id == row["id"]).values(prev_hash=prev, row_hash=row_hash))
        prev = row_hash


def upgrade() -> None:
    for table in ("call_events", "incident_events"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))
            batch.add_column(sa.Column("row_hash", sa.String(64), nullable=True))
        _chain_existing(table)
    op.create_table(
        "chain_tombstones",
        sa.Column("table_name", sa.String(32), nullable=False),
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=True),
        sa.Column("row_hash", sa.String(64), nullable=True),
        sa.Column("deleted_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("table_name", "row_id", name=op.f("pk_chain_tombstones")),
    )
    op.create_table(
        "recording_seals",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("call_id", sa.String(64), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sealed_at", UTCDateTime(), nullable=False),
        sa.Column("removed_at", UTCDateTime(), nullable=True),
        sa.Column("removed_by", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_recording_seals")),
    )
    op.create_index(op.f("ix_recording_seals_call_id"), "recording_seals", ["call_id"])
    op.create_table(
        "keep_marks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subject", sa.String(32), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("marked_by", sa.String(64), nullable=False),
        sa.Column("marked_at", UTCDateTime(), nullable=False),
        sa.Column("released_by", sa.String(64), nullable=True),
        sa.Column("released_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_keep_marks")),
    )
    op.create_index("ix_keep_marks_subject", "keep_marks", ["subject", "subject_id"])


def downgrade() -> None:
    op.drop_index("ix_keep_marks_subject", table_name="keep_marks")
    op.drop_table("keep_marks")
    op.drop_index(op.f("ix_recording_seals_call_id"), table_name="recording_seals")
    op.drop_table("recording_seals")
    op.drop_table("chain_tombstones")
    for table in ("incident_events", "call_events"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("row_hash")
            batch.drop_column("prev_hash")
