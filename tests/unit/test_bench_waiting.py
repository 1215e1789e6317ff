"""bench/waiting.py's pure helpers: the serving-order check, the metric and channel readers."""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))  # waiting.py imports its neighbours (load.py, stack.py)
_spec = importlib.util.spec_from_file_location("bench_waiting", BENCH / "waiting.py")
assert _spec is not None and _spec.loader is not None
waiting = importlib.util.module_from_spec(_spec)
sys.modules["bench_waiting"] = waiting  # dataclasses look their module up
_spec.loader.exec_module(waiting)

T0 = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_callers_served_in_the_order_they_arrived_are_in_order() -> None:
    calls = [("a", at(0), at(10)), ("b", at(1), at(10.5)), ("c", at(2), at(10.5))]
    assert waiting.serving_order(calls) == waiting.Order(served=3, ahead=0, worst_s=0.0)


def test_a_caller_served_before_an_earlier_one_is_counted_with_its_lead() -> None:
    calls = [("a", at(0), at(12)), ("b", at(1), at(10)), ("c", at(2), at(11.5)), ("d", at(3), at(13))]
    order = waiting.serving_order(calls)
    assert (order.served, order.ahead) == (4, 2)  # b and c went ahead of a
    assert order.worst_s == 2.0  # b, 2 s before a


def test_callers_never_served_are_left_out_and_ties_keep_the_id_order() -> None:
    calls = [("b", at(0), at(5)), ("a", at(0), at(4)), ("c", at(1), None)]
    order = waiting.serving_order(calls)
    assert (order.served, order.ahead) == (2, 0)  # same arrival: "a" first, served first


def test_metric_reads_an_unlabelled_and_a_labelled_sample() -> None:
    text = (
        "# HELP padang112_callers_waiting Callers not yet answered\n"
        "padang112_callers_waiting 1004.0\n"
        "padang112_callers_waiting_total 3.0\n"
        'padang112_seats{state="available"} 48.0\n'
    )
    assert waiting.metric(text, "padang112_callers_waiting") == 1004.0
    assert waiting.metric(text, 'padang112_seats{state="available"}') == 48.0
    assert waiting.metric(text, "padang112_nothing") is None


def test_caller_channels_counts_only_the_carriers_channels_by_state_and_application() -> None:
    concise = "\n".join(
        [
            "PJSIP/telkom-00000001!emergency!s!14!Up!Stasis!padang112,inbound,telkom,112!0813!!!3!20!!1.1",
            "PJSIP/xl-00000002!emergency!s!14!Up!Stasis!padang112,inbound,xl,112!0813!!!3!20!!1.2",
            "PJSIP/xl-00000003!p112-emergency-numbers!112!2!Ring!Goto!emergency,s,1!0813!!!3!1!!1.3",
            "Local/telkom-00000001@p112-watchdog-00000001;1!p112-watchdog!telkom-00000001!5!Up!Wait!1!!!!3!20!!1.4",
            "PJSIP/seat01-00000004!seats!s!1!Up!AppDial!(Outgoing Line)!!!!3!1!!1.5",
        ]
    )
    found = waiting.caller_channels(concise, ["telkom", "xl"])
    assert found == {"Up Stasis": 2, "Ring Goto": 1}
