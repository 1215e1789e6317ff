"""An index on ``recordings.finished_at``: the recording sealer looks only at recently closed recordings.

Revision 0010 (revises 0009).
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_recordings_finished_at", "recordings", ["finished_at"])


def downgrade() -> None:
    op.drop_index("ix_recordings_finished_at", table_name="recordings")
