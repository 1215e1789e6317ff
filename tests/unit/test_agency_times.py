"""Acknowledge and resolve times per agency (pure): percentiles, deadlines, empty and odd input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from padang112.incidents.model import AGENCIES, AgencyTask, TaskState
from padang112.stats.agency_times import agency_times, times_of

T0 = datetime(2023, 8, 7, 1, 0, tzinfo=UTC)  # 08:00 WIB


def task(
    agency: str = "bpbd",
    *,
    base: datetime = T0,
    at: float = 0,
    deadline: float = 60,
    ack: float | None = None,
    resolved: float | None = None,
    state: TaskState | None = None,
    escalated: float | None = None,
    incident_id: int = 1,
) -> AgencyTask:
    """A task dispatched ``at`` seconds after ``base``; other times in seconds after its dispatch."""
    start = base + timedelta(seconds=at)

    def after(s: float | None) -> datetime | None:
        return None if s is None else start + timedelta(seconds=s)

    if state is None:
        state = (
            TaskState.RESOLVED
            if resolved is not None
            else TaskState.ACKNOWLEDGED
            if ack is not None
            else TaskState.DISPATCHED
        )
    return AgencyTask(
        incident_id=incident_id,
        agency=agency,
        state=state,
        dispatched_at=start,
        ack_deadline=start + timedelta(seconds=deadline),
        acknowledged_at=after(ack),
        resolved_at=after(resolved),
        escalated_at=after(escalated),
    )


def test_percentiles_and_deadlines_of_one_agency() -> None:
    tasks = [
        task(ack=a, resolved=r, incident_id=n)
        for n, (a, r) in enumerate([(10, 600), (20, 900), (30, None), (50, 1200), (90, 3000)])
    ]
    times = times_of("bpbd", tasks, now=T0 + timedelta(hours=2))

    assert (times.tasks, times.acknowledged, times.resolved, times.open) == (5, 5, 4, 1)
    assert (times.ack_p50_s, times.ack_p90_s) == (30.0, 90.0)  # nearest rank: 3rd and 5th of 5
    assert (times.resolve_p50_s, times.resolve_p90_s) == (900.0, 3000.0)
    assert (times.judged, times.within, times.missed) == (5, 4, 1)  # 90 s > its 60 s deadline
    assert times.within_pct == 80.0 and times.below_target
    assert times.to_json()["within_deadline_pct"] == 80.0 and times.name == "BPBD"


def test_a_task_waiting_past_its_deadline_is_missed_one_inside_it_is_not_judged_yet() -> None:
    tasks = [task(deadline=60), task(at=100, deadline=120, incident_id=2)]
    now = T0 + timedelta(seconds=90)  # the first is 30 s late, the second has 130 s left

    times = times_of("bpbd", tasks, now)
    assert (times.judged, times.within, times.missed, times.open) == (1, 0, 1, 2)
    assert times.ack_p50_s is None and times.within_pct == 0.0


def test_an_escalated_task_cancelled_later_counts_as_missed_a_task_cancelled_in_time_does_not() -> None:
    tasks = [task(state=TaskState.CANCELLED, escalated=61), task(state=TaskState.CANCELLED, incident_id=2)]
    times = times_of("bpbd", tasks, T0 + timedelta(hours=1))
    assert (times.cancelled, times.judged, times.missed, times.open) == (2, 1, 1, 0)


def test_every_agency_is_listed_also_without_tasks_and_only_the_window_counts() -> None:
    tasks = [
        task("damkar", ack=5),
        task("damkar", at=-3600, ack=500, incident_id=2),  # dispatched before the window
        task("dinkes", at=86_400, ack=1, incident_id=3),
    ]  # the next day
    rows = agency_times(tasks, T0 - timedelta(minutes=1), T0 + timedelta(hours=23), now=T0 + timedelta(hours=1))

    assert [r.agency for r in rows] == list(AGENCIES)
    by = {r.agency: r for r in rows}
    assert (by["damkar"].tasks, by["damkar"].ack_p90_s) == (1, 5.0)
    assert by["dinkes"].tasks == 0
    empty = by["pupr"].to_json()
    assert empty["tasks"] == 0 and empty["ack_p50_s"] is None and empty["within_deadline_pct"] is None
    assert empty["below_target"] is False


def test_empty_input_and_odd_times() -> None:
    assert all(r.tasks == 0 and r.judged == 0 for r in agency_times([], T0, T0 + timedelta(days=1), T0))
    # acknowledged "before" dispatch (clock skew between machines): clamped to 0, within the deadline
    skewed = times_of("bpbd", [task(ack=-5)], T0)
    assert (skewed.ack_p50_s, skewed.within) == (0.0, 1)
    assert times_of("bpbd", [task("no-such-agency", ack=3)], T0).tasks == 0
    with pytest.raises(ValueError):
        times_of("bpbd", [], datetime(2023, 8, 7, 8, 0))  # a naive time is refused
