"""SIP transports, accounts and sockets of one simulator process, and the limits of this pjsua2 build.

Limits of the pjsua2-python 2.15 wheel, measured here:

- 8 accounts: ``pjsua_acc_add`` asserts (aborts the process) on the 9th. Seats take one each; citizens one per
  carrier source address; an idle citizen account is shut down to make room (``ops.make_room``).
- 4 concurrent calls, both directions (compiled ``PJSUA_MAX_CALLS``; a larger ``maxCalls`` is clamped). A 5th
  outgoing call fails with PJ_ETOOMANY, a 5th incoming one is answered 486 by pjsua itself.
- 8 SIP transports (the 9th: PJ_ETOOMANY).
- 64 sockets in the ioqueue, and running out aborts the process. Each call leg holds 2 (RTP, RTCP), and a
  closed socket's slot is only reusable ~0.5 s later, so quick successive calls are paced (``socket_room``).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pjsua2 as pj

from padang112.simulator.agents import SimCall

if TYPE_CHECKING:
    from padang112.simulator.agents import CitizenAccount, SeatAccount

MAX_ACCOUNTS = 8
MAX_CALLS = 4
MAX_TRANSPORTS = 8
IOQUEUE_HANDLES = 64
SOCKET_LINGER_S = 0.7


class Resources:
    """Mixed into ``Engine``: the bookkeeping of pjsua objects with a per-process cap."""

    ep: pj.Endpoint
    rtp_port: int
    transports: dict[tuple[str, int], int]
    seats: dict[str, SeatAccount]
    citizens: dict[str, CitizenAccount]
    live_accounts: set[int]
    graveyard: list[object]
    _released: list[float]

    def keep(self, obj: object) -> None: ...

    def transport(self, host: str, port: int = 0) -> int:
        """UDP transport bound to ``host`` (sources every packet from that address); port 0 = any, shared."""
        key = (host, port)
        if key not in self.transports:
            tc = pj.TransportConfig()
            tc.boundAddress = host
            tc.publicAddress = host
            tc.port = port
            self.transports[key] = self.ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tc)
        return self.transports[key]

    def close_transport(self, host: str, port: int) -> None:
        tid = self.transports.pop((host, port), None)
        if tid is not None:
            self.ep.transportClose(tid)  # graceful: pjsip frees it once nothing uses it

    def local_name(self, tid: int) -> str:
        return str(self.ep.transportGetInfo(tid).localName)

    def account_config(self, id_uri: str, tid: int, host: str) -> pj.AccountConfig:
        acfg = pj.AccountConfig()
        acfg.idUri = id_uri
        acfg.sipConfig.transportId = tid
        media = acfg.mediaConfig.transportConfig
        media.boundAddress = host  # RTP from (and SDP naming) the same address as the SIP
        media.publicAddress = host
        media.port = self.rtp_port
        media.portRange = 1000
        nat = acfg.natConfig
        nat.sipOutboundUse = 0
        nat.contactRewriteUse = 0
        nat.viaRewriteUse = 0
        nat.sdpNatRewriteUse = 0
        return acfg

    def add_account(self, acc: pj.Account, acfg: pj.AccountConfig) -> None:
        acc.create(acfg)
        self.live_accounts.add(acc.getId())

    def drop_account(self, acc: pj.Account) -> None:
        self.keep(acc)
        if acc.getId() in self.live_accounts:
            self.live_accounts.discard(acc.getId())
            acc.shutdown()

    def active_calls(self) -> int:
        return sum(1 for c in self.graveyard if isinstance(c, SimCall) and not c.ended and c.getId() >= 0)

    def leg_released(self) -> None:
        self._released.append(time.monotonic())

    def socket_room(self) -> bool:
        """Whether a new call leg (2 sockets) fits in the ioqueue, keeping room for the incoming calls
        this process may still receive and for the sockets of recently ended calls that still linger."""
        horizon = time.monotonic() - SOCKET_LINGER_S
        self._released = [t for t in self._released if t > horizon]
        worst = MAX_TRANSPORTS + 2 * MAX_CALLS + 2 * len(self._released) + 2
        return worst <= IOQUEUE_HANDLES - 4
