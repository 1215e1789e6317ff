"""When the database cannot be reached: which failures mean "wait and try again", not "this write is wrong".

A PostgreSQL restart (or a crash, or this host losing the database's network) shows up as a refused connection
(``OSError``, raised by asyncpg before SQLAlchemy sees a DBAPI connection), as a connection cut in the middle of a
statement (SQLAlchemy marks it ``connection_invalidated``), or as the server's own codes: class 08 (connection
exception) and 57P (``admin_shutdown``, ``crash_shutdown``, ``cannot_connect_now`` while it recovers). None of these
says anything about the events written: the event writer keeps them, in order, and tries again
(:class:`~padang112.storage.repository.EventWriter`). A controller whose lease could not be renewed meanwhile is
:class:`~padang112.cluster.fence.Suspended`: its events wait the same way until it is confirmed as the leader.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import DBAPIError

from padang112.cluster.fence import Suspended

UNREACHABLE_SQLSTATES = ("08", "57P")


def is_unreachable(exc: BaseException) -> bool:
    """The database could not be reached or went away: nothing was stored, the same write can be tried again."""
    if isinstance(exc, OSError):  # ConnectionRefusedError, ConnectionResetError, TimeoutError
        return True
    if not isinstance(exc, DBAPIError):
        return False
    sqlstate = str(getattr(exc.orig, "sqlstate", None) or "")
    return exc.connection_invalidated or sqlstate.startswith(UNREACHABLE_SQLSTATES) or isinstance(exc.orig, OSError)


def must_wait(exc: BaseException) -> bool:
    """A write that failed for a reason outside it: the database is unreachable, or this leader is suspended."""
    return isinstance(exc, Suspended) or is_unreachable(exc)


def log_failure(logger: logging.Logger, what: str, exc: BaseException) -> None:
    """A loop that tries again later failed: one line when nothing could be reached (the database restarting would
    otherwise fill the log with the same traceback every round), the traceback for anything else."""
    if is_unreachable(exc):
        logger.warning("%s, dicoba lagi / tried again: %r", what, exc)
    else:
        logger.error(what, exc_info=exc)
