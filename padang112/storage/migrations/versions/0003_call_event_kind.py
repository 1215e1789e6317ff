"""call_events.kind: "transition" (a state move) or an annotation such as "disposition".

Revision 0003 (revises 0002). Existing rows are transitions.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("call_events") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=32), nullable=False, server_default="transition"))


def downgrade() -> None:
    with op.batch_alter_table("call_events") as batch:
        batch.drop_column("kind")
