"""Read what is live on the switch (channels, bridges, seat registrations) for reconciliation."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from padang112.domain.commands import LiveChannel
from padang112.domain.naming import parse_handoff_leg, parse_leg
from padang112.telephony.ari import AriClient
from padang112.telephony.stasis import sanitize_text

# Where a caller is while Asterisk's own fallback queue has it (dialplans/extensions.conf.j2).
FALLBACK_CONTEXTS = frozenset({"emergency-fallback", "p112-fallback-enter"})


@dataclass(frozen=True)
class PlacedChannel:
    """A channel of a call the controller placed outside the room (duty alert, call-back): for its line."""

    id: str
    up: bool
    bridge: str | None


@dataclass
class Snapshot:
    channels: tuple[LiveChannel, ...] = ()
    registered: tuple[str, ...] = ()
    devices_in_use: dict[str, bool] = field(default_factory=dict)
    placed: tuple[PlacedChannel, ...] = ()  # every channel that is neither a room call's nor a seat leg
    bridges: tuple[str, ...] = ()
    switch_started: datetime | None = None  # Asterisk's start: a fallback note older than that ended with a crash


def placed_of(snapshots: Iterable[Snapshot]) -> Snapshot:
    """What the lines reconcile with: the placed channels and the bridges of several nodes' snapshots."""
    taken = list(snapshots)
    return Snapshot(
        placed=tuple(ch for snap in taken for ch in snap.placed),
        bridges=tuple(b for snap in taken for b in snap.bridges),
    )


def _inbound_args(channel: dict[str, Any], app: str) -> list[str] | None:
    dialplan = channel.get("dialplan") or {}
    if dialplan.get("app_name") != "Stasis":
        return None
    args = str(dialplan.get("app_data", "")).split(",")
    if len(args) < 2 or args[0] != app or args[1] != "inbound":
        return None
    return args[2:]


async def live_snapshot(ari: AriClient, app: str, seats: set[str]) -> Snapshot:
    channels: list[dict[str, Any]] = await ari.get("/channels")
    bridges: list[dict[str, Any]] = await ari.get("/bridges")
    bridge_of = {ch: str(bridge["id"]) for bridge in bridges for ch in bridge.get("channels", [])}
    bridged = set(bridge_of)
    live: list[LiveChannel] = []
    placed: list[PlacedChannel] = []
    for ch in channels:
        cid = ch["id"]
        leg = parse_leg(cid)
        if leg is not None:
            live.append(
                LiveChannel(cid, leg[0], "seat", seat=leg[1], answered=ch.get("state") == "Up", bridged=cid in bridged)
            )
            continue
        handoff = parse_handoff_leg(cid)
        if handoff is not None:  # an agency duty phone conferenced into a call (warm hand-off)
            live.append(
                LiveChannel(
                    cid,
                    handoff[0],
                    "agency",
                    agency=handoff[1],
                    answered=ch.get("state") == "Up",
                    bridged=cid in bridged,
                )
            )
            continue
        args = _inbound_args(ch, app)
        if args is None:
            placed.append(PlacedChannel(cid, ch.get("state") == "Up", bridge_of.get(cid)))
            if (ch.get("dialplan") or {}).get("context") in FALLBACK_CONTEXTS:  # moved there by its watchdog
                live.append(LiveChannel(cid, cid, "fallback", answered=ch.get("state") == "Up"))
            continue
        caller = ch.get("caller") or {}
        live.append(
            LiveChannel(
                cid,
                cid,
                "inbound",
                answered=ch.get("state") == "Up",
                bridged=cid in bridged,
                caller_number=sanitize_text(caller.get("number")),
                caller_name=sanitize_text(caller.get("name")),
                carrier=args[0] if args else "",
                dialed=args[1] if len(args) > 1 else "",
                created=str(ch.get("creationtime", "")),
            )
        )
    endpoints: list[dict[str, Any]] = await ari.get("/endpoints/PJSIP")
    registered = tuple(
        sorted(e["resource"] for e in endpoints if e.get("resource") in seats and e.get("state") == "online")
    )
    # A seat channel that is not one of our legs was put through by the fallback queue.
    devices = dict.fromkeys(seats, False)
    for ch in channels:
        name = str(ch.get("name", ""))
        if name.startswith("PJSIP/") and parse_leg(ch["id"]) is None:
            endpoint = name[6:].rsplit("-", 1)[0]
            if endpoint in devices:
                devices[endpoint] = True
    info: dict[str, Any] = await ari.get("/asterisk/info", only="status")
    started = str((info.get("status") or {}).get("startup_time") or "")
    return Snapshot(
        tuple(live),
        registered,
        devices,
        tuple(placed),
        tuple(str(b["id"]) for b in bridges),
        datetime.fromisoformat(started) if started else None,
    )
