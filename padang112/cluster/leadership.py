"""Who leads: a lease with a fencing token in PostgreSQL's one-row ``leadership`` table (migration 0012).

Contract:

- :meth:`Leadership.acquire` returns once this process holds the lease. While another holder's lease is
  unexpired it waits (trying every ``poll_s``); taking an expired lease, or the first one, adds 1 to ``epoch``, so
  epochs strictly increase with every change of holder. Expiry is the database's clock (``clock_timestamp()``):
  two hosts' clocks are never compared. A lease is not taken in the first ``lease_s`` after the database server
  started (``pg_postmaster_start_time()``): after a database restart its holder gets that long to resume it.
- :meth:`Leadership.hold` renews every ``renew_s`` (``UPDATE ... WHERE holder = me AND epoch = mine``); 0 rows
  means another controller took over: lost.
- :meth:`Leadership.valid` is local and costs no round trip: true only while the last successful renewal was
  *sent* less than ``lease_s - margin_s`` ago (``time.monotonic``). The database computed the expiry after it
  received that renewal, so the lease in the database outlives the local validity by at least ``margin_s``. A
  leader that was paused (SIGSTOP, a frozen VM) and wakes up finds itself invalid before it does anything else.
- **Suspended, not lost.** A leader whose renewals fail (the database is down or restarting, or this host cannot
  reach it) stops acting when its local validity lapses: :meth:`check` raises :class:`Suspended` (a
  :class:`Fenced`), so it sends no ARI request or AMI action and stores nothing. It keeps its process, its room and
  its unstored events, and tries the database every ``poll_s``. The renewal does not require the lease to be
  unexpired: if the row still names this holder *and this epoch*, nobody took the lease meanwhile (taking it adds 1
  to the epoch), so nobody acted, and this process resumes. If the epoch moved on, another controller leads: lost.
  The same holds after a pause.
- Losing is final for the process: ``on_lost`` is called once (``serve`` logs and exits with
  :data:`EXIT_LEADERSHIP_LOST`; systemd starts it again as a standby).

What is left: a request that passed :meth:`check` and then was paused before reaching the socket is still sent.
The margin covers a slow round trip, not a pause in that instant; Asterisk takes no fencing token, so nothing
downstream can refuse it. For stored events the event writer re-reads holder and epoch inside its transaction
(:meth:`check_stored`), and the new leader ends every database session of an earlier leader's runtime right after
the take (:meth:`_end_stale_sessions`); a row lock (``FOR SHARE``) instead would let a leader paused while
holding it block the takeover.

With ``lease_s`` 3 s and a poll of 0.25 s, a standby takes over at most ~3.3 s after the leader's last renewal
(~3.3 s after the database server started, if it restarted meanwhile).
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from padang112.cluster.fence import Fenced, Suspended

log = logging.getLogger(__name__)

LEASE_S = 3.0
RENEW_S = 1.0
MARGIN_S = 0.5  # local validity ends this long before the database's expiry, at the latest
POLL_S = 0.25  # a standby tries to take the lease this often
LEADER_SESSIONS = "padang112-leader-"  # + epoch: application_name of the acting runtime's database sessions
EXIT_LEADERSHIP_LOST = 4  # serve's exit code (2: TLS settings, 3: another controller on this switch)

_TAKE = text(
    """
    INSERT INTO leadership (id, holder, epoch, expires_at)
    VALUES (1, :holder, 1, clock_timestamp() + make_interval(secs => :lease))
    ON CONFLICT (id) DO UPDATE
        SET holder = EXCLUDED.holder, epoch = leadership.epoch + 1, expires_at = EXCLUDED.expires_at
        WHERE leadership.expires_at < clock_timestamp()
          AND pg_postmaster_start_time() + make_interval(secs => :lease) < clock_timestamp()
    RETURNING epoch
    """
)
_RENEW = text(
    """
    UPDATE leadership SET expires_at = clock_timestamp() + make_interval(secs => :lease)
    WHERE id = 1 AND holder = :holder AND epoch = :epoch
    RETURNING epoch
    """
)
_STILL_MINE = text(
    "SELECT 1 FROM leadership WHERE id = 1 AND holder = :holder AND epoch = :epoch AND expires_at > clock_timestamp()"
)
_END_STALE_SESSIONS = text(
    """
    SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
    WHERE datname = current_database() AND application_name LIKE :stale AND application_name <> :mine
    """
)
_RELEASE = text(
    "UPDATE leadership SET expires_at = clock_timestamp() WHERE id = 1 AND holder = :holder AND epoch = :epoch"
)


def process_holder() -> str:
    """A name unique to this process: host, pid and a random tail (a pid is reused after a restart)."""
    return f"{socket.gethostname()[:80]}/{os.getpid()}/{secrets.token_hex(4)}"


class Leadership:
    def __init__(
        self,
        engine: AsyncEngine,
        holder: str | None = None,
        *,
        lease_s: float = LEASE_S,
        renew_s: float = RENEW_S,
        margin_s: float = MARGIN_S,
        poll_s: float = POLL_S,
        on_lost: Callable[[str], None] | None = None,
    ) -> None:
        if not 0 < margin_s < lease_s - renew_s:
            raise ValueError("need 0 < margin_s < lease_s - renew_s: a renewal must fall due before validity ends")
        self.engine = engine
        self.holder = holder or process_holder()
        self.lease_s, self.renew_s, self.margin_s, self.poll_s = lease_s, renew_s, margin_s, poll_s
        self.on_lost = on_lost
        self.epoch: int | None = None
        self.lost_reason: str | None = None
        self._renewed_at: float | None = None  # monotonic time the last successful renewal (or take) was sent

    # ---- taking the lease ----------------------------------------------------------------------------------
    async def try_acquire(self) -> bool:
        """Take the lease if it is free or expired (one statement); True when this process now leads."""
        sent = time.monotonic()
        async with self.engine.begin() as conn:
            epoch = (await conn.execute(_TAKE, {"holder": self.holder, "lease": self.lease_s})).scalar()
        if epoch is None:
            return False
        self.epoch, self._renewed_at = int(epoch), sent
        await self._end_stale_sessions()
        return True

    @property
    def application_name(self) -> str:
        """The acting runtime's session name, ``padang112-leader-<epoch>``."""
        return f"{LEADER_SESSIONS}{self.epoch}"

    async def _end_stale_sessions(self) -> None:
        """End every database session of an earlier leader's runtime: a paused leader's open transaction (its
        event writer's batch, holding the write lock) is rolled back now, not when it wakes, and nothing it sends
        later runs on a session that predates the takeover (a new one first meets :meth:`check_stored`)."""
        try:
            async with self.engine.begin() as conn:
                ended = (
                    await conn.execute(
                        _END_STALE_SESSIONS, {"stale": f"{LEADER_SESSIONS}%", "mine": self.application_name}
                    )
                ).scalar()
            if ended:
                log.warning("sesi basis data pemimpin lama diakhiri / ended %d sessions of an earlier leader", ended)
        except Exception as exc:  # e.g. not allowed: the lease and the epoch check still fence it
            log.warning("sesi pemimpin lama tidak dapat diakhiri / could not end an earlier leader's sessions: %s", exc)

    async def acquire(self) -> int:
        """Wait until this process leads; its epoch. Database errors are logged and tried again."""
        waiting_said, last_error = False, ""
        while True:
            try:
                if await self.try_acquire():
                    log.warning("kepemimpinan diambil / leadership taken: epoch %d (%s)", self.epoch, self.holder)
                    assert self.epoch is not None
                    return self.epoch
                if not waiting_said:
                    log.info("siaga: pengendali lain memimpin / standby: another controller leads (%s)", self.holder)
                    waiting_said = True
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database may be restarting: keep waiting (said once per new error)
                if repr(exc) != last_error:
                    log.warning("siaga: basis data tidak terjangkau / standby: database unreachable: %s", exc)
                last_error = repr(exc)
            await asyncio.sleep(self.poll_s)

    # ---- holding it --------------------------------------------------------------------------------------
    async def renew(self) -> bool:
        """Extend the lease, expired or not; False when it is no longer this process's (0 rows: the epoch moved)."""
        if self.epoch is None:
            return False
        sent = time.monotonic()
        async with self.engine.begin() as conn:
            row = (await conn.execute(_RENEW, self._mine())).scalar()
        if row is None:
            return False
        self._renewed_at = sent
        return True

    def valid(self) -> bool:
        """May this process act now? Local: no round trip (module docstring)."""
        if self.lost_reason is not None or self._renewed_at is None:
            return False
        return time.monotonic() - self._renewed_at < self.lease_s - self.margin_s

    async def hold(self) -> str:
        """Renew until the lease is lost; returns why (after ``on_lost`` was called). While suspended (renewals
        failing, validity lapsed) it tries every ``poll_s``, so acting resumes soon after the database is back."""
        suspended, failure = False, ""
        while self.lost_reason is None:
            await asyncio.sleep(self.renew_s if self.valid() else self.poll_s)
            try:
                if not await asyncio.wait_for(self.renew(), timeout=self.renew_s):
                    self._lose("sewa diambil pengendali lain / lease taken by another controller")
                failure = ""
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # tried again; meanwhile the local validity lapses: suspended
                if repr(exc) != failure:
                    log.warning("perpanjangan sewa gagal / lease renewal failed: %r", exc)
                failure = repr(exc)
            if self.lost_reason is None and suspended == self.valid():
                suspended = not suspended
                self._said_suspended(suspended)
        assert self.lost_reason is not None
        return self.lost_reason

    def _said_suspended(self, suspended: bool) -> None:
        if suspended:
            log.critical(
                "kepemimpinan ditangguhkan: sewa tidak dapat diperpanjang, tidak bertindak sampai basis data menjawab "
                "/ leadership suspended: the lease cannot be renewed, not acting until the database answers "
                "(epoch %s)",
                self.epoch,
            )
        else:
            log.warning(
                "kepemimpinan dilanjutkan: tak ada yang mengambil sewa / leadership resumed: nobody took the lease "
                "(epoch %s)",
                self.epoch,
            )

    async def release(self) -> None:
        """An orderly stop: expire the lease now, so the standby takes over at once (not after ``lease_s``)."""
        if self.epoch is None or self.lost_reason is not None:
            return
        self.lost_reason = "released"
        async with self.engine.begin() as conn:
            await conn.execute(_RELEASE, self._mine())
        log.info("kepemimpinan dilepas / leadership released (epoch %d)", self.epoch)

    # ---- the fence (padang112.cluster.fence.Fence) -------------------------------------------------------
    def check(self) -> None:
        if self.lost_reason is not None:
            raise Fenced(f"not the leader: {self.lost_reason}")
        if not self.valid():
            raise Suspended(f"not acting now: {self._lapsed()}")

    async def check_stored(self, session: AsyncSession) -> None:
        self.check()
        if (await session.execute(_STILL_MINE, self._mine())).scalar() is None:
            self._lose("basis data menyebut pemimpin lain / the database names another leader")
            raise Fenced(f"not the leader: {self.lost_reason}")

    # ---- losing --------------------------------------------------------------------------------------------
    def _mine(self) -> dict[str, object]:
        return {"holder": self.holder, "epoch": self.epoch, "lease": self.lease_s}

    def _lapsed(self) -> str:
        if self._renewed_at is None:
            return "tidak pernah memimpin / never led"
        age = time.monotonic() - self._renewed_at
        return f"ditangguhkan, sewa tak diperpanjang selama {age:.1f} s / suspended, lease not renewed for {age:.1f} s"

    def _lose(self, reason: str) -> None:
        if self.lost_reason is not None:
            return
        self.lost_reason = reason
        log.critical(
            "kepemimpinan hilang, berhenti bertindak / leadership lost, acting stops: %s (epoch %s)", reason, self.epoch
        )
        if self.on_lost is not None:
            self.on_lost(reason)
