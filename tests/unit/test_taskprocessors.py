"""``padang112 asterisk taskprocessors``: the parser reads what Asterisk 22 really prints, and the exporter's series
stay few.

The files in ``tests/fixtures/asterisk_cli/`` are the real output of the live test Asterisk (22.10.1, 73 seats
and 7 duty phones): ``taskprocessors_calm.txt`` just after start, ``taskprocessors_burst.txt`` the fullest of 886
reads taken while SIPp sent 600 calls at 60 calls/s (AMI's stasis queue held 34 tasks), and
``alerted_subsystems_none.txt`` the alert list of a calm switch.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from padang112.pbx import taskprocessors as tp
from padang112.pbx.chroot import AsteriskError

CLI = Path(__file__).resolve().parent.parent / "fixtures" / "asterisk_cli"
CALM = (CLI / "taskprocessors_calm.txt").read_text()
BURST = (CLI / "taskprocessors_burst.txt").read_text()
NO_ALERTS = (CLI / "alerted_subsystems_none.txt").read_text()


def scrape(outputs: dict[str, str], top: int = 10) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """What Prometheus would read: family name -> {labels: value}, through the real text format."""
    registry = CollectorRegistry()

    def read(command: str) -> str:
        if command not in outputs:
            raise AsteriskError(f"`{command}` failed on instance test: Unable to connect to remote asterisk")
        return outputs[command]

    registry.register(tp.TaskprocessorCollector(read, top))
    families = text_string_to_metric_families(generate_latest(registry).decode())
    return {f.name: {tuple(sorted(s.labels.items())): s.value for s in f.samples} for f in families}


def test_every_row_of_a_calm_switch_is_read() -> None:
    processors = tp.parse_taskprocessors(CALM)
    assert len(processors) == 186 and len({p.name for p in processors}) == 186  # the footer's count
    by_name = {p.name: p for p in processors}
    assert sum(p.queued for p in processors) == 0
    assert sum(name.startswith("pjsip/distributor-") for name in by_name) == 31
    manager = by_name["stasis/m:manager:core-0000000d"]  # AMI's queue: its own water marks
    assert (manager.low_water, manager.high_water) == (2700, 3000)
    # 80 phones' device states at start-up: a third of the default high water mark (500) in one go
    assert by_name["stasis/m:devicestate:all-00000009"].max_depth == 172


def test_a_queue_filling_under_a_burst_of_calls_is_read() -> None:
    by_name = {p.name: p for p in tp.parse_taskprocessors(BURST)}
    manager = by_name["stasis/m:manager:core-0000000d"]
    assert (manager.processed, manager.queued, manager.max_depth) == (3238, 34, 35)
    assert by_name["taskpool/s:pjsip-00000013"].queued == 1


def test_the_table_without_asterisk_22_10s_time_columns_is_read_too() -> None:
    """Before 22.10 the rows ended at High water; the same capture with the two last columns cut off."""
    header, *rest = CALM.strip("\n").split("\n")
    older = "\n".join(
        [header.split(" Low time")[0]]
        + [" ".join(line.split()[:-2]) if len(line.split()) == 8 else line for line in rest]
    )
    assert tp.parse_taskprocessors(older) == tp.parse_taskprocessors(CALM)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "No such command 'core show taskprocessors' (type 'core show help core show' for other possible commands)\n",
        CALM.replace("186 taskprocessors", "187 taskprocessors"),  # a row lost on the way
        CALM.replace("0          0        450        500", "0          x        450        500", 1),
    ],
    ids=["empty", "unknown-command", "truncated", "garbled-row"],
)
def test_output_that_is_not_the_known_table_is_refused(text: str) -> None:
    with pytest.raises(tp.ParseError):
        tp.parse_taskprocessors(text)


def test_alerted_subsystems_are_read() -> None:
    assert tp.parse_alerted_subsystems(NO_ALERTS) == {}
    # a switch in alert, in Asterisk's own row format ("%-32s %12u")
    alerted = NO_ALERTS.replace("0 subsystems", "2 subsystems")
    rows = "".join(f"{name:<32} {count:>12}\n" for name, count in (("pjsip", 2), ("stasis", 1)))
    alerted = alerted.replace("Alert Count\n", "Alert Count\n" + rows, 1)
    assert tp.parse_alerted_subsystems(alerted) == {"pjsip": 2, "stasis": 1}
    with pytest.raises(tp.ParseError):
        tp.parse_alerted_subsystems(alerted.replace("2 subsystems", "3 subsystems"))


def test_the_exporter_shows_the_fullest_queues_and_totals_over_all() -> None:
    got = scrape({tp.LIST_COMMAND: BURST, tp.ALERTS_COMMAND: NO_ALERTS}, top=3)
    assert got["padang112_asterisk_taskprocessors_up"] == {(): 1.0}
    assert got["padang112_asterisk_taskprocessors"] == {(): 186.0}
    assert got["padang112_asterisk_taskprocessors_queued"] == {(): 35.0}
    assert got["padang112_asterisk_taskprocessor_alerts"] == {(("subsystem", "pjsip"),): 0.0}  # there when calm
    queue = {labels[0][1]: value for labels, value in got["padang112_asterisk_taskprocessor_queue"].items()}
    # fullest relative to its high water first (AMI's 34/3000 before PJSIP's 1/500), then the deepest ever
    assert list(queue) == [
        "stasis/m:manager:core-0000000d",
        "taskpool/s:pjsip-00000013",
        "stasis/m:devicestate:all-00000009",
    ]
    assert queue["stasis/m:manager:core-0000000d"] == 34.0
    high = got["padang112_asterisk_taskprocessor_high_water"]
    assert high[(("name", "stasis/m:manager:core-0000000d"),)] == 3000.0
    assert set(got["padang112_asterisk_taskprocessor_max_depth"]) == set(high)


def test_series_stay_bounded_by_top_however_many_taskprocessors_there_are() -> None:
    got = scrape({tp.LIST_COMMAND: CALM, tp.ALERTS_COMMAND: NO_ALERTS}, top=10)
    assert sum(len(samples) for samples in got.values()) == 3 + 1 + 3 * 10  # totals, pjsip alerts, 10 per family
    # on a calm switch the deepest-ever come first (relative to high water): start-up's device states
    (first, *_) = got["padang112_asterisk_taskprocessor_max_depth"]
    assert first == (("name", "stasis/m:devicestate:all-00000009"),)


def test_an_unreachable_switch_is_reported_not_hidden() -> None:
    assert scrape({}) == {"padang112_asterisk_taskprocessors_up": {(): 0.0}}
    garbled = {tp.LIST_COMMAND: "Unable to connect", tp.ALERTS_COMMAND: NO_ALERTS}
    assert scrape(garbled) == {"padang112_asterisk_taskprocessors_up": {(): 0.0}}


@pytest.mark.parametrize(("text", "expected"), [("127.0.0.1:9112", ("127.0.0.1", 9112)), ("[::1]:9112", ("::1", 9112))])
def test_the_exporter_listens_on_loopback(text: str, expected: tuple[str, int]) -> None:
    assert tp.listen_address(text) == expected


@pytest.mark.parametrize("text", ["0.0.0.0:9112", "10.20.0.5:9112", "localhost:9112", "127.0.0.1", "127.0.0.1:0"])
def test_any_other_listen_address_is_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        tp.listen_address(text)


def test_at_least_one_queue_is_always_shown() -> None:
    assert tp.top_count("1") == 1
    for text in ("0", "-3", "ten"):
        with pytest.raises(argparse.ArgumentTypeError):
            tp.top_count(text)
