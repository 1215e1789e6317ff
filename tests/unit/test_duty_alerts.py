"""Duty-phone alerts: dial, speak, acknowledge on 1, retry otherwise, stop when acknowledged elsewhere."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from padang112.domain import duty_alerts as da

T0 = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)


def alerts() -> da.DutyAlerts:
    n = itertools.count(1)
    return da.DutyAlerts(30, lambda incident, agency: f"duty-{incident}-{agency}-{next(n)}")


def test_an_escalated_task_is_dialled_at_once_and_acknowledged_by_the_key_1() -> None:
    a = alerts()
    assert a.sync({(7, "pupr")}, T0) == [da.Dial("duty-7-pupr-1", 7, "pupr", 1)]
    assert a.sync({(7, "pupr")}, T0) == []  # already calling
    assert a.answered("duty-7-pupr-1") == [da.Speak("duty-7-pupr-1", "pupr")]
    assert a.digit("duty-7-pupr-1", "5") == []
    assert a.digit("duty-7-pupr-1", "1") == [da.Acknowledge("duty-7-pupr-1", 7, "pupr", 1)]
    assert a.ended("duty-7-pupr-1", T0) == []  # the hang-up after the thank-you is not a failed attempt
    assert a.due(T0 + timedelta(hours=1)) == []


def test_no_answer_or_no_key_is_retried_after_the_interval_and_counted() -> None:
    a = alerts()
    a.sync({(7, "pupr")}, T0)
    assert a.ended("duty-7-pupr-1", T0) == [da.AttemptEnded(7, "pupr", 1, "no_answer")]
    assert a.due(T0 + timedelta(seconds=29)) == []
    assert a.due(T0 + timedelta(seconds=30)) == [da.Dial("duty-7-pupr-2", 7, "pupr", 2)]
    a.answered("duty-7-pupr-2")
    assert a.notice_finished("duty-7-pupr-2") == [da.HangUp("duty-7-pupr-2")]
    assert a.ended("duty-7-pupr-2", T0) == [da.AttemptEnded(7, "pupr", 2, "no_key")]


def test_a_task_acknowledged_in_the_console_stops_the_ringing_call() -> None:
    a = alerts()
    a.sync({(7, "pupr")}, T0)
    a.sync({(7, "pupr"), (8, "bpbd")}, T0)
    actions = a.sync({(8, "bpbd")}, T0)
    assert actions == [da.HangUp("duty-7-pupr-1"), da.AttemptEnded(7, "pupr", 1, "stopped")]
    assert a.ended(actions[0].channel, T0) == []  # its hang-up event is not a new attempt
    assert set(a.alerts) == {(8, "bpbd")}


def test_events_about_unknown_or_stale_channels_change_nothing() -> None:
    a = alerts()
    assert a.answered("duty-x") == [] and a.digit("duty-x", "1") == [] and a.ended("duty-x", T0) == []
    a.sync({(7, "pupr")}, T0)
    assert a.digit("duty-7-pupr-1", "1") == []  # still ringing: no key can be pressed yet


def test_after_a_reconnection_a_stray_duty_channel_is_hung_up_and_a_vanished_call_counts_as_an_attempt() -> None:
    a = alerts()
    a.sync({(7, "pupr")}, T0)
    a.sync({(7, "pupr"), (8, "bpbd")}, T0)  # duty-7-pupr-1 and duty-8-bpbd-2 ringing
    actions = a.reconcile(["duty-7-pupr-1", "duty-3-sar-old9"], T0)
    assert actions == [da.HangUp("duty-3-sar-old9"), da.AttemptEnded(8, "bpbd", 1, "no_answer")]
    assert a.reconcile(["duty-7-pupr-1"], T0) == []  # nothing more to do the second time
