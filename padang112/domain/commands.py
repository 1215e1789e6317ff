"""Inputs to the room: what happened on the switch, what a person asked for, or a timer that fired.

The telephony adapter translates ARI/AMI events into these; the room never sees Asterisk vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CallArrived:
    call_id: str
    channel: str
    caller_number: str
    caller_name: str
    carrier: str
    dialed: str
    flagged: bool = False  # the number's prank/silent history is over the threshold (see domain/prank.py)
    node: str = ""  # the Asterisk node it arrived on


@dataclass(frozen=True)
class CallerHungUp:
    call_id: str


@dataclass(frozen=True)
class CallerLeftApp:
    """The caller's channel left our application with no hang-up announced: the dialplan moved it, or the
    caller hung up in the instant ``Stasis()`` started, before Asterisk told this application of his channel
    (then ``StasisEnd`` is all that comes). Which one is asked of the switch (:class:`~effects.FindCaller`)."""

    call_id: str


@dataclass(frozen=True)
class CallerMoved:
    """The caller left our application alive: the dialplan's watchdog moved it to the fallback queue."""

    call_id: str


@dataclass(frozen=True)
class PromptsFinished:
    call_id: str


@dataclass(frozen=True)
class SeatLegRinging:
    """The seat's phone says it is ringing (its 180): from now on the call taker has the full ring to answer."""

    call_id: str
    seat: str
    leg: str


@dataclass(frozen=True)
class SeatLegAnswered:
    call_id: str
    seat: str
    leg: str


@dataclass(frozen=True)
class SeatLegFailed:
    """The seat leg could not be placed, was rejected, or vanished before it was connected."""

    call_id: str
    seat: str
    leg: str
    reason: str
    seat_fault: bool = True  # False: the switch or the link failed (Asterisk down, ARI unreachable), not the phone
    cause: int | None = None  # Q.850 cause, when the switch gave one


@dataclass(frozen=True)
class SeatRested:
    """A seat whose phone refused a call has rested (``Policy.seat_retry_s``): it may be offered calls again."""

    seat: str


@dataclass(frozen=True)
class SeatLegHungUp:
    """The seat leg ended; ``cause`` is the switch's Q.850 hang-up cause (17 busy, 21 rejected, 16 normal...)."""

    call_id: str
    seat: str
    leg: str
    cause: int | None = None
    answered: bool = False  # the phone had answered: it hung up before the controller could bridge it


@dataclass(frozen=True)
class RingTimeout:
    call_id: str
    seat: str
    leg: str
    seat_fault: bool = True  # False: the timer fired late (the controller was stopped), the phone is not to blame


@dataclass(frozen=True)
class AnnouncePosition:
    call_id: str


@dataclass(frozen=True)
class WrapUpDone:
    seat: str


@dataclass(frozen=True)
class SeatRegistration:
    """The seat's phone is online (some node reaches it) or not; ``unreachable``: the nodes that do not reach it
    (several nodes: it takes no call that arrived on one of them)."""

    seat: str
    registered: bool
    unreachable: frozenset[str] = frozenset()


@dataclass(frozen=True)
class SeatDeviceInUse:
    seat: str
    in_use: bool


@dataclass(frozen=True)
class SeatReady:
    seat: str


@dataclass(frozen=True)
class SeatPause:
    seat: str
    reason: str


@dataclass(frozen=True)
class SeatReserve:
    """Pause a seat for a call the controller places from it (a call-back): only a ready seat, refused otherwise."""

    seat: str
    reason: str


@dataclass(frozen=True)
class SeatSignIn:
    """A call taker takes a seat in the console; the seat is ready once its softphone is registered."""

    seat: str
    user: str


@dataclass(frozen=True)
class SeatSignOut:
    seat: str


@dataclass(frozen=True)
class NodeLost:
    """The controller lost an Asterisk node (its ARI link dropped: crashed, killed, cut off). Its calls are gone
    with it: waiting callers are abandoned and talking ones ended (``NODE_LOST``), so the call-back list has them
    all; their seats are free for the other nodes' callers. Calls on other nodes are untouched. ``stored``: the
    calls the database holds open on that node (id -> state), closed too when the room does not hold them (a
    controller that started while the node was already dead)."""

    node: str
    stored: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class HandOverWaiting:
    """The controller is shutting down: give every waiting caller to the fallback queue."""


@dataclass(frozen=True)
class LiveChannel:
    """One of our channels found on the switch when (re)connecting."""

    channel: str
    call_id: str
    role: str  # "inbound", "seat", "agency" (a duty phone in a warm hand-off) or "fallback" (in the fallback queue)
    seat: str | None = None
    agency: str | None = None
    answered: bool = False
    bridged: bool = False
    caller_number: str = ""
    caller_name: str = ""
    carrier: str = ""
    dialed: str = ""
    created: str = ""  # ARI creationtime (ISO 8601, one time zone): arrival order of the callers found


@dataclass(frozen=True)
class Reconcile:
    """Rebuild the room from what the switch says is live, never assuming an empty switch.

    ``open_calls`` maps the calls the database still holds as not ended to their state; ``registered`` the seats whose
    softphones are registered now; ``paused`` seats that were paused (with reason) before the restart; ``in_use`` seats
    whose phone is on a call the controller did not place (the fallback queue's); ``in_fallback`` callers that went
    through the fallback queue meanwhile (its notes in the switch's database), even if they have hung up since.
    ``open_recordings`` maps open calls to the names of their recordings the database holds as not finished,
    oldest first: the reconcile finishes every one of them whose segment is over.
    """

    channels: tuple[LiveChannel, ...]
    open_calls: dict[str, str] = field(default_factory=dict)
    registered: tuple[str, ...] = ()
    paused: dict[str, str] = field(default_factory=dict)
    in_use: tuple[str, ...] = ()
    in_fallback: frozenset[str] = frozenset()  # call ids the fallback dialplan noted (p112fb): handed over, not lost
    open_recordings: dict[str, tuple[str, ...]] = field(default_factory=dict)
    node: str | None = None  # the node the snapshot is of: only its calls are rebuilt (None: the whole room)
    unreachable: dict[str, frozenset[str]] = field(default_factory=dict)  # seat -> nodes that do not reach it


@dataclass(frozen=True)
class ConferenceAgency:
    """The call taker brings an agency's duty phone into the connected call (warm hand-off, step 1)."""

    call_id: str
    agency: str
    by: str


@dataclass(frozen=True)
class AgencyLegAnswered:
    call_id: str
    agency: str
    leg: str


@dataclass(frozen=True)
class AgencyLegGone:
    """The duty phone's leg could not be placed, was not answered, or hung up."""

    call_id: str
    leg: str
    reason: str


@dataclass(frozen=True)
class SeatLeaves:
    """The call taker leaves a call the agency has joined (warm hand-off, step 2)."""

    call_id: str
    by: str


Command = (
    CallArrived
    | CallerHungUp
    | CallerLeftApp
    | CallerMoved
    | PromptsFinished
    | SeatLegRinging
    | SeatLegAnswered
    | SeatLegFailed
    | SeatLegHungUp
    | SeatRested
    | RingTimeout
    | AnnouncePosition
    | WrapUpDone
    | SeatRegistration
    | SeatDeviceInUse
    | SeatReady
    | SeatPause
    | SeatReserve
    | SeatSignIn
    | SeatSignOut
    | HandOverWaiting
    | NodeLost
    | Reconcile
    | ConferenceAgency
    | AgencyLegAnswered
    | AgencyLegGone
    | SeatLeaves
)
