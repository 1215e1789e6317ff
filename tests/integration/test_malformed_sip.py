"""Garbage and truncated SIP on the carrier-facing port never stops the switch from answering 112."""

from __future__ import annotations

import asyncio
import socket

import pytest

from padang112.simulator import fleet
from tests.fixtures.controller import eventually
from tests.integration.test_call_path import call_of
from tests.sipraw import raw_call

pytestmark = pytest.mark.live

GARBAGE = [
    b"\x00\xff" * 700,
    b"INVITE sip:112@127.0.0.1 SIP/2.0\r\nVia: broken\r\n\r\n",
    b"INVITE sip:112@127.0.0.1 SIP/2.0\r\nContent-Length: 99999\r\n\r\nv=0",
    b"SIP/2.0 200 OK\r\n\r\n",
    b"OPTIONS * SIP/9.9\r\n" + b"X-Long: " + b"A" * 8000 + b"\r\n\r\n",
]


async def test_malformed_sip_from_a_carrier_address_is_ignored_and_the_next_112_call_is_answered(
    asterisk, controller, repo, live_settings
):
    source = fleet.carrier_address(live_settings, "telkom")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((source, 0))
        for datagram in GARBAGE:
            sock.sendto(datagram, (asterisk.sip_host, asterisk.sip_port))
    await asyncio.sleep(0.5)
    caller = b"6281500000001"
    result = await asyncio.to_thread(
        raw_call, asterisk.sip_host, asterisk.sip_port, source, b"Sesudah Sampah", caller, "112", 1.0
    )
    assert result.final == 200, result.statuses
    await eventually(lambda: call_of(repo, caller.decode(), "abandoned"), 10, what="the call after the garbage stored")
