"""One call-back attempt as a small state machine: seat up -> dial the caller -> caller up -> bridge and record.

The call taker's phone rings first (leg ``cb-<item>-seat-<token>``); once they answer they hear ringing while the
caller is dialled (``cb-<item>-caller-<token>``); once the caller answers both legs are bridged and recorded. Either
leg ending ends the attempt once, with an outcome for the list. Plain values, no I/O: the dialer
(``telephony/callback_dialer.py``) feeds it the switch's facts (:meth:`Attempt.on`, ``domain/legs.py``) and carries
out the actions it returns.

After a controller restart the attempt is rebuilt from the switch (:func:`reconcile`): a call-back whose two legs
still talk in their bridge is adopted; anything less is closed cleanly (legs hung up, bridge destroyed, the seat
given back), so no seat stays paused ``callback`` and no bridge is left unmanaged.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from padang112.domain.callbacks import outcome_of_cause
from padang112.domain.legs import LegFact, LegGone, LegUp
from padang112.domain.line_ids import on_node, split

CHANNEL_PREFIX = "cb-"
BRIDGE_PREFIX = f"bridge-{CHANNEL_PREFIX}"
PAUSE_REASON = "callback"  # the seat's pause reason while it calls back


class Step(enum.Enum):
    SEAT_RINGING = "seat_ringing"
    DIALING_CALLER = "dialing_caller"
    CONNECTED = "connected"
    ENDED = "ended"


@dataclass(frozen=True)
class Legs:
    """The identifiers of one attempt, all derived from the item, a token and the node both legs are placed on (""
    on the single box; ``domain/line_ids.py``), so a restart can find them and each request reaches that node."""

    item: int
    token: str
    node: str = ""

    @property
    def seat_leg(self) -> str:
        return on_node(self.node, f"{CHANNEL_PREFIX}{self.item}-seat-{self.token}")

    @property
    def caller_leg(self) -> str:
        return on_node(self.node, f"{CHANNEL_PREFIX}{self.item}-caller-{self.token}")

    @property
    def bridge(self) -> str:
        return on_node(self.node, f"{BRIDGE_PREFIX}{self.item}-{self.token}")

    def recording(self, attempt: int) -> str:
        return f"callback-{self.item}-{attempt}"


def parse_leg(channel_id: str) -> tuple[Legs, str] | None:
    """``[<node>-]cb-<item>-seat|caller-<token>`` -> (its attempt's legs, "seat" or "caller"); None for other
    channels."""
    found = split(channel_id, CHANNEL_PREFIX)
    if found is None:
        return None
    node, local = found
    parts = local[len(CHANNEL_PREFIX) :].split("-")
    if len(parts) != 3 or parts[1] not in ("seat", "caller") or not parts[0].isdigit() or not parts[2]:
        return None
    return Legs(int(parts[0]), parts[2], node), parts[1]


# ---- what the dialer is asked to do ------------------------------------------------------------------------
@dataclass(frozen=True)
class RingBack:
    """The call taker hears ringing on their leg while the caller is dialled."""

    channel: str


@dataclass(frozen=True)
class DialCaller:
    legs: Legs


@dataclass(frozen=True)
class BridgeAndRecord:
    """Stop the ringing, bridge the two legs, record the bridge; the item becomes ``connected``."""

    legs: Legs


@dataclass(frozen=True)
class Close:
    """Hang up what is left, destroy the bridge, give the seat back, store the outcome."""

    legs: Legs
    seat: str
    outcome: str


Action = RingBack | DialCaller | BridgeAndRecord | Close


@dataclass
class Attempt:
    legs: Legs
    seat: str
    step: Step = Step.SEAT_RINGING

    def seat_answered(self) -> list[Action]:
        if self.step is not Step.SEAT_RINGING:
            return []
        self.step = Step.DIALING_CALLER
        return [RingBack(self.legs.seat_leg), DialCaller(self.legs)]

    def caller_answered(self) -> list[Action]:
        if self.step is not Step.DIALING_CALLER:
            return []
        self.step = Step.CONNECTED
        return [BridgeAndRecord(self.legs)]

    def leg_gone(self, role: str, cause: int | None = None) -> list[Action]:
        if self.step is Step.CONNECTED:
            return self.close("reached")
        if role == "seat":
            return self.close("seat_no_answer" if self.step is Step.SEAT_RINGING else "no_answer")
        return self.close(outcome_of_cause(cause))

    def on(self, fact: LegFact) -> list[Action]:
        """What the switch reported about one of the attempt's legs."""
        parsed = parse_leg(fact.channel)
        if parsed is None:
            return []
        role = parsed[1]
        if isinstance(fact, LegUp):
            return self.seat_answered() if role == "seat" else self.caller_answered()
        if isinstance(fact, LegGone):
            return self.leg_gone(role, fact.cause)
        return []

    def seat_not_rung(self) -> list[Action]:
        return self.close("seat_no_answer")

    def caller_not_dialled(self) -> list[Action]:
        return self.close("failed")

    def close(self, outcome: str) -> list[Action]:
        if self.step is Step.ENDED:
            return []
        self.step = Step.ENDED
        return [Close(self.legs, self.seat, outcome)]


# ---- after a restart --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LiveLeg:
    """A ``cb-`` channel found on the switch: up (answered) or not, and the bridge it is in, if any."""

    channel: str
    up: bool
    bridge: str | None


@dataclass
class Resync:
    adopted: list[Attempt] = field(default_factory=list)
    hang_up: list[str] = field(default_factory=list)  # channels
    destroy: list[str] = field(default_factory=list)  # bridges
    ended: dict[int, str] = field(default_factory=dict)  # item id -> outcome of its interrupted attempt
    seats_back: list[str] = field(default_factory=list)


def reconcile(
    live: Iterable[LiveLeg], bridges: Iterable[str], taken: dict[int, str], paused_for_callback: Iterable[str]
) -> Resync:
    """``live``: the ``cb-`` channels on the switch (on every node that answers); ``bridges``: the ids of its
    bridges; ``taken``: item id -> seat of the items stored as being called back (dialing or connected);
    ``paused_for_callback``: seats the room has paused with reason ``callback``."""
    by_attempt: dict[Legs, dict[str, LiveLeg]] = {}
    for leg in live:
        parsed = parse_leg(leg.channel)
        if parsed is not None:
            by_attempt.setdefault(parsed[0], {})[parsed[1]] = leg
    out = Resync()
    for legs, found in by_attempt.items():
        seat_leg, caller_leg = found.get("seat"), found.get("caller")
        talking = (
            seat_leg is not None
            and caller_leg is not None
            and seat_leg.up
            and caller_leg.up
            and seat_leg.bridge == caller_leg.bridge == legs.bridge
        )
        if talking and legs.item in taken:
            out.adopted.append(Attempt(legs, taken[legs.item], Step.CONNECTED))
            continue
        out.hang_up += [leg.channel for leg in found.values()]
        out.destroy.append(legs.bridge)
    kept = {a.legs.bridge for a in out.adopted}
    out.destroy += sorted(
        b for b in set(bridges) if split(b, BRIDGE_PREFIX) is not None and b not in kept and b not in out.destroy
    )
    adopted_items = {a.legs.item for a in out.adopted}
    out.ended = {item: "failed" for item in taken if item not in adopted_items}
    busy_seats = {a.seat for a in out.adopted}
    out.seats_back = sorted(seat for seat in set(paused_for_callback) if seat not in busy_seats)
    return out
