"""When the ARI listener connects again (telephony/reconnect.py): a dead switch is never hammered, a timed-out
attempt is followed at once by the next, and a connection lost on a live switch is taken back at once, backing
off only when losses follow each other."""

from __future__ import annotations

from padang112.telephony import ari, reconnect
from padang112.telephony.reconnect import Reconnect


def test_a_refusing_switch_gets_attempts_at_most_once_per_step_up_to_the_cap() -> None:
    policy = Reconnect()
    waits = [policy.failed(0.001) for _ in range(5)]
    assert waits == [0.199, 0.399, 0.499, 0.499, 0.499]
    # a dead switch (refused at once) for a minute: at most one attempt every 0.5 s, never a hot loop
    policy, attempts, clock = Reconnect(), 0, 0.0
    while clock < 60.0:
        clock += 0.001 + policy.failed(0.001)
        attempts += 1
    assert attempts <= 60 / reconnect.MAX_S + 2


def test_an_attempt_that_timed_out_has_waited_its_step_so_the_next_starts_at_once() -> None:
    policy = Reconnect()
    assert ari.CONNECT_TIMEOUT_S > reconnect.MAX_S  # the rule below holds for every timed-out attempt
    assert [policy.failed(ari.CONNECT_TIMEOUT_S) for _ in range(4)] == [0.0] * 4
    assert policy.failed(0.3) == 0.2  # one refused at once after those still waits the rest of the (capped) step


def test_a_lost_connection_is_taken_back_at_once_and_losses_in_a_row_back_off() -> None:
    policy = Reconnect()
    assert policy.lost(600.0) == 0.0  # a steady connection dropped (a frozen link noticed by the ping)
    assert [policy.lost(0.1) for _ in range(4)] == [0.2, 0.4, 0.5, 0.5]  # two sockets taking the app in turns
    assert policy.lost(reconnect.STEADY_S) == 0.0  # one that lasted starts again


def test_the_thaw_of_a_frozen_link_costs_no_wait_of_its_own() -> None:
    """The chaos test's path: timeouts while frozen, the link back, the new connection's app taken by an attempt
    given up during the freeze, taken back: no wait anywhere."""
    policy = Reconnect()
    assert policy.lost(600.0) == 0.0
    assert [policy.failed(ari.CONNECT_TIMEOUT_S) for _ in range(20)] == [0.0] * 20
    assert policy.lost(0.1) == 0.0
    assert policy.lost(0.05) == 0.2  # taken again at once: from now on it backs off


def test_only_a_connection_that_lasted_starts_the_steps_of_unreachable_attempts_again() -> None:
    policy = Reconnect()
    assert [policy.failed(0.0) for _ in range(2)] == [0.2, 0.4]
    assert policy.lost(0.1) == 0.0
    assert policy.failed(0.0) == 0.5  # a switch that accepts and drops each connection: still the steps
    policy.lost(reconnect.STEADY_S)
    assert policy.failed(0.0) == 0.2


def test_a_switch_that_drops_every_connection_at_once_is_tried_at_most_twice_a_second() -> None:
    policy, attempts, clock = Reconnect(), 0, 0.0
    while clock < 60.0:
        clock += 0.01 + policy.lost(0.01)
        attempts += 1
    assert attempts <= 60 / reconnect.MAX_S + 4
