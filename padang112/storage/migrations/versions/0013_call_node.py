"""``calls.node``: the Asterisk node a call arrived on (issue 13, a controller that works every node).

Revision 0013 (revises 0012). NULL for calls of the single box and for calls stored before; the call id says the
same (its prefix is the node's systemname), the column makes it a plain filter for reports and the history.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("node", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("node")
