"""Helpers shared by the demo and the test fixtures: addressing the switch, and seats spread over processes."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from padang112 import config
from padang112.edge import topology
from padang112.simulator.client import Simulator, SimulatorError

# A process holds 8 accounts but only 4 concurrent calls (this wheel's PJSUA_MAX_CALLS), and pjsua keeps an
# ended call's slot for a moment after reporting it gone. With 4 seats a process, a seat rung again right after
# its call ended in a burst found all 4 slots taken and pjsua itself answered 486 ("too many calls") although
# the phone was free: 2 seats a process leave each seat a spare slot.
SEATS_PER_PROCESS = 2

SimulatorFactory = Callable[[str], Awaitable[Simulator]]
CALLS_PER_PROCESS = 4  # this wheel's PJSUA_MAX_CALLS: concurrent calls of one simulator process
USER_RE = re.compile(r"sips?:([^@;>]+)@")  # the user part (caller number) of a SIP URI, e.g. a seat's remote URI


def registrar(settings: config.Settings, phone: str | None = None) -> str:
    """Where ``phone`` registers: the SIP edge for the phones it serves (``[edge] phones``), else the switch."""
    if phone is not None and phone in topology.phones(settings):
        return edge_address(settings)
    return f"{settings.asterisk.bind_address}:{settings.asterisk.sip_port}"


def edge_address(settings: config.Settings) -> str:
    return f"{settings.edge.address}:{settings.edge.port}"


def target_uri(settings: config.Settings, number: str = "112", via_edge: bool = False) -> str:
    """Where a carrier trunk sends an emergency call: the switch's own SIP address, or the SIP edge's (always with
    several nodes: no one switch is the room's)."""
    edge = via_edge or (topology.enabled(settings) and bool(settings.nodes))
    return f"sip:{number}@{edge_address(settings) if edge else registrar(settings)}"


def carrier_address(settings: config.Settings, name: str) -> str:
    for carrier in settings.carriers:
        if carrier.name == name:
            return carrier.address
    raise KeyError(f"no carrier {name!r} in settings (have {[c.name for c in settings.carriers]})")


def chunks(items: list[str], size: int = SEATS_PER_PROCESS) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


async def start_seats(
    settings: config.Settings, seats: list[str], factory: SimulatorFactory, **opts: Any
) -> dict[str, Simulator]:
    """Register ``seats`` (call-taker seats or agency duty phones) with the switch, at most 2 per simulator
    process; returns seat -> its process.

    ``opts`` go to ``Simulator.add_seat`` (answer_after, tone_hz, record_dir, hangup_after). Registrations in
    one process are sent concurrently; the first failure raises ``SimulatorError``.
    """
    secrets = settings.secrets()
    passwords = {**secrets.seat_passwords, **secrets.duty_passwords}
    missing = [s for s in seats if s not in passwords]
    if missing:
        raise KeyError(f"no password for {missing}: not among settings.seats or settings.duty_phones")
    out: dict[str, Simulator] = {}
    for i, group in enumerate(chunks(seats)):
        sim = await factory(f"seats{i + 1}")
        await asyncio.gather(
            *(
                sim.add_seat(seat, password=passwords[seat], registrar=registrar(settings, seat), **opts)
                for seat in group
            )
        )
        out.update(dict.fromkeys(group, sim))
    return out


async def carrier_lines(settings: config.Settings, sim: Simulator) -> list[tuple[str, str]]:
    """A phone behind each carrier's trunk address (port 5060), where a call-back to "the caller" arrives;
    returns (carrier, error) for each address another program already holds."""
    failed = []
    for carrier in settings.carriers:
        try:
            await sim.add_seat(
                f"line-{carrier.name}",
                listen=f"{carrier.address}:5060",
                answer_after=[2.0, 5.0],
                hangup_after=[8.0, 15.0],
                tone_hz=440,
            )
        except SimulatorError as exc:
            failed.append((carrier.name, str(exc)))
    return failed


class CitizenLines:
    """Simulator processes for citizens' calls: the first with a free line, a new one while fewer than ``limit``."""

    def __init__(self, factory: SimulatorFactory, limit: int) -> None:
        self.factory = factory
        self.limit = limit
        self.sims: list[Simulator] = []
        self.load: Counter[Simulator] = Counter()

    async def take(self) -> Simulator | None:
        """A process for one more call (counted until :meth:`release`), or None when all lines are busy."""
        sim = next((s for s in self.sims if self.load[s] < CALLS_PER_PROCESS), None)
        if sim is None and len(self.sims) < self.limit:
            sim = await self.factory(f"citizens{len(self.sims) + 1}")
            self.sims.append(sim)
        if sim is not None:
            self.load[sim] += 1
        return sim

    def release(self, sim: Simulator) -> None:
        self.load[sim] -= 1
