"""The fence every action path passes before it acts on the switch or stores the room's events.

A controller that lost its lease (or was paused long enough that it may have) must not send one more ARI request
or AMI action, nor store one more event: the standby may already be acting. The check is local and costs
nothing (:meth:`Fence.check`); the event writer also checks inside its transaction
(:meth:`Fence.check_stored`), so the database itself refuses a stale leader's events. On SQLite (one box, no
standby) nothing is fenced: :data:`UNFENCED`.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

APPLICATION_NAME = "padang112"  # PostgreSQL's application_name of sessions outside a leader's runtime


class Fenced(RuntimeError):
    """This process may no longer act: another controller leads, or may."""


class Suspended(Fenced):
    """This process may not act *now*: its lease could not be renewed (the database is down or unreachable) and its
    validity lapsed. It acts again once the database confirms that nobody took the lease meanwhile; what it has
    not stored yet waits (``padang112.cluster.leadership``)."""


class Fence(Protocol):
    @property
    def application_name(self) -> str:
        """The name of the acting runtime's database sessions (the next leader ends a stale leader's sessions)."""

    def valid(self) -> bool:
        """May this process act now? (No I/O.)"""

    def check(self) -> None:
        """Raise :class:`Fenced` unless this process still holds a lease it renewed recently (no I/O);
        :class:`Suspended` while the lease could not be renewed but is not known to be lost."""

    async def check_stored(self, session: AsyncSession) -> None:
        """Raise :class:`Fenced` unless the database, in ``session``'s transaction, still names this holder and
        epoch."""


class _Unfenced:
    application_name = APPLICATION_NAME

    def valid(self) -> bool:
        return True

    def check(self) -> None:
        return None

    async def check_stored(self, session: AsyncSession) -> None:
        return None


UNFENCED: Fence = _Unfenced()
