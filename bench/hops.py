"""Where the time from a caller's INVITE to the seat's INVITE goes, hop by hop, read from one loopback capture of the
switch's SIP port and its ARI port (tcpdump's kernel timestamps: one clock for the switch and the controller).

Per caller (keyed by the number in the From of his INVITE; the seat's INVITE carries it too):

- ``invite``: the caller's first INVITE reaches the switch;
- ``answered``: the switch's 200 OK to that INVITE (the dialplan's ``Answer()``);
- ``stasis``: the ARI ``StasisStart`` frame of the caller's channel leaves the switch (the dialplan reached
  ``Stasis()``; the controller reads it from here);
- ``ring``: the controller's ``POST /ari/channels/leg-<call>-...`` (the seat's leg) reaches the switch;
- ``seat``: the switch's INVITE to the seat.

The differences of consecutive hops are the hops' own times (``hop_table``). A call missing a later hop (the
capture dropped a packet, the step ended) counts only in the hops it has.
"""

from __future__ import annotations

import itertools
import re
import struct
from collections.abc import Iterator

from stack import percentile

HOPS = ("invite", "answered", "stasis", "ring", "seat")
HOP_NAMES = {  # what each hop's time is spent on
    "answered": "INVITE → 200 OK (the switch: dialplan to Answer())",
    "stasis": "200 OK → StasisStart sent (the switch: music, lock, watchdog, Stasis())",
    "ring": "StasisStart → POST /channels (the controller)",
    "seat": "POST /channels → seat's INVITE (the switch)",
}
FROM_RE = re.compile(rb"^(?:From|f):[^<\r\n]*<sips?:([^@;>]+)@", re.M | re.I)
CSEQ_INVITE_RE = re.compile(rb"^(?:CSeq):\s*\d+\s+INVITE", re.M | re.I)
STASIS_RE = re.compile(rb'"type"\s*:\s*"StasisStart".*?"args"\s*:\s*\[\s*"inbound"', re.S)
CHANNEL_ID_RE = re.compile(rb'"channel"\s*:\s*\{\s*"id"\s*:\s*"([^"]+)"')
CALLER_RE = re.compile(rb'"caller"\s*:\s*\{[^}]*"number"\s*:\s*"([^"]*)"')
RING_RE = re.compile(rb"^POST /ari/channels/leg-(.+?)-[^-/?]+-[^-/?]+[?/ ]")


def ip_payloads(pcap: bytes) -> Iterator[tuple[float, int, int, int, bytes]]:
    """(time, protocol 6/17, source port, destination port, payload) of each IPv4 TCP or UDP packet of a classic
    pcap file (Ethernet as tcpdump writes for ``lo``, or Linux cooked capture)."""
    magic = struct.unpack_from("<I", pcap)[0]
    scale = 1e-9 if magic == 0xA1B23C4D else 1e-6
    link = {1: 14, 113: 16}[struct.unpack_from("<I", pcap, 20)[0]]
    offset = 24
    while offset + 16 <= len(pcap):
        sec, frac, size, _ = struct.unpack_from("<IIII", pcap, offset)
        packet = pcap[offset + 16 : offset + 16 + size]
        offset += 16 + size
        if len(packet) < link + 28 or packet[link] >> 4 != 4 or packet[link + 9] not in (6, 17):
            continue
        proto = packet[link + 9]
        start = link + (packet[link] & 0x0F) * 4
        sport, dport = struct.unpack_from("!HH", packet, start)
        if proto == 17:
            body = start + 8
        elif len(packet) >= start + 13:
            body = start + (packet[start + 12] >> 4) * 4
        else:
            continue
        yield sec + frac * scale, proto, sport, dport, packet[body:]


def hop_times(pcap: bytes, sip_port: int, ari_port: int) -> dict[str, dict[str, float]]:
    """Caller number -> hop -> the time of its first packet."""
    calls: dict[str, dict[str, float]] = {}
    number_of_call: dict[str, str] = {}  # ARI channel id of the caller -> his number

    def note(number: str, hop: str, t: float) -> None:
        calls.setdefault(number, {}).setdefault(hop, t)

    for t, proto, sport, dport, payload in ip_payloads(pcap):
        if proto == 17:
            found = FROM_RE.search(payload)
            if found is None:
                continue
            number = found.group(1).decode(errors="replace")
            if payload.startswith(b"INVITE "):
                if dport == sip_port:
                    note(number, "invite", t)
                elif sport == sip_port:
                    note(number, "seat", t)
            elif sport == sip_port and payload.startswith(b"SIP/2.0 200") and CSEQ_INVITE_RE.search(payload):
                note(number, "answered", t)
        elif sport == ari_port and b"StasisStart" in payload and STASIS_RE.search(payload):
            channel, caller = CHANNEL_ID_RE.search(payload), CALLER_RE.search(payload)
            if channel is not None and caller is not None:
                number = caller.group(1).decode(errors="replace")
                number_of_call[channel.group(1).decode()] = number
                note(number, "stasis", t)
        elif dport == ari_port:
            ring = RING_RE.match(payload)
            if ring is not None and ring.group(1).decode() in number_of_call:
                note(number_of_call[ring.group(1).decode()], "ring", t)
    return calls


def hop_delays(calls: dict[str, dict[str, float]]) -> dict[str, list[float]]:
    """Hop -> the milliseconds each call spent reaching it from the hop before (calls that have both)."""
    out: dict[str, list[float]] = {hop: [] for hop in HOPS[1:]}
    for times in calls.values():
        for before, hop in itertools.pairwise(HOPS):
            if before in times and hop in times:
                out[hop].append((times[hop] - times[before]) * 1000)
    return out


def hop_table(calls: dict[str, dict[str, float]]) -> str:
    """One row a hop: calls, p50, p90, p99 in ms."""
    lines = ["| hop | calls | p50 ms | p90 ms | p99 ms |", "|---|---|---|---|---|"]
    for hop, values in hop_delays(calls).items():
        cells = [f"{percentile(values, q):.1f}" if values else "-" for q in (50, 90, 99)]
        lines.append(f"| {HOP_NAMES[hop]} | {len(values)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
