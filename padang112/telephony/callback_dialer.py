"""Call-backs over ARI: the call taker's phone first, then the caller over the carrier trunk they called from.

The seat is paused (reason ``callback``) for the attempt, so the room offers it no 112 call meanwhile; its leg is
``cb-<item>-seat-<token>``, the caller's ``cb-<item>-caller-<token>`` (the controller hands this adapter every ARI
event about a ``cb-`` channel). When the caller answers, both legs are bridged and recorded
(``callback-<item>-<attempt>.wav``). The caller's number is dialled only through ``DialPolicy`` (it must have
called in over that carrier). The list itself is fed from the room's events: an abandoned call makes an item, a
number calling again is matched to its open item. Calls the dialplan's fallback queue handled while the controller
was away reach the list too, as their imported events are published.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from padang112.callbacks.store import Callback, CallbackError, CallbackStore
from padang112.domain import commands as c
from padang112.domain import numbering
from padang112.domain.callbacks import DAILY_CAP_WINDOW, callable_number, outcome_of_cause
from padang112.domain.events import CallTransition, DomainEvent
from padang112.domain.seats import SeatState
from padang112.incidents.service import iso_wib
from padang112.telephony.ari import AriClient
from padang112.telephony.dial_policy import DialPolicy, DialRefused

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "cb-"
PAUSE_REASON = "callback"
CALLER_ID = '"112 Kota Padang" <112>'


@dataclass
class Attempt:
    callback: Callback
    seat: str
    seat_leg: str
    caller_leg: str
    bridge: str
    recording: str
    seat_up: bool = False
    caller_up: bool = False
    finished: bool = False


class CallbackDialer:
    def __init__(
        self,
        ari: AriClient,
        policy: DialPolicy,
        store: CallbackStore,
        controller: Any,
        publish: Callable[[dict[str, Any]], None],
        deadline_s: float,
        ring_s: float,
        recordings_dir: str,
    ) -> None:
        self.ari = ari
        self.policy = policy
        self.store = store
        self.controller = controller
        self.repo = controller.repo
        self.publish = publish
        self.deadline_s = deadline_s
        self.ring_s = ring_s
        self.recordings_dir = recordings_dir
        self._token = secrets.token_hex(3)
        self._n = itertools.count(1)
        self._attempts: dict[str, Attempt] = {}  # by both leg ids
        self._numbers: dict[str, tuple[str, str]] = {}  # call id -> (number, carrier) while the call lives
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
            if event.to_state == "abandoned" and not number:  # e.g. handed over, then abandoned in the fallback
                self._queue.put_nowait(lambda: self._abandoned_stored(event.call_id))
            elif event.to_state == "abandoned" and callable_number(number) and carrier:
                self._queue.put_nowait(lambda: self._abandoned(event.call_id, number, carrier))

    def on_ari_event(self, event: dict[str, Any]) -> None:
        self._queue.put_nowait(lambda: self._event(event))

    async def run(self) -> None:
        while True:
            job = await self._queue.get()
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception:  # one failure must not stop the list
                log.exception("callback handling failed")

    async def place(self, callback_id: int, user: str, seat: str) -> Callback:
        """A call taker takes an item: pause their seat, ring their phone. Raises ``CallbackError``."""
        room_seat = self.controller.room.seats.get(seat)
        if room_seat is None or room_seat.state is not SeatState.AVAILABLE or not room_seat.registered:
            raise CallbackError("seat_not_ready", f"seat {seat} must be ready (Siap) to call back")
        self.controller.command(c.SeatPause(seat, PAUSE_REASON))  # at once: no 112 call is offered to it meanwhile
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
            self.controller.command(c.SeatReady(seat))
            raise
        n = f"{self._token}{next(self._n)}"
        attempt = Attempt(
            item,
            seat,
            f"{CHANNEL_PREFIX}{item.id}-seat-{n}",
            f"{CHANNEL_PREFIX}{item.id}-caller-{n}",
            f"bridge-{CHANNEL_PREFIX}{item.id}-{n}",
            f"callback-{item.id}-{item.attempts}",
        )
        self._attempts[attempt.seat_leg] = self._attempts[attempt.caller_leg] = attempt
        self._changed(item)
        try:
            await self.ari.post(
                f"/channels/{attempt.seat_leg}",
                endpoint=f"PJSIP/{seat}",
                app=self.ari.app,
                appArgs=f"callback,seat,{item.id}",
                callerId=f'"Panggilan balik" <{item.number}>',
                timeout=int(self.ring_s),
            )
        except Exception as exc:
            log.warning("callback %s: seat %s could not be rung: %s", item.id, seat, exc)
            await self._finish(attempt, "seat_no_answer")
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
    async def _event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        channel = (event.get("channel") or {}).get("id", "")
        attempt = self._attempts.get(channel)
        if attempt is None or attempt.finished:
            return
        is_seat = channel == attempt.seat_leg
        if kind == "StasisStart":
            await (self._seat_answered(attempt) if is_seat else self._caller_answered(attempt))
        elif kind in ("ChannelDestroyed", "StasisEnd", "ChannelHangupRequest"):
            if is_seat:
                outcome = "reached" if attempt.caller_up else "seat_no_answer" if not attempt.seat_up else "no_answer"
            else:
                outcome = "reached" if attempt.caller_up else outcome_of_cause(event.get("cause"))
            await self._finish(attempt, outcome)

    async def _seat_answered(self, a: Attempt) -> None:
        a.seat_up = True
        await self.ari.post(f"/channels/{a.seat_leg}/ring")  # the call taker hears ringing while we dial
        try:
            endpoint = await self.policy.callback(a.callback.number, a.callback.carrier)
            await self.ari.post(
                f"/channels/{a.caller_leg}",
                endpoint=endpoint,
                app=self.ari.app,
                appArgs=f"callback,caller,{a.callback.id}",
                callerId=CALLER_ID,
                timeout=int(self.ring_s),
            )
        except Exception as exc:
            log.warning("callback %s: the number could not be dialled: %s", a.callback.id, exc)
            await self._finish(a, "failed")

    async def _caller_answered(self, a: Attempt) -> None:
        a.caller_up = True
        await self.ari.delete(f"/channels/{a.seat_leg}/ring")
        await self.ari.post(f"/bridges/{a.bridge}", type="mixing", name=a.bridge)
        await self.ari.post(f"/bridges/{a.bridge}/addChannel", channel=f"{a.seat_leg},{a.caller_leg}")
        await self.ari.post(
            f"/bridges/{a.bridge}/record",
            name=a.recording,
            format="wav",
            ifExists="overwrite",
            beep="false",
            terminateOn="none",
        )
        self._changed(await self.store.connected(a.callback.id, str(Path(self.recordings_dir) / f"{a.recording}.wav")))

    async def _finish(self, a: Attempt, outcome: str) -> None:
        """End the attempt once: hang up what is left, store the outcome, give the seat back."""
        if a.finished:
            return
        a.finished = True
        for leg in (a.seat_leg, a.caller_leg):
            self._attempts.pop(leg, None)
            await self.ari.delete(f"/channels/{leg}", reason="normal")  # 404 (already gone) is fine
        await self.ari.delete(f"/bridges/{a.bridge}")
        log.info("callback %s attempt ended: %s", a.callback.id, outcome)
        self.controller.command(c.SeatReady(a.seat))
        self._changed(await self.store.attempt_ended(a.callback.id, outcome))


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
