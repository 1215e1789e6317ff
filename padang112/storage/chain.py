"""Hash chains over the audit trails: ``call_events`` and ``incident_events`` are tamper-evident.

Each row holds ``prev_hash`` (the hash of the row before it in the same table, by id) and ``row_hash`` =
SHA-256 over ``prev_hash`` and the row's canonical content. Changing, removing or reordering a row breaks
the link to the next one, which ``padang112 verify`` reports.

The hashes of rows the ORM flushes are computed by one ``before_flush`` hook for every session, so those writers
chain without knowing it (the incident stores, tests). Call events are written with Core statements
(:mod:`padang112.storage.apply`), which chain them with :func:`link_rows` after the tail their caller gives: the
controller's :class:`~padang112.storage.repository.EventWriter` (the single writer of call events) keeps the tail
it committed last in memory instead of reading it per batch; the fallback import reads it. Writers take the
database's write lock up front (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: an advisory lock, see
:mod:`padang112.storage.db`), so the last hash they read cannot change under them: no two rows ever share a
predecessor. A writer whose tail is stale (another writer appended since: the fallback import, a second engine)
picks an id that is taken and fails on the primary key, it does not fork the chain; the event writer then reads
the tail and tries once more.

Retention deletes old rows; it leaves a :class:`~padang112.storage.models.ChainTombstone` (id and hashes, no
content) for each, so the chain still verifies across what the law required us to delete.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session, UOWTransaction
from sqlalchemy.orm.attributes import instance_state

from padang112.storage.models import CallEvent, ChainTombstone, IncidentEventRow

GENESIS = "0" * 64  # prev_hash of a table's first row

# The columns hashed per chained table, in a fixed order (never reorder: stored hashes depend on it).
CHAINED: dict[str, tuple[str, ...]] = {
    CallEvent.__tablename__: ("id", "call_id", "at", "from_state", "to_state", "seat", "kind", "data"),
    IncidentEventRow.__tablename__: (
        "id",
        "incident_id",
        "at",
        "by",
        "kind",
        "agency",
        "from_state",
        "to_state",
        "data",
    ),
}
MODELS: dict[str, type[CallEvent] | type[IncidentEventRow]] = {
    CallEvent.__tablename__: CallEvent,
    IncidentEventRow.__tablename__: IncidentEventRow,
}


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")  # as UTCDateTime stores it
    if isinstance(value, dict):
        # as JSONText stores and reads it back: values JSON cannot hold become their str()
        return json.loads(json.dumps(value, ensure_ascii=False, default=str))
    return value


def canonical(table: str, values: dict[str, Any]) -> bytes:
    """The bytes hashed for a row: its chained columns as sorted, compact JSON."""
    content = {name: _value(values.get(name)) for name in CHAINED[table]}
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def link(prev_hash: str, table: str, values: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical(table, values)).hexdigest()


def row_values(row: Any, table: str) -> dict[str, Any]:
    return {name: getattr(row, name) for name in CHAINED[table]}


def tail(session: Session, table: str) -> tuple[int, str]:
    """The newest link's id and hash: a row's, or a tombstone's when retention deleted the tail ((0, GENESIS))."""
    model = MODELS[table]
    row = session.execute(select(model.id, model.row_hash).order_by(model.id.desc()).limit(1)).first()
    tomb = session.execute(
        select(ChainTombstone.row_id, ChainTombstone.row_hash)
        .where(ChainTombstone.table_name == table)
        .order_by(ChainTombstone.row_id.desc())
        .limit(1)
    ).first()
    links = [(int(found[0]), str(found[1] or GENESIS)) for found in (row, tomb) if found is not None]
    return max(links) if links else (0, GENESIS)


def _apply_defaults(obj: Any, table: str) -> None:
    """Set the column defaults the INSERT would apply, so the hash covers the values stored."""
    columns = MODELS[table].__table__.columns
    for name in CHAINED[table]:
        default = columns[name].default
        if getattr(obj, name) is None and default is not None and default.is_scalar:
            setattr(obj, name, default.arg)


def link_rows(last: tuple[int, str], table: str, rows: list[dict[str, Any]]) -> tuple[int, str]:
    """Give new rows (their values, in insertion order) ids and hashes after the link ``last``; returns the new last
    link. Ids are assigned here rather than by the database so that the hash covers them (a row moved is noticed)."""
    last_id, prev = last
    for offset, row in enumerate(rows, start=1):
        row["id"] = last_id + offset
        row["prev_hash"] = prev
        row["row_hash"] = prev = link(prev, table, row)
    return last_id + len(rows), prev


def _chain_new_rows(session: Session, _flush: UOWTransaction, _instances: object) -> None:
    """Give every new chained row the ORM flushes its id and hashes, in insertion order, before it is written."""
    for table, model in MODELS.items():
        new = [obj for obj in session.new if isinstance(obj, model)]
        if not new:
            continue
        new.sort(key=lambda obj: instance_state(obj).insert_order or 0)
        for obj in new:
            _apply_defaults(obj, table)
        rows = [row_values(obj, table) for obj in new]
        link_rows(tail(session, table), table, rows)
        for obj, row in zip(new, rows, strict=True):
            obj.id, obj.prev_hash, obj.row_hash = row["id"], row["prev_hash"], row["row_hash"]


def install() -> None:
    """Register the hook (idempotent); importing :mod:`padang112.storage.models` users call this once."""
    if not event.contains(Session, "before_flush", _chain_new_rows):
        event.listen(Session, "before_flush", _chain_new_rows)


@dataclass(frozen=True)
class Break:
    """A broken link: ``row_id``'s content or predecessor is not what its hash says."""

    table: str
    row_id: int
    reason: str  # "changed" (content does not match row_hash) | "unlinked" (prev_hash is not the previous hash)


def check(table: str, rows: Iterable[tuple[int, str | None, str | None, dict[str, Any] | None]]) -> Iterator[Break]:
    """Walk a table's rows and tombstones in id order: (id, prev_hash, row_hash, values or None for a tombstone)."""
    prev = GENESIS
    for row_id, prev_hash, row_hash, values in rows:
        if prev_hash != prev:
            yield Break(table, row_id, "unlinked")
        if values is not None and row_hash != link(prev_hash or "", table, values):
            yield Break(table, row_id, "changed")
        prev = row_hash or ""
