"""Alembic environment: runs on the connection :mod:`padang112.storage.migrate` hands over (see there)."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.types import TypeDecorator

from padang112.storage.models import Base


def render_item(kind: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Write our column types as their plain SQL type, so revisions never import application code."""
    if kind == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl_instance!r}"
    return False


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through padang112.storage.migrate, which passes the connection")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things: later revisions copy tables instead
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
