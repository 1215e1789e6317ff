"""Call-backs over ARI: the call taker's phone first, then the caller over the carrier trunk they called from.

The seat is reserved (paused ``callback``, by the room) for the attempt, so the room offers it no 112 call meanwhile.
Each attempt is a :class:`padang112.domain.callback_attempt.Attempt` (pure): this adapter feeds it what the switch
reports about its ``cb-`` channels (routed here by prefix and translated by ``telephony/lines.py``) and carries out
what it returns through the effect runner, which writes the ARI requests (the bridge-and-record sequence is the
room's own ``Bridge`` and ``StartRecording``). The caller's number is dialled only through ``DialPolicy`` (it must
have called in over that carrier). After a (re)connection :meth:`CallbackDialer.reconcile` adopts an attempt still
talking on the switch and closes anything less. The list itself is fed from the room's events: an abandoned call
makes an item, a number calling again is matched to its open item. Calls the dialplan's fallback queue handled
while the controller was away reach the list too, as their imported events are published.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from padang112.callbacks.store import Callback, CallbackError, CallbackStore
from padang112.domain import callback_attempt as ca
from padang112.domain import commands as c
from padang112.domain import effects as fx
from padang112.domain import numbering
from padang112.domain.callback_attempt import CHANNEL_PREFIX, PAUSE_REASON
from padang112.domain.callbacks import DAILY_CAP_WINDOW, CallbackState, callable_number, lost_caller
from padang112.domain.events import CallTransition, DomainEvent
from padang112.domain.legs import LegFact, LegGone
from padang112.domain.line_ids import split
from padang112.storage.outage import log_failure
from padang112.storage.repository import Repository
from padang112.telephony.dial_policy import DialPolicy, DialRefused
from padang112.telephony.executor import EffectRunner
from padang112.telephony.snapshot import Snapshot
from padang112.wib import iso_exact as iso_wib

log = logging.getLogger(__name__)

__all__ = ["CHANNEL_PREFIX", "CallbackDialer", "callback_view"]
CALLER_ID = '"112 Kota Padang" <112>'
GONE_KEPT = 256  # legs reported gone while no attempt of ours held them: the newest, for the next reconcile
SEAT_BACK_WITHIN_S = 3.0  # an ended attempt's seat waits at most this long for its outcome to be stored


class Seats(Protocol):
    """What the dialer needs of the controller: its inbox, to reserve a seat (answered) and give it back."""

    repo: Repository

    def ask(self, request: c.Command) -> Awaitable[str | None]: ...
    def post(self, command: c.Command) -> None: ...


class CallbackDialer:
    prefix = CHANNEL_PREFIX

    def __init__(
        self,
        runner: EffectRunner,
        policy: DialPolicy,
        store: CallbackStore,
        desk: Seats,
        publish: Callable[[dict[str, Any]], None],
        deadline_s: float,
        ring_s: float,
        recordings_dir: str,
        where: Callable[[], str] = lambda: "",
    ) -> None:
        """``where()``: the node an attempt's two legs are placed on, named in their ids (``Controller.line_node``;
        "" on the single box)."""
        self.runner = runner
        self.policy = policy
        self.store = store
        self.desk = desk
        self.repo = desk.repo
        self.publish = publish
        self.deadline_s = deadline_s
        self.ring_s = ring_s
        self.recordings_dir = recordings_dir
        self.where = where
        self._token = secrets.token_hex(3)
        self._n = itertools.count(1)
        self._attempts: dict[str, ca.Attempt] = {}  # by both leg ids
        self._items: dict[int, Callback] = {}  # the item of each live attempt
        self._numbers: dict[str, tuple[str, str]] = {}  # call id -> (number, carrier) while the call lives
        self._gone: deque[str] = deque(maxlen=GONE_KEPT)  # see _on
        self._queue: asyncio.Queue[Callable[[], Awaitable[None]]] = asyncio.Queue()

    # ---- inputs ------------------------------------------------------------------------------------------
    def on_domain_event(self, event: DomainEvent) -> None:
        """Controller subscriber (synchronous): remember callers, queue list updates."""
        if not isinstance(event, CallTransition):
            return
        if event.to_state == "received":
            number, carrier = str(event.data.get("caller_number") or ""), str(event.data.get("carrier") or "")
            self._numbers[event.call_id] = (number, carrier)
            if callable_number(number):
                self._queue.put_nowait(lambda: self._arrived(event.call_id, number))
        elif event.to_state == "connected" and event.call_id in self._numbers:
            self._queue.put_nowait(lambda: self._answered(event.call_id))
        elif event.to_state in ("ended", "abandoned", "handed_over"):
            number, carrier = self._numbers.pop(event.call_id, ("", ""))
            if lost_caller(event) and not number:  # e.g. handed over then abandoned in the fallback; adopted
                self._queue.put_nowait(lambda: self._abandoned_stored(event.call_id))
            elif lost_caller(event) and callable_number(number) and carrier:
                self._queue.put_nowait(lambda: self._abandoned(event.call_id, number, carrier))

    def take(self, fact: LegFact) -> None:
        self._queue.put_nowait(lambda: self._on(fact))

    def reconcile(self, snapshot: Snapshot, paused: dict[str, str]) -> None:
        """After a (re)connection: adopt what still talks on the switch, close the rest, give seats back.
        ``paused``: seat -> pause reason, as stored (what the room's own reconcile restores)."""
        self._queue.put_nowait(lambda: self._reconcile(snapshot, paused))

    def tick(self, at: datetime) -> None:
        """The controller's tick: nothing of a call-back is timed here (an attempt's ring time is the switch's
        originate timeout, an item's deadline is judged when the list is read)."""

    async def run(self) -> None:
        while True:
            job = await self._queue.get()
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # one failure must not stop the list
                log_failure(log, "callback handling failed", exc)

    async def place(self, callback_id: int, user: str, seat: str) -> Callback:
        """A call taker takes an item: pause their seat, ring their phone. Raises ``CallbackError``."""
        # decided by the room in its turn: a seat offered a 112 call first is not ready, and once paused none is
        if await self.desk.ask(c.SeatReserve(seat, PAUSE_REASON)) is not None:
            raise CallbackError("seat_not_ready", f"seat {seat} must be ready (Siap) to call back")
        try:
            item = await self.store.get(callback_id)
            if item is None:
                raise CallbackError("no_callback", f"no callback {callback_id}")
            try:  # checked before anything rings: a number that may not be dialled is refused here
                attempts = await self.store.attempts_within(item.number, DAILY_CAP_WINDOW)
                await self.policy.callback(item.number, item.carrier, attempts)
            except DialRefused as exc:
                log.warning("callback %s refused by the dial policy: %s (seat %s)", item.id, exc.code, seat)
                self._changed(await self.store.refused(item.id, user, seat, exc.code))
                raise CallbackError(exc.code, str(exc)) from None
            item = await self.store.take(callback_id, user, seat)
        except Exception:
            self.desk.post(c.SeatReady(seat))
            raise
        attempt = ca.Attempt(ca.Legs(item.id, f"{self._token}{next(self._n)}", self.where()), seat)
        self._track(attempt, item)
        self._changed(item)
        try:
            await self.runner.perform(
                fx.Originate(
                    attempt.legs.bridge,
                    attempt.legs.seat_leg,
                    f"PJSIP/{seat}",
                    f"callback,seat,{item.id}",
                    f'"Panggilan balik" <{item.number}>',
                    self.ring_s,
                )
            )
        except Exception as exc:
            log.warning("callback %s: seat %s could not be rung: %s", item.id, seat, exc)
            await self._carry_out(attempt.seat_not_rung())
        return item

    # ---- list updates ------------------------------------------------------------------------------------
    async def _abandoned(self, call_id: str, number: str, carrier: str) -> None:
        item = await self.store.abandoned(call_id, number, carrier, self.deadline_s)
        log.info(
            "callback %s: %s (%s) abandoned %d call(s)",
            item.id,
            number,
            carrier,
            item.abandoned_calls,
            extra={"call_id": call_id},
        )
        self._changed(item)

    async def _abandoned_stored(self, call_id: str) -> None:
        call = await self.repo.get_call(call_id)
        if call is not None and callable_number(call.caller_number) and call.carrier:
            await self._abandoned(call_id, str(call.caller_number), call.carrier)

    async def _arrived(self, call_id: str, number: str) -> None:
        item = await self.store.arrived(call_id, number)
        if item is not None:
            log.info("callback %s: the number is calling again", item.id, extra={"call_id": call_id})
            self._changed(item)

    async def _answered(self, call_id: str) -> None:
        item = await self.store.answered(call_id)
        if item is not None:
            log.info("callback %s: matched, the caller reached a seat", item.id, extra={"call_id": call_id})
            self._changed(item)

    def _changed(self, item: Callback) -> None:
        try:
            self.publish({"type": "callback", "callback": callback_view(item)})
        except Exception:  # stored; a console missing it reloads the list on its next message
            log.exception("publishing callback %s failed", item.id)

    # ---- the two legs ------------------------------------------------------------------------------------
    async def _on(self, fact: LegFact) -> None:
        attempt = self._attempts.get(fact.channel)
        if attempt is not None:
            await self._carry_out(attempt.on(fact))
        elif isinstance(fact, LegGone):
            # After a (re)connection a leg can end between the switch's snapshot and its reconcile here: its end
            # comes first, for no attempt yet. Remembered, so the reconcile does not adopt a call already over.
            self._gone.append(fact.channel)

    async def _carry_out(self, actions: list[ca.Action]) -> None:
        for action in actions:
            if isinstance(action, ca.RingBack):  # the call taker hears ringing while we dial
                await self.runner.perform_quietly(fx.Ringing(action.channel, action.channel, on=True))
            elif isinstance(action, ca.DialCaller):
                await self._dial_caller(action.legs)
            elif isinstance(action, ca.BridgeAndRecord):
                await self._bridge_and_record(action.legs)
            else:
                await self._close(action)

    async def _dial_caller(self, legs: ca.Legs) -> None:
        item = self._items[legs.item]
        try:
            endpoint = await self.policy.callback(item.number, item.carrier)
            await self.runner.perform(
                fx.Originate(
                    legs.bridge, legs.caller_leg, endpoint, f"callback,caller,{item.id}", CALLER_ID, self.ring_s
                )
            )
        except Exception as exc:
            log.warning("callback %s: the number could not be dialled: %s", item.id, exc)
            await self._carry_out(self._attempts[legs.seat_leg].caller_not_dialled())

    async def _bridge_and_record(self, legs: ca.Legs) -> None:
        item = self._items[legs.item]
        recording = legs.recording(item.attempts)
        await self.runner.perform_quietly(fx.Ringing(legs.bridge, legs.seat_leg, on=False))
        await self.runner.perform(fx.Bridge(legs.bridge, legs.bridge, (legs.seat_leg, legs.caller_leg)))
        await self.runner.perform(fx.StartRecording(legs.bridge, legs.bridge, recording))
        path = str(Path(self.recordings_dir) / f"{recording}.wav")
        self._changed(await self.store.connected(item.id, path))

    async def _close(self, close: ca.Close) -> None:
        """End the attempt once: hang up what is left, store the outcome, then give the seat back.

        In that order: a seat shown free (``Siap``) never has its call-back still ``connected`` on the list (the
        seat's transition was stored first and read before the item's outcome, 10-60 ms apart under load). A
        database that does not take the outcome within ``SEAT_BACK_WITHIN_S`` does not keep the call taker out of
        the queue longer: the seat is given back then and the outcome stored when the database takes it.
        """
        legs = close.legs
        for leg in (legs.seat_leg, legs.caller_leg):
            self._attempts.pop(leg, None)
            await self.runner.perform_quietly(fx.Hangup(legs.bridge, leg))  # 404 (already gone) is fine
        await self.runner.perform_quietly(fx.DestroyBridge(legs.bridge, legs.bridge))
        self._items.pop(legs.item, None)
        log.info("callback %s attempt ended: %s", legs.item, close.outcome)
        stored = asyncio.ensure_future(self.store.attempt_ended(legs.item, close.outcome))
        try:
            if not (await asyncio.wait({stored}, timeout=SEAT_BACK_WITHIN_S))[0]:
                log.warning("callback %s: outcome not stored yet, seat %s given back first", legs.item, close.seat)
        finally:  # stored, failed, late or cancelled: the seat is given back
            self.desk.post(c.SeatReady(close.seat))
        self._changed(await stored)

    def _track(self, attempt: ca.Attempt, item: Callback) -> None:
        self._attempts[attempt.legs.seat_leg] = self._attempts[attempt.legs.caller_leg] = attempt
        self._items[item.id] = item

    # ---- after a (re)connection ---------------------------------------------------------------------------
    async def _reconcile(self, snapshot: Snapshot, paused: dict[str, str]) -> None:
        try:
            await self._resync(snapshot, paused)
        except Exception:  # the room kept these seats paused for this reconcile: none stays out of the queue
            for seat in self._paused_for_callback(paused):
                self.desk.post(c.SeatReady(seat))
            raise

    def _paused_for_callback(self, paused: dict[str, str]) -> list[str]:
        """Seats stored as paused ``callback`` that no attempt of this process holds."""
        busy = {a.seat for a in self._attempts.values()}
        return [seat for seat, reason in paused.items() if reason == PAUSE_REASON and seat not in busy]

    async def _resync(self, snapshot: Snapshot, paused: dict[str, str]) -> None:
        live_ids = {ch.id for ch in snapshot.placed}
        known = {id(a): a for a in self._attempts.values()}.values()  # a reconnection: attempts this process runs
        for attempt in list(known):
            if attempt.legs.seat_leg not in live_ids:  # ended while we were not listening
                await self._carry_out(attempt.leg_gone("seat"))
        mine = {a.legs.item for a in self._attempts.values()}
        taken = {
            i.id: i
            for i in await self.store.active()
            if i.state is not CallbackState.OPEN and i.seat and i.id not in mine
        }
        live = [
            ca.LiveLeg(ch.id, ch.up, ch.bridge)
            for ch in snapshot.placed
            if split(ch.id, CHANNEL_PREFIX) is not None and ch.id not in self._attempts and ch.id not in self._gone
        ]
        seats = self._paused_for_callback(paused)
        kept = {a.legs.bridge for a in self._attempts.values()}
        bridges = [b for b in snapshot.bridges if b not in kept]
        plan = ca.reconcile(live, bridges, {i: str(item.seat) for i, item in taken.items()}, seats)
        for attempt in plan.adopted:
            self._track(attempt, taken[attempt.legs.item])
            log.info("callback %s: still talking on the switch, adopted", attempt.legs.item)  # its seat stays paused
        for channel in plan.hang_up:
            await self.runner.perform_quietly(fx.Hangup(channel, channel, "reconciled"))
        for bridge in plan.destroy:
            await self.runner.perform_quietly(fx.DestroyBridge(bridge, bridge))
        for item_id, outcome in plan.ended.items():
            log.info("callback %s: its attempt was cut off by a restart", item_id)
            self._changed(await self.store.attempt_ended(item_id, outcome))
        for seat in plan.seats_back:
            self.desk.post(c.SeatReady(seat))  # after the room's own Reconcile, already in the inbox


def callback_view(item: Callback) -> dict[str, Any]:
    return {
        "id": item.id,
        "number": item.number,
        "carrier": item.carrier,
        "state": item.state.value,
        "abandoned_calls": item.abandoned_calls,
        "created_at": iso_wib(item.created_at),
        "deadline": iso_wib(item.deadline),
        "deadline_epoch": item.deadline.timestamp(),
        "attempts": item.attempts,
        "last_outcome": item.last_outcome,
        "taken_by": item.taken_by,
        "seat": item.seat,
        "matched_call_id": item.matched_call_id,
        "last_call_id": item.last_call_id,
        "refusal": _refusal(item.number),  # why it will not be dialled, shown before a click
    }


def _refusal(number: str) -> str | None:
    refusal = numbering.classify(number).refusal
    return None if refusal is None else refusal.value
