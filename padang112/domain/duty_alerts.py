"""Calling an agency's duty phone when it missed an acknowledge deadline, until someone there presses 1.

One alert per (incident, agency) task that is escalated and still not acknowledged. Each alert is a small
state machine: ``calling`` (duty phone ringing) -> ``speaking`` (answered, the notice plays) -> ``done`` on the
key 1; a call that ends any other way (no answer, busy, unregistered phone, hung up, notice over without a key)
goes to ``waiting`` and is dialled again ``retry_s`` later. The alert stops when the task is acknowledged in the
console (``sync`` no longer wants it). Plain Python: the telephony adapter carries out the returned actions.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

ACK_KEY = "1"
Task = tuple[int, str]  # (incident id, agency)


class AlertState(str, enum.Enum):
    CALLING = "calling"
    SPEAKING = "speaking"
    WAITING = "waiting"
    DONE = "done"


@dataclass(frozen=True)
class Dial:
    channel: str
    incident_id: int
    agency: str
    attempt: int


@dataclass(frozen=True)
class Speak:
    channel: str
    agency: str


@dataclass(frozen=True)
class Acknowledge:
    """Acknowledge the task on the duty phone's behalf, then thank the person and hang up."""

    channel: str
    incident_id: int
    agency: str
    attempt: int


@dataclass(frozen=True)
class HangUp:
    channel: str


@dataclass(frozen=True)
class AttemptEnded:
    """An attempt that did not acknowledge (for the audit trail and the supervisor's screen)."""

    incident_id: int
    agency: str
    attempt: int
    outcome: str  # "no_answer" (never answered), "no_key" (answered, 1 not pressed), "stopped"


Action = Dial | Speak | Acknowledge | HangUp | AttemptEnded


@dataclass
class DutyAlert:
    incident_id: int
    agency: str
    state: AlertState
    attempts: int = 0
    channel: str | None = None
    next_at: datetime | None = None


class DutyAlerts:
    """All open alerts; ``channel_for(incident id, agency)`` names a new duty-phone channel."""

    def __init__(self, retry_s: float, channel_for: Callable[[int, str], str]) -> None:
        self.retry = timedelta(seconds=retry_s)
        self._channel_for = channel_for
        self.alerts: dict[Task, DutyAlert] = {}
        self._by_channel: dict[str, DutyAlert] = {}

    def sync(self, wanted: Iterable[Task], now: datetime) -> list[Action]:
        """Start an alert for every escalated task not acknowledged yet; stop the ones no longer wanted."""
        wanted = set(wanted)
        actions: list[Action] = []
        for key in wanted - self.alerts.keys():
            alert = DutyAlert(key[0], key[1], AlertState.WAITING, next_at=now)
            self.alerts[key] = alert
            actions += self._dial(alert)
        for key in set(self.alerts) - wanted:
            alert = self.alerts.pop(key)
            if alert.channel is not None:
                self._by_channel.pop(alert.channel, None)
                if alert.state in (AlertState.CALLING, AlertState.SPEAKING):
                    actions += [
                        HangUp(alert.channel),
                        AttemptEnded(alert.incident_id, alert.agency, alert.attempts, "stopped"),
                    ]
        return actions

    def due(self, now: datetime) -> list[Action]:
        actions: list[Action] = []
        for alert in self.alerts.values():
            if alert.state is AlertState.WAITING and alert.next_at is not None and alert.next_at <= now:
                actions += self._dial(alert)
        return actions

    def answered(self, channel: str) -> list[Action]:
        alert = self._by_channel.get(channel)
        if alert is None or alert.state is not AlertState.CALLING:
            return []
        alert.state = AlertState.SPEAKING
        return [Speak(channel, alert.agency)]

    def digit(self, channel: str, digit: str) -> list[Action]:
        alert = self._by_channel.get(channel)
        if alert is None or alert.state is not AlertState.SPEAKING or digit != ACK_KEY:
            return []
        alert.state = AlertState.DONE
        return [Acknowledge(channel, alert.incident_id, alert.agency, alert.attempts)]

    def notice_finished(self, channel: str) -> list[Action]:
        """The notice played through without the key: end this attempt (``ended`` follows)."""
        alert = self._by_channel.get(channel)
        if alert is None or alert.state is not AlertState.SPEAKING:
            return []
        return [HangUp(channel)]

    def ended(self, channel: str, now: datetime) -> list[Action]:
        alert = self._by_channel.pop(channel, None)
        if alert is None or alert.state not in (AlertState.CALLING, AlertState.SPEAKING):
            return []
        outcome = "no_answer" if alert.state is AlertState.CALLING else "no_key"
        alert.state, alert.channel, alert.next_at = AlertState.WAITING, None, now + self.retry
        return [AttemptEnded(alert.incident_id, alert.agency, alert.attempts, outcome)]

    def reconcile(self, live: Iterable[str], now: datetime) -> list[Action]:
        """After a (re)connection, ``live``: this line's channels on the switch. A channel no alert knows (left by
        an earlier process) is hung up; an alert's call that is gone ended while nobody was listening."""
        found = set(live)
        actions: list[Action] = [HangUp(channel) for channel in sorted(found - self._by_channel.keys())]
        for channel in [ch for ch in self._by_channel if ch not in found]:
            actions += self.ended(channel, now)
        return actions

    def _dial(self, alert: DutyAlert) -> list[Action]:
        alert.attempts += 1
        alert.state = AlertState.CALLING
        alert.channel = self._channel_for(alert.incident_id, alert.agency)
        self._by_channel[alert.channel] = alert
        return [Dial(alert.channel, alert.incident_id, alert.agency, alert.attempts)]
