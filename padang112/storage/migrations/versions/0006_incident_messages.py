"""Requests for more information between agencies and the 112 room, and cleared prank scores.

Revision 0006 (revises 0005).

- ``incident_messages``: an agency's question about an incident (``reply_to`` NULL) and the 112 room's answers
  (``reply_to`` = the question). ``answered_at`` is set on a question when its first answer is stored, so the
  unanswered ones are found without a join. Each message is also an ``incident_events`` row (the audit trail).
- ``prank_clearances``: append-only; a call taker or supervisor cleared a number's prank score at
  ``cleared_at``. Marks of calls before the latest clearance no longer count (also after a restart).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TIME = sa.String(length=32)
STATE = sa.String(length=32)
USER = sa.String(length=64)


def upgrade() -> None:
    op.create_table(
        "incident_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("agency", STATE, nullable=False),
        sa.Column("reply_to", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("by", USER, nullable=False),
        sa.Column("by_role", STATE, nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("answered_at", TIME, nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], name="fk_incident_messages_incident_id_incidents"),
        sa.ForeignKeyConstraint(
            ["reply_to"], ["incident_messages.id"], name="fk_incident_messages_reply_to_incident_messages"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_incident_messages"),
    )
    op.create_index("ix_incident_messages_incident_id", "incident_messages", ["incident_id"])
    op.create_index("ix_incident_messages_reply_to_answered_at", "incident_messages", ["reply_to", "answered_at"])

    op.create_table(
        "prank_clearances",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("number", sa.Text(), nullable=False),
        sa.Column("cleared_at", TIME, nullable=False),
        sa.Column("cleared_by", USER, nullable=False),
        sa.Column("call_id", sa.Text(), nullable=True),
        sa.Column("score_before", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_prank_clearances"),
    )
    op.create_index("ix_prank_clearances_number_cleared_at", "prank_clearances", ["number", "cleared_at"])
    op.create_index("ix_prank_clearances_cleared_at", "prank_clearances", ["cleared_at"])


def downgrade() -> None:
    op.drop_table("prank_clearances")
    op.drop_table("incident_messages")
