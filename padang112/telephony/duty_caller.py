"""Calls an agency's duty phone over ARI until someone presses 1 (see ``domain/duty_alerts.py``).

A line of the controller: it hands this adapter what the switch reports about a ``duty-…`` channel (translated by
``telephony/lines.py``) and, after each (re)connection, the switch's snapshot (channels left by an earlier process
are hung up). Its requests are effects carried out by the effect runner. Which tasks need a call comes from the
incident store (escalated and still not acknowledged), re-read by ``sync`` every few seconds, so an alert
survives a restart and stops soon after the task is acknowledged in the console. The duty phone is only ever
dialled through ``DialPolicy``.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from padang112.domain import duty_alerts as da
from padang112.domain import effects as fx
from padang112.domain.legs import KeyPressed, LegFact, LegUp, PlaybackDone
from padang112.domain.line_ids import on_node, split
from padang112.incidents.model import AGENCY_NAMES, TaskState
from padang112.telephony.dial_policy import DialPolicy
from padang112.telephony.executor import EffectRunner
from padang112.telephony.snapshot import Snapshot

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "duty-"
NOTICE_REPEATS = 3
CALLER_ID = '"Command Center 112" <112>'


class DutyIncidents(Protocol):
    """What the caller needs of the incident service."""

    async def set_task_state(
        self, incident_id: int, agency: str, to: TaskState | str, by: str, note: str = "", reason: str | None = None
    ) -> dict[str, Any]: ...

    async def record_duty_call(self, incident_id: int, agency: str, attempt: int, outcome: str) -> None: ...


def duty_actor(agency: str) -> str:
    """Who the audit trail says acknowledged: the agency's duty phone, not a signed-in user."""
    return f"telepon piket {AGENCY_NAMES.get(agency, agency)}"


class DutyCaller:
    prefix = CHANNEL_PREFIX

    def __init__(
        self,
        runner: EffectRunner,
        policy: DialPolicy,
        incidents: DutyIncidents,
        retry_s: float,
        ring_s: float,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        where: Callable[[], str] = lambda: "",
    ) -> None:
        """``where()``: the node the next call is placed on, named in its channel id (``Controller.line_node``;
        "" on the single box)."""
        self.runner = runner
        self.policy = policy
        self.incidents = incidents
        self.ring_s = ring_s
        self.clock = clock
        boot = secrets.token_hex(3)
        counter = itertools.count(1)
        self.alerts = da.DutyAlerts(
            retry_s,
            lambda incident, agency: on_node(where(), f"{CHANNEL_PREFIX}{incident}-{agency}-{boot}{next(counter)}"),
        )
        self._notices: dict[str, str] = {}  # channel -> its notice playback id
        self._thanks: dict[str, str] = {}  # channel -> the thank-you playback id; hang up when it finishes
        self._queue: asyncio.Queue[Callable[[], Awaitable[None]]] = asyncio.Queue()

    # ---- inputs ------------------------------------------------------------------------------------------
    def take(self, fact: LegFact) -> None:
        """From the controller's inbox (never blocks): queued and handled in order by ``run``."""
        self._queue.put_nowait(lambda: self._on(fact))

    def reconcile(self, snapshot: Snapshot, paused: dict[str, str]) -> None:
        live = [ch.id for ch in snapshot.placed if split(ch.id, CHANNEL_PREFIX) is not None]
        self._queue.put_nowait(lambda: self._carry_out(self.alerts.reconcile(live, self.clock())))

    def sync(self, wanted: set[tuple[int, str]]) -> None:
        """``wanted``: the (incident id, agency) tasks escalated and not acknowledged, read from the store."""
        self._queue.put_nowait(lambda: self._carry_out(self.alerts.sync(wanted, self.clock())))

    def tick(self, at: datetime) -> None:
        """The controller's tick: the retries that have fallen due."""
        self._queue.put_nowait(lambda: self._carry_out(self.alerts.due(at)))

    async def run(self) -> None:
        while True:
            job = await self._queue.get()
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception:  # one bad event must not stop the alerts
                log.exception("duty call handling failed")

    async def _on(self, fact: LegFact) -> None:
        channel = fact.channel
        actions: list[da.Action] = []
        if isinstance(fact, LegUp):
            actions = self.alerts.answered(channel)
        elif isinstance(fact, KeyPressed):
            actions = self.alerts.digit(channel, fact.digit)
        elif isinstance(fact, PlaybackDone):
            if self._thanks.get(channel) == fact.playback:
                actions = [da.HangUp(channel)]
            elif self._notices.get(channel) == fact.playback:
                actions = self.alerts.notice_finished(channel)
        else:
            self._notices.pop(channel, None)
            self._thanks.pop(channel, None)
            actions = self.alerts.ended(channel, self.clock())
        await self._carry_out(actions)

    # ---- outputs -----------------------------------------------------------------------------------------
    async def _carry_out(self, actions: list[da.Action]) -> None:
        for action in actions:
            handler = getattr(self, "_" + type(action).__name__)
            await handler(action)

    async def _Dial(self, a: da.Dial) -> None:
        endpoint = self.policy.duty_phone(a.agency)
        log.warning("calling %s (%s) for incident %s, attempt %d", endpoint, a.agency, a.incident_id, a.attempt)
        try:
            await self.runner.perform(
                fx.Originate(a.channel, a.channel, endpoint, f"duty,{a.incident_id},{a.agency}", CALLER_ID, self.ring_s)
            )
        except Exception as exc:  # unregistered phone, ARI away...: this attempt failed, try again later
            log.warning("duty call to %s could not be placed: %s", endpoint, exc)
            await self._carry_out(self.alerts.ended(a.channel, self.clock()))

    async def _Speak(self, a: da.Speak) -> None:
        playback = f"pb-{a.channel}-notice"
        self._notices[a.channel] = playback
        media = ",".join([f"sound:padang112/duty-notice-{a.agency}"] * NOTICE_REPEATS)
        await self.runner.perform(fx.Play(a.channel, a.channel, playback, media))

    async def _Acknowledge(self, a: da.Acknowledge) -> None:
        playback = self._notices.pop(a.channel, None)
        if playback:
            await self.runner.perform_quietly(fx.StopPlayback(a.channel, playback))
        try:
            await self.incidents.set_task_state(
                a.incident_id,
                a.agency,
                TaskState.ACKNOWLEDGED,
                by=duty_actor(a.agency),
                note=f"diterima lewat telepon piket (panggilan ke-{a.attempt})",
            )
        except Exception as exc:  # acknowledged or cancelled in the console meanwhile: nothing left to do
            log.info("duty phone key 1 for incident %s/%s: %s", a.incident_id, a.agency, exc)
        self._thanks[a.channel] = f"pb-{a.channel}-thanks"
        await self.runner.perform_quietly(
            fx.Play(a.channel, a.channel, self._thanks[a.channel], "sound:padang112/duty-thanks")
        )

    async def _HangUp(self, a: da.HangUp) -> None:
        await self.runner.perform_quietly(fx.Hangup(a.channel, a.channel))

    async def _AttemptEnded(self, a: da.AttemptEnded) -> None:
        log.warning(
            "duty call for incident %s to %s ended: %s (attempt %d)", a.incident_id, a.agency, a.outcome, a.attempt
        )
        await self.incidents.record_duty_call(a.incident_id, a.agency, a.attempt, a.outcome)
