"""The controllers' leadership lease (issue 13): one row, who leads, its fencing epoch, until when.

Revision 0012 (revises 0011). Used only on PostgreSQL, where two ``serve`` processes share the database
(:mod:`padang112.cluster.leadership`); SQLite gets the table too (one schema), and never a row. ``expires_at`` is
written and compared by the database's own clock (``clock_timestamp()``), never a host's, so it is a real
``timestamptz`` and not the fixed-width UTC text the other tables keep for the application's times.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leadership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_leadership_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leadership")),
    )


def downgrade() -> None:
    op.drop_table("leadership")
