"""Persistence: SQLite (WAL) or PostgreSQL 15 through SQLAlchemy's asyncio API, Alembic migrations, one writer.

Typical use in the controller::

    await migrate.upgrade_async(settings.db_url)
    engine = create_engine(settings.db_url)
    writer = EventWriter(engine)
    await writer.start()
    await writer.write(events)      # returns once committed
    repo = Repository(engine)       # reads, fallback import
    ...
    await writer.stop()
    await engine.dispose()
"""

from padang112.storage.db import create_engine
from padang112.storage.records import (
    CallEventRecord,
    CallRecord,
    RecordingRecord,
    SeatEventRecord,
    SeatStateRecord,
)
from padang112.storage.repository import EventWriter, Repository

__all__ = [
    "CallEventRecord",
    "CallRecord",
    "EventWriter",
    "RecordingRecord",
    "Repository",
    "SeatEventRecord",
    "SeatStateRecord",
    "create_engine",
]
