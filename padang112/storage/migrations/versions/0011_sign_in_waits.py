"""Sign-in back-off kept in the database: a restart of the console no longer resets a guesser's wait.

Revision 0011 (revises 0010). One row per (scope, name, client): ``scope`` is ``password`` (per name and client
address) or ``code`` (second-factor codes, per name; client ``*``), ``failures`` the consecutive failures,
``wait_until`` no try before this, ``updated_at`` for pruning.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from padang112.storage.types import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_waits",
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("username", sa.String(length=128), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("wait_until", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "username", "client", name=op.f("pk_sign_in_waits")),
    )
    op.create_index("ix_sign_in_waits_updated_at", "sign_in_waits", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_sign_in_waits_updated_at", table_name="sign_in_waits")
    op.drop_table("sign_in_waits")
