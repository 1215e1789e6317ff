"""Sign-in hardening: no account lock (``locked_until`` goes), optional TOTP for admins and supervisors.

Revision 0009 (revises 0008). ``totp_secret``: the base32 RFC 6238 secret once enrolled (NULL: none);
``totp_last_step``: the 30-second step of the last code accepted, so a code is never accepted twice.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as users:
        users.drop_column("locked_until")
        users.add_column(sa.Column("totp_secret", sa.Text(), nullable=True))
        users.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as users:
        users.drop_column("totp_last_step")
        users.drop_column("totp_secret")
        users.add_column(sa.Column("locked_until", sa.String(length=32), nullable=True))
