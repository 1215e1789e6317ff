"""Acknowledge and resolve times per agency (OPD), against the acknowledge deadlines: pure, no I/O.

The input is the agency tasks of the incident model (table ``agency_tasks``), each with its ``dispatched_at``,
``ack_deadline`` (set at dispatch from the priority, see :mod:`padang112.incidents.routing`),
``acknowledged_at``, ``resolved_at`` and ``escalated_at``. What :func:`agency_times` counts, for the tasks
dispatched in ``[start, end)``:

- **time to acknowledge**: ``acknowledged_at − dispatched_at``; **time to resolve**: ``resolved_at −
  dispatched_at`` (from the dispatch, so it includes the time to acknowledge). Both clamped at 0.
- **p50 / p90**: nearest-rank percentiles (as for calls, :func:`..service_level.percentile_nearest_rank`).
- **judged** against the deadline: every acknowledged task, plus every task never acknowledged whose deadline
  has passed at ``now`` (or that was escalated). A task still inside its deadline, or cancelled before it,
  is not judged yet. **within**: acknowledged at or before its own deadline. **missed**: judged but not within.
  ``within_pct`` is within over judged: at least 90 % means the p90 time met each task's own deadline.
- There is no resolve deadline in the routing policy: resolve times are shown without one.

A task sent again to an agency (``add_agency`` after it was done) holds only its latest round here; the earlier
round stays in ``incident_events``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from padang112.incidents.model import AGENCIES, AGENCY_NAMES, AgencyTask, TaskState
from padang112.stats.service_level import percentile_nearest_rank
from padang112.storage.types import require_aware

DEADLINE_TARGET_PCT = 90.0
_OPEN = frozenset({TaskState.DISPATCHED, TaskState.ACKNOWLEDGED, TaskState.EN_ROUTE, TaskState.ON_SCENE})


@dataclass(frozen=True)
class AgencyTimes:
    agency: str
    tasks: int  # dispatched in the window
    open: int
    acknowledged: int
    resolved: int
    cancelled: int
    ack_p50_s: float | None
    ack_p90_s: float | None
    resolve_p50_s: float | None
    resolve_p90_s: float | None
    judged: int
    within: int
    missed: int

    @property
    def name(self) -> str:
        return AGENCY_NAMES.get(self.agency, self.agency)

    @property
    def within_pct(self) -> float | None:
        return None if self.judged == 0 else 100.0 * self.within / self.judged

    @property
    def below_target(self) -> bool:
        pct = self.within_pct
        return pct is not None and pct < DEADLINE_TARGET_PCT

    def to_json(self) -> dict[str, Any]:
        return {
            "agency": self.agency,
            "name": self.name,
            "tasks": self.tasks,
            "open": self.open,
            "acknowledged": self.acknowledged,
            "resolved": self.resolved,
            "cancelled": self.cancelled,
            "ack_p50_s": _round(self.ack_p50_s),
            "ack_p90_s": _round(self.ack_p90_s),
            "resolve_p50_s": _round(self.resolve_p50_s),
            "resolve_p90_s": _round(self.resolve_p90_s),
            "judged": self.judged,
            "within_deadline": self.within,
            "missed_deadline": self.missed,
            "within_deadline_pct": _round(self.within_pct),
            "below_target": self.below_target,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _seconds(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else max(0.0, (end - start).total_seconds())


def times_of(agency: str, tasks: Iterable[AgencyTask], now: datetime) -> AgencyTimes:
    """The figures of ``agency`` over ``tasks`` (tasks of other agencies are ignored)."""
    require_aware(now, "now")
    own = [t for t in tasks if t.agency == agency]
    acks = [s for t in own if (s := _seconds(t.dispatched_at, t.acknowledged_at)) is not None]
    resolves = [
        s for t in own if t.state is TaskState.RESOLVED and (s := _seconds(t.dispatched_at, t.resolved_at)) is not None
    ]
    within = sum(1 for t in own if t.acknowledged_at is not None and t.acknowledged_at <= t.ack_deadline)
    missed = sum(
        1
        for t in own
        if (t.acknowledged_at is not None and t.acknowledged_at > t.ack_deadline)
        or (t.acknowledged_at is None and _overdue(t, now))
    )
    return AgencyTimes(
        agency=agency,
        tasks=len(own),
        open=sum(1 for t in own if t.state in _OPEN),
        acknowledged=len(acks),
        resolved=sum(1 for t in own if t.state is TaskState.RESOLVED),
        cancelled=sum(1 for t in own if t.state is TaskState.CANCELLED),
        ack_p50_s=percentile_nearest_rank(acks, 50),
        ack_p90_s=percentile_nearest_rank(acks, 90),
        resolve_p50_s=percentile_nearest_rank(resolves, 50),
        resolve_p90_s=percentile_nearest_rank(resolves, 90),
        judged=within + missed,
        within=within,
        missed=missed,
    )


def _overdue(task: AgencyTask, now: datetime) -> bool:
    """Never acknowledged and out of time: escalated, or still waiting past its deadline."""
    return task.escalated_at is not None or (task.state is TaskState.DISPATCHED and now > task.ack_deadline)


def agency_times(
    tasks: Iterable[AgencyTask], start: datetime, end: datetime, now: datetime, agencies: Iterable[str] = AGENCIES
) -> list[AgencyTimes]:
    """One :class:`AgencyTimes` per agency (all seven by default, also those without tasks), for the tasks
    dispatched in ``[start, end)``."""
    require_aware(start, "start")
    require_aware(end, "end")
    in_window = [t for t in tasks if start <= t.dispatched_at < end]
    return [times_of(agency, in_window, now) for agency in agencies]
