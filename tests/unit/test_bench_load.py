"""bench/load.py's pure helpers: /proc stat parsing, the pcap reader that pairs INVITEs, the table."""

from __future__ import annotations

import importlib.util
import struct
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "load.py"
_spec = importlib.util.spec_from_file_location("bench_load", BENCH)
assert _spec is not None and _spec.loader is not None
load = importlib.util.module_from_spec(_spec)
sys.modules["bench_load"] = load  # dataclasses look their module up
_spec.loader.exec_module(load)

SIP = 5480


def packet(t: float, sport: int, dport: int, payload: bytes) -> bytes:
    """One pcap record: Ethernet + IPv4 + UDP, as tcpdump -i lo writes it."""
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, bytes(4), bytes(4)) + udp
    frame = bytes(12) + b"\x08\x00" + ip
    return struct.pack("<IIII", int(t), round(t % 1 * 1e6), len(frame), len(frame)) + frame


def pcap(*records: bytes) -> bytes:
    return struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1) + b"".join(records)


def invite(number: str) -> bytes:
    return f'INVITE sip:x@127.0.0.1 SIP/2.0\r\nFrom: "A (B)" <sip:{number}@127.0.0.11>;tag=1\r\n\r\n'.encode()


def test_parse_stat_takes_cpu_and_rss_after_the_command_name() -> None:
    fields = ["S"] + ["0"] * 10 + ["120", "30"] + ["0"] * 8 + ["2048"] + ["0"] * 20
    assert load.parse_stat("42 (odd) name) " + " ".join(fields)) == (150, 2048)


def test_setup_times_pairs_the_callers_first_invite_with_the_first_one_to_a_seat() -> None:
    data = pcap(
        packet(100.000, 40000, SIP, invite("0812")),
        packet(100.500, 40000, SIP, invite("0812")),  # retransmission: not the send time
        packet(100.010, SIP, 5300, b"SIP/2.0 100 Trying\r\n\r\n"),
        packet(100.012, SIP, 5301, invite("0812")),
        packet(100.300, SIP, 5302, invite("0812")),  # a second seat rung later
        packet(101.000, 40000, SIP, invite("0813")),  # never reached a seat
    )
    sent, rang = load.setup_times(data, SIP)
    assert sent == {"0812": 100.0, "0813": 101.0}
    assert rang.keys() == {"0812"}
    assert abs((rang["0812"] - sent["0812"]) * 1000 - 12) < 0.01


def test_table_puts_padang112_over_app_queue_side_by_side() -> None:
    cpu, rss = {"asterisk": 30.0, "controller": 50.0}, {"asterisk": 90.0, "controller": 85.0}
    steps = [
        load.Step("app_queue", 10, [5.0] * 98 + [10.0] * 2, 100, 0, 0, {"asterisk": 10.0}, {"asterisk": 80.0}),
        load.Step("padang112", 10, [15.0] * 98 + [40.0] * 2, 100, 1, 2, cpu, rss),
    ]
    lines = load.table(steps).splitlines()
    assert lines[1].count("---") == lines[0].count("|") - 1  # a markdown table: one rule a column
    assert lines[2].startswith("| 10 | padang112 | 15.0 | 15.0 | 40.0 | 40.0 | 100 | 1 | 2 | 30.0 | 50.0 | 90 | 85 |")
    assert lines[2].endswith("| 3.0x | 4.0x | 0.0 |")
    queue_row = "| 10 | app_queue | 5.0 | 5.0 | 10.0 | 10.0 | 100 | 0 | 0 | 10.0 | - | 80 | - | - | - | - | - | 0.0 |"
    assert lines[3] == queue_row


def test_the_commit_lag_column_shows_the_controllers_p50_and_p99() -> None:
    step = load.Step("padang112", 10, [15.0], 1, 0, 0, {}, {}, 1.5, (4.25, 38.0))
    assert load.table([step]).splitlines()[2].endswith("| - | - | 4.2 | 38.0 | - | - | 1.5 |")


EXPOSITION = """# HELP padang112_event_commit_lag_seconds lag
# TYPE padang112_event_commit_lag_seconds histogram
padang112_event_commit_lag_seconds_bucket{{le="0.01"}} {a}
padang112_event_commit_lag_seconds_bucket{{le="0.02"}} {b}
padang112_event_commit_lag_seconds_bucket{{le="0.05"}} {c}
padang112_event_commit_lag_seconds_bucket{{le="+Inf"}} {c}
padang112_event_commit_lag_seconds_count {c}
padang112_event_commit_lag_seconds_sum 1.0
# HELP padang112_event_writer_batch_seconds other
# TYPE padang112_event_writer_batch_seconds histogram
padang112_event_writer_batch_seconds_bucket{{le="0.01"}} 99
padang112_event_writer_batch_seconds_bucket{{le="+Inf"}} 99
"""


def test_lag_buckets_reads_only_the_commit_lag_histogram() -> None:
    buckets = load.lag_buckets(EXPOSITION.format(a=1, b=2, c=3))
    assert buckets == {0.01: 1.0, 0.02: 2.0, 0.05: 3.0, float("inf"): 3.0}


def test_histogram_quantile_counts_only_what_the_step_observed_and_interpolates_in_the_bucket() -> None:
    before = load.lag_buckets(EXPOSITION.format(a=50, b=50, c=50))  # an earlier step: all under 10 ms
    after = load.lag_buckets(EXPOSITION.format(a=50, b=150, c=250))  # this step: 100 in 10-20 ms, 100 in 20-50 ms
    assert abs(load.histogram_quantile(0.5, before, after) - 0.02) < 1e-9
    assert abs(load.histogram_quantile(0.25, before, after) - 0.015) < 1e-9
    assert abs(load.histogram_quantile(0.99, before, after) - 0.0494) < 1e-9
    assert load.histogram_quantile(0.99, after, after) != load.histogram_quantile(0.99, after, after)  # NaN: none


def test_hold_is_shortened_only_where_the_seats_would_fill_up() -> None:
    assert load.hold_s(2, 48) == 2.5
    assert 0.3 < load.hold_s(20, 48) < 2.5
    assert load.hold_s(50, 48) == 0.3
