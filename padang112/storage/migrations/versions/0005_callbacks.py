"""Callback list: callers who hung up before they were answered, and every attempt to call them back.

Revision 0005 (revises 0004). One open item per number at a time (a repeat abandon adds to it); the trail of
attempts, outcomes and matches is in ``callback_events``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TIME = sa.String(length=32)
STATE = sa.String(length=32)


def upgrade() -> None:
    op.create_table(
        "callbacks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("number", sa.Text(), nullable=False),
        sa.Column("carrier", sa.Text(), nullable=False),
        sa.Column("first_call_id", sa.String(length=64), nullable=False),
        sa.Column("last_call_id", sa.String(length=64), nullable=False),
        sa.Column("abandoned_calls", sa.Integer(), nullable=False),
        sa.Column("state", STATE, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("deadline", TIME, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_outcome", STATE, nullable=True),
        sa.Column("taken_by", sa.String(length=64), nullable=True),
        sa.Column("seat", sa.String(length=64), nullable=True),
        sa.Column("matched_call_id", sa.String(length=64), nullable=True),
        sa.Column("closed_at", TIME, nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_callbacks_state_deadline", "callbacks", ["state", "deadline"])
    op.create_index("ix_callbacks_number_state", "callbacks", ["number", "state"])
    op.create_table(
        "callback_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("callback_id", sa.Integer(), nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("kind", STATE, nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["callback_id"], ["callbacks.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_callback_events_callback_id", "callback_events", ["callback_id"])


def downgrade() -> None:
    op.drop_index("ix_callback_events_callback_id", table_name="callback_events")
    op.drop_table("callback_events")
    op.drop_index("ix_callbacks_number_state", table_name="callbacks")
    op.drop_index("ix_callbacks_state_deadline", table_name="callbacks")
    op.drop_table("callbacks")
