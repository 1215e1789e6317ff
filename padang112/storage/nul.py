"""PostgreSQL's text cannot hold NUL (U+0000); SQLite's can. On PostgreSQL NUL becomes :data:`STAND_IN`.

A caller id arrives as whatever a carrier or an attacker sends, a typed form field (an incident, a message, a
user name at sign-in) as whatever the browser posts: a NUL in one of them would make PostgreSQL refuse the
statement, and with it the whole write (a call's story, an incident, an audit row). So on PostgreSQL every NUL
is replaced by U+FFFD, the replacement character, a visible mark where it was:

- in the objects a session flushes (``before_flush``, first of the hooks: before the event chains hash them),
  so the records a store returns after a write are what a later read gives;
- in every parameter a statement binds (``before_cursor_execute``), so a look-up by such a string (the history
  of a caller id with a NUL) finds what was stored instead of failing.

JSON columns never see a NUL (``json.dumps`` writes ``\\u0000``). SQLite keeps NULs as they are.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session, UOWTransaction
from sqlalchemy.orm.attributes import instance_state

STAND_IN = "\ufffd"


def storable(value: str, backend: str) -> str:
    """``value`` as ``backend`` stores it (and so reads it back)."""
    return value.replace("\x00", STAND_IN) if backend == "postgresql" else value


def install(engine: AsyncEngine) -> None:
    """Replace NULs in what ``engine`` (a PostgreSQL one) is sent; the flush hook is shared by every session."""
    event.listen(engine.sync_engine, "before_cursor_execute", _parameters, retval=True)
    if not event.contains(Session, "before_flush", _flushed_objects):
        event.listen(Session, "before_flush", _flushed_objects, insert=True)  # before chain.py hashes rows


def _flushed_objects(session: Session, _flush: UOWTransaction, _instances: object) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return
    for obj in (*session.new, *session.dirty):
        state = instance_state(obj)
        for attr in state.mapper.column_attrs:
            value = state.dict.get(attr.key)
            if isinstance(value, str) and "\x00" in value:
                setattr(obj, attr.key, storable(value, "postgresql"))


def _parameters(
    _conn: Connection, _cursor: Any, statement: str, parameters: Any, _context: Any, _executemany: bool
) -> tuple[str, Any]:
    """NUL-free strings in the parameters, whatever their shape (one row, rows, a multi-row INSERT's values)."""
    return statement, _clean(parameters) if _has_nul(parameters) else parameters


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(v) for v in value.values())
    return isinstance(value, list | tuple) and any(_has_nul(v) for v in value)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return storable(value, "postgresql")
    if isinstance(value, dict):
        return {key: _clean(v) for key, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_clean(v) for v in value)
    return value
