"""Incidents: incidents, agency_tasks (one per agency and incident), incident_events (the audit trail).

Revision 0004 (revises 0003). Times are UTC ISO 8601 text (``String(32)``), see
``padang112.storage.types.UTCDateTime``; ``incident_events.data`` is JSON text. ``incidents.call_id`` is not a
foreign key (an incident may be entered by hand or for a call not imported yet).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TIME = sa.String(length=32)
STATE = sa.String(length=32)
USER = sa.String(length=64)


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("state", STATE, nullable=False),
        sa.Column("type_code", STATE, nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("kecamatan", sa.Text(), nullable=False),
        sa.Column("kelurahan", sa.Text(), nullable=True),
        sa.Column("location_text", sa.Text(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("victims", sa.Integer(), nullable=False),
        sa.Column("caller_name", sa.Text(), nullable=False),
        sa.Column("callback_number", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("call_id", sa.Text(), nullable=True),
        sa.Column("source", STATE, nullable=False),
        sa.Column("created_by", USER, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_incidents"),
        sa.UniqueConstraint("number", name="uq_incidents_number"),
    )
    op.create_index("ix_incidents_state_priority", "incidents", ["state", "priority"])
    op.create_index("ix_incidents_call_id", "incidents", ["call_id"])
    op.create_index("ix_incidents_created_at", "incidents", ["created_at"])

    op.create_table(
        "agency_tasks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("agency", STATE, nullable=False),
        sa.Column("state", STATE, nullable=False),
        sa.Column("dispatched_at", TIME, nullable=False),
        sa.Column("ack_deadline", TIME, nullable=False),
        sa.Column("acknowledged_at", TIME, nullable=True),
        sa.Column("resolved_at", TIME, nullable=True),
        sa.Column("escalated_at", TIME, nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], name="fk_agency_tasks_incident_id_incidents"),
        sa.PrimaryKeyConstraint("id", name="pk_agency_tasks"),
    )
    op.create_index("uq_agency_tasks_incident_id_agency", "agency_tasks", ["incident_id", "agency"], unique=True)
    op.create_index("ix_agency_tasks_agency_state", "agency_tasks", ["agency", "state"])
    op.create_index("ix_agency_tasks_state_ack_deadline", "agency_tasks", ["state", "ack_deadline"])

    op.create_table(
        "incident_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("by", USER, nullable=False),
        sa.Column("kind", STATE, nullable=False),
        sa.Column("agency", STATE, nullable=True),
        sa.Column("from_state", STATE, nullable=True),
        sa.Column("to_state", STATE, nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], name="fk_incident_events_incident_id_incidents"),
        sa.PrimaryKeyConstraint("id", name="pk_incident_events"),
    )
    op.create_index("ix_incident_events_incident_id", "incident_events", ["incident_id"])


def downgrade() -> None:
    for table in ("incident_events", "agency_tasks", "incidents"):
        op.drop_table(table)  # drops its indexes too
