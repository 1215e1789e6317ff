"""bench/hops.py: the hops of a call from one loopback capture of SIP (UDP) and ARI (TCP)."""

from __future__ import annotations

import importlib.util
import struct
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))  # hops imports the bench's stack helpers
_spec = importlib.util.spec_from_file_location("bench_hops", BENCH / "hops.py")
assert _spec is not None and _spec.loader is not None
hops = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hops)

SIP, ARI = 5480, 8518


def packet(t: float, sport: int, dport: int, payload: bytes, tcp: bool = False) -> bytes:
    """One pcap record: Ethernet + IPv4 + UDP (or TCP with a 32-byte header, as Linux sends with timestamps)."""
    if tcp:
        head = struct.pack("!HHIIBBHHH", sport, dport, 0, 0, 8 << 4, 0x18, 512, 0, 0) + bytes(12)
    else:
        head = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0)
    body = head + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), 0, 0, 64, 6 if tcp else 17, 0, bytes(4), bytes(4))
    frame = bytes(12) + b"\x08\x00" + ip + body
    return struct.pack("<IIII", int(t), round(t % 1 * 1e6), len(frame), len(frame)) + frame


def pcap(*records: bytes) -> bytes:
    return struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1) + b"".join(records)


def sip(first: str, number: str, cseq: str = "1 INVITE") -> bytes:
    return f"{first}\r\nFrom: <sip:{number}@127.0.0.11>;tag=1\r\nCSeq: {cseq}\r\n\r\n".encode()


def stasis_start(channel: str, number: str, args: str = '"inbound","telkomsel","112"') -> bytes:
    frame = (
        f'{{"type":"StasisStart","timestamp":"x","args":[{args}],"channel":{{"id":"{channel}",'
        f'"name":"PJSIP/telkomsel-1","state":"Up","caller":{{"name":"","number":"{number}"}}}}}}'
    )
    return b"\x81\x7e" + struct.pack("!H", len(frame)) + frame.encode()


def test_each_hop_of_a_call_is_taken_from_its_first_packet() -> None:
    call = "1796316157.24"
    data = pcap(
        packet(100.000, 40000, SIP, sip("INVITE sip:112@127.0.0.1 SIP/2.0", "0812")),
        packet(100.001, SIP, 40000, sip("SIP/2.0 100 Trying", "0812")),
        packet(100.004, SIP, 40000, sip("SIP/2.0 200 OK", "0812")),
        packet(100.050, SIP, 40000, sip("SIP/2.0 200 OK", "0812", "2 BYE")),  # not the answer
        packet(100.006, ARI, 50000, stasis_start(call, "0812"), tcp=True),
        packet(100.0065, ARI, 50000, stasis_start("leg-x", "0812", '"seat","x","seat01"'), tcp=True),  # a seat's leg
        packet(100.007, 50001, ARI, f"POST /ari/channels/{call}/answer HTTP/1.1\r\n".encode(), tcp=True),
        packet(100.008, 50002, ARI, f"POST /ari/channels/leg-{call}-seat01-b1?endpoint=x HTTP/1.1\r\n".encode(), True),
        packet(100.011, SIP, 5300, sip("INVITE sip:seat01@127.0.0.1 SIP/2.0", "0812")),
        packet(100.020, 40001, SIP, sip("INVITE sip:112@127.0.0.1 SIP/2.0", "0813")),  # never went further
    )
    calls = hops.hop_times(data, SIP, ARI)
    assert calls["0813"] == {"invite": 100.020}
    got = {hop: round((t - 100.0) * 1000, 3) for hop, t in calls["0812"].items()}
    assert got == {"invite": 0.0, "answered": 4.0, "stasis": 6.0, "ring": 8.0, "seat": 11.0}
    delays = hops.hop_delays(calls)
    assert {hop: [round(d, 3) for d in ds] for hop, ds in delays.items()} == {
        "answered": [4.0],
        "stasis": [2.0],
        "ring": [2.0],
        "seat": [3.0],
    }
    table = hops.hop_table(calls)
    assert "| StasisStart → POST /channels (the controller) | 1 | 2.0 | 2.0 | 2.0 |" in table
