"""Carry out effects on Asterisk: the one place that writes ARI requests.

The room's effects for one call run in order on that call's own lane (an asyncio task draining a queue), so a
slow REST request for one caller never delays another; a seat's leg has its own lane (:func:`effect_lane`).
Timers are plain ``loop.call_later`` handles that post their command back to the controller. Every task is kept
and cancelled on shutdown. The other lines (duty alerts, call-backs) run their own effects in order with
:meth:`EffectRunner.perform`, which raises on failure.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from padang112.domain import commands as c
from padang112.domain import effects as fx
from padang112.domain.naming import parse_leg
from padang112.domain.room import GREETING
from padang112.telephony.ari import AriClient, AriError
from padang112.telephony.snapshot import FALLBACK_CONTEXTS

log = logging.getLogger(__name__)

LATE_TIMER_S = 2.0
FIND_CALLER_TRIES = 20  # 2 s: a moved caller's snapshot leaves Stasis() within milliseconds
FIND_CALLER_PAUSE_S = 0.1


def caller_id_for_seat(number: str, name: str) -> str:
    """The SIP display shown on the softphone; the console shows the full, escaped caller id."""
    digits = "".join(ch for ch in number if ch.isdigit() or ch in "+*#")[:32] or "anonymous"
    display = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>\\')[:40].strip()
    return f'"{display}" <{digits}>' if display else f"<{digits}>"


def greeting_playback(channel: str) -> str:
    """The greeting's playback id: fixed per caller channel, so a restarted controller can stop it."""
    return f"greet-{channel}"


def effect_lane(effect: fx.Effect) -> str:
    """The lane an effect waits its turn in: its call's, so a call's requests keep their order, except that a
    seat's leg has a lane of its own (placing it, hanging it up): ringing the seat never waits behind the
    caller's answer and greeting requests (issue 15: the ring must not wait for them)."""
    if isinstance(effect, fx.FallbackMembership):
        return f"seat:{effect.seat}"
    if isinstance(effect, (fx.StartTimer, fx.CancelTimer)):  # never queued: timers fire by themselves
        return f"timer:{effect.key}"
    if isinstance(effect, fx.RingSeat):
        return effect.leg
    if isinstance(effect, fx.Hangup) and parse_leg(effect.channel) is not None:
        return effect.channel
    return effect.call_id


def seat_legs_first(effects: Iterable[fx.Effect]) -> list[fx.Effect]:
    """One decision's effects in the order their lanes are started: those of seats' legs first, so the seat's
    originate is written before the caller's answer and greeting requests (each a few hundred microseconds of the
    event loop), which the ring must not wait for (issue 15). Each lane keeps its own order: the sort is stable and
    by lane."""
    return sorted(effects, key=lambda e: parse_leg(effect_lane(e)) is None)


class ChannelMedia:
    """Which playback is current on each channel, so a stale PlaybackFinished is recognised."""

    def __init__(self) -> None:
        self.current: dict[str, str] = {}

    def playback_of(self, channel: str) -> str | None:
        return self.current.get(channel)


class EffectRunner:
    def __init__(
        self,
        ari: AriClient,
        post: Callable[[c.Command], None],
        media: ChannelMedia,
        fallback_membership: Callable[[str, bool, bool], Awaitable[None]],
        duty_phone: Callable[[str], str],
        fallback_notes: Callable[[str], Awaitable[frozenset[str]]],
        moh_class: str = "default",
        fallback_context: str = "emergency-fallback",
        fallback_entry: str = "waited",
        ari_of: Callable[[str], AriClient] | None = None,
    ) -> None:
        """``duty_phone(agency)``: the dial policy's endpoint for an agency (raises for anything else);
        ``fallback_notes(channel)``: that caller if the fallback dialplan has noted him (none when unreadable);
        ``ari_of(call_id)``: the ARI of the node the call is on (several nodes; else always ``ari``)."""
        self.ari = ari
        self.ari_of = ari_of or (lambda _call_id: ari)
        self.post = post
        self.media = media
        self.fallback_membership = fallback_membership
        self.duty_phone = duty_phone
        self.fallback_notes = fallback_notes
        self.moh_class = moh_class
        self.fallback_context = fallback_context
        self.fallback_entry = fallback_entry
        self._lanes: dict[str, asyncio.Queue[fx.Effect]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self.failures: Counter[str] = Counter()  # failed effects by kind ("StartRecording", ...), for metrics

    # ---- submission (non-blocking) -----------------------------------------------------------------
    def submit(self, effect: fx.Effect) -> None:
        if isinstance(effect, fx.StartTimer):
            self._cancel_timer(effect.key)
            loop = asyncio.get_running_loop()
            due = loop.time() + effect.delay_s
            self._timers[effect.key] = loop.call_at(due, self._fire, effect.key, effect.command, due)
            return
        if isinstance(effect, fx.CancelTimer):
            self._cancel_timer(effect.key)
            return
        lane = effect_lane(effect)
        queue = self._lanes.setdefault(lane, asyncio.Queue())
        queue.put_nowait(effect)
        if lane not in self._tasks:
            self._tasks[lane] = asyncio.create_task(self._drain(lane, queue), name=f"effects:{lane}")

    def _fire(self, key: str, command: c.Command, due: float) -> None:
        self._timers.pop(key, None)
        late = asyncio.get_running_loop().time() - due
        if late > LATE_TIMER_S and isinstance(command, c.RingTimeout):
            # the process was stopped (SIGSTOP, a frozen host): the seat had no fair chance to answer
            log.warning("ring timer for %s fired %.1f s late: the seat is not paused", command.seat, late)
            command = dataclasses.replace(command, seat_fault=False)
        self.post(command)

    def _cancel_timer(self, key: str) -> None:
        handle = self._timers.pop(key, None)
        if handle is not None:
            handle.cancel()

    async def _drain(self, lane: str, queue: asyncio.Queue[fx.Effect]) -> None:
        try:
            while not queue.empty():
                effect = queue.get_nowait()
                try:
                    await self._run(effect)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # one failed request must not stop the lane
                    log.error("effect %s failed: %s", effect, exc, extra={"call_id": getattr(effect, "call_id", lane)})
                    self.failures[type(effect).__name__] += 1
                    self._on_failure(effect, exc)
        finally:
            self._tasks.pop(lane, None)
            if queue.empty():
                self._lanes.pop(lane, None)

    async def drain(self, timeout: float) -> None:
        """Wait (bounded) for the effects already submitted to be carried out."""
        tasks = list(self._tasks.values())
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

    async def close(self) -> None:
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def perform(self, effect: fx.Effect) -> None:
        """Carry out one effect now (for a line that keeps its own order); an ARI error is raised to the caller."""
        await self._run(effect)

    async def perform_quietly(self, effect: fx.Effect) -> None:
        """The same, for a request on a channel, bridge or playback that may already be gone (404 expected)."""
        try:
            await self._run(effect)
        except AriError as exc:
            log.debug("ignored: %s", exc)

    # ---- execution ---------------------------------------------------------------------------------
    def _on_failure(self, effect: fx.Effect, exc: Exception) -> None:
        if isinstance(effect, fx.RingSeat):
            # Asterisk refusing the seat is the seat's matter; a request that never got an answer (switch down,
            # link cut) is not: the seat is not paused for it.
            seat_fault = isinstance(exc, AriError)
            self.post(c.SeatLegFailed(effect.call_id, effect.seat, effect.leg, f"originate: {exc}", seat_fault))
        elif isinstance(effect, fx.DialAgency):
            self.post(c.AgencyLegGone(effect.call_id, effect.leg, f"originate: {exc}"))

    async def _run(self, effect: fx.Effect) -> None:
        """On the node of the effect's call: a seat leg is placed where its caller is, so they bridge there."""
        runner: Callable[[AriClient, Any], Awaitable[None]] = getattr(self, "_" + type(effect).__name__)
        await runner(self.ari_of(getattr(effect, "call_id", "")), effect)

    async def _Answer(self, ari: AriClient, e: fx.Answer) -> None:
        await ari.post(f"/channels/{e.channel}/answer")

    async def _silence(self, ari: AriClient, channel: str) -> None:
        playback = self.media.current.pop(channel, None)
        if playback is not None:
            await ari.delete(f"/playbacks/{playback}")
        # a greeting a controller that died (or restarted) started is unknown to this one: its id is fixed per
        # channel, so it is stopped too, else it plays over the call taker (404 when it has ended)
        await ari.delete(f"/playbacks/{greeting_playback(channel)}")
        await ari.delete(f"/channels/{channel}/moh")

    async def _stop_prompt(self, ari: AriClient, channel: str) -> None:
        playback = self.media.current.pop(channel, None)
        if playback is not None:
            await ari.delete(f"/playbacks/{playback}")

    async def _PlayPrompts(self, ari: AriClient, e: fx.PlayPrompts) -> None:
        """Prompts play over the hold music the dialplan started; Asterisk resumes the music after them."""
        await self._stop_prompt(ari, e.channel)
        playback = greeting_playback(e.channel) if GREETING in e.prompts else f"pb-{uuid.uuid4().hex}"
        self.media.current[e.channel] = playback
        media = ",".join(f"sound:{p}" for p in e.prompts)
        await ari.post(f"/channels/{e.channel}/play/{playback}", media=media, lang="id")

    async def _StartHoldMusic(self, ari: AriClient, e: fx.StartHoldMusic) -> None:
        self.media.current.pop(e.channel, None)
        await ari.post(f"/channels/{e.channel}/moh", mohClass=self.moh_class)

    async def _RingSeat(self, ari: AriClient, e: fx.RingSeat) -> None:
        await ari.post(
            f"/channels/{e.leg}",
            endpoint=f"PJSIP/{e.seat}",
            app=ari.app,
            appArgs=f"seat,{e.call_id},{e.seat}",
            callerId=caller_id_for_seat(e.caller_number, e.caller_name),
            timeout=int(2 * e.timeout_s) + 5,  # the room's own timers (to ringing, then the ring) end it first
        )

    async def _FindCaller(self, ari: AriClient, e: fx.FindCaller) -> None:
        """In a fallback context, or gone with a fallback note (moved, then his call ended while this controller
        was stopped): moved. Gone without a note, or in his hang-up handler: hung up. Unsure (AMI down): hung
        up, so he is on the call-back list. A failed ARI request posts nothing: the reconcile after the link's
        return settles the call."""
        where = await self._where_caller_went(ari, e.channel)
        moved = where is not None and where.get("context") in FALLBACK_CONTEXTS
        moved = moved or e.channel in await self.fallback_notes(e.channel)
        if moved:
            log.info("the caller left the application for the fallback queue", extra={"call_id": e.call_id})
            self.post(c.CallerMoved(e.call_id))
        else:
            log.info("the caller left the application hung up (no hang-up announced)", extra={"call_id": e.call_id})
            self.post(c.CallerHungUp(e.call_id))

    async def _where_caller_went(self, ari: AriClient, channel: str) -> dict[str, Any] | None:
        """The channel's dialplan place once the switch shows it out of ``Stasis()`` (None: it is gone)."""
        for _ in range(FIND_CALLER_TRIES):
            try:
                found = await ari.get(f"/channels/{channel}")
            except AriError as exc:
                if exc.status != 404:
                    raise
                return None
            dialplan: dict[str, Any] = found.get("dialplan") or {}
            if dialplan.get("app_name") != "Stasis":
                return dialplan
            await asyncio.sleep(FIND_CALLER_PAUSE_S)
        return None

    async def _DialAgency(self, ari: AriClient, e: fx.DialAgency) -> None:
        await ari.post(
            f"/channels/{e.leg}",
            endpoint=self.duty_phone(e.agency),
            app=ari.app,
            appArgs=f"handoff,{e.call_id},{e.agency}",
            callerId=caller_id_for_seat(e.caller_number, "112"),
            timeout=30,
        )

    async def _AddToBridge(self, ari: AriClient, e: fx.AddToBridge) -> None:
        await ari.post(f"/bridges/{e.bridge}/addChannel", channel=e.channel)

    async def _Bridge(self, ari: AriClient, e: fx.Bridge) -> None:
        await self._silence(ari, e.channels[0])
        try:
            await ari.post(f"/bridges/{e.bridge}", type="mixing", name=e.call_id)
        except AriError as exc:
            if exc.status != 409:  # a bridge left from before a restart: use it
                raise
        await ari.post(f"/bridges/{e.bridge}/addChannel", channel=",".join(e.channels))

    async def _StartRecording(self, ari: AriClient, e: fx.StartRecording) -> None:
        await ari.post(
            f"/bridges/{e.bridge}/record",
            name=e.name,
            format="wav",
            ifExists="fail",  # names are unique per segment: never write over a recording
            beep="false",
            terminateOn="none",
        )

    async def _DestroyBridge(self, ari: AriClient, e: fx.DestroyBridge) -> None:
        await ari.delete(f"/bridges/{e.bridge}")

    async def _Hangup(self, ari: AriClient, e: fx.Hangup) -> None:
        self.media.current.pop(e.channel, None)
        await ari.delete(f"/channels/{e.channel}", reason="normal")

    async def _ContinueToFallback(self, ari: AriClient, e: fx.ContinueToFallback) -> None:
        await self._stop_prompt(ari, e.channel)  # the music plays on until the fallback queue's own starts
        await ari.post(
            f"/channels/{e.channel}/continue", context=self.fallback_context, extension=self.fallback_entry, priority=1
        )

    async def _Originate(self, ari: AriClient, e: fx.Originate) -> None:
        await ari.post(
            f"/channels/{e.channel}",
            endpoint=e.endpoint,
            app=ari.app,
            appArgs=e.app_args,
            callerId=e.caller_id,
            timeout=int(e.timeout_s),
        )

    async def _Ringing(self, ari: AriClient, e: fx.Ringing) -> None:
        if e.on:
            await ari.post(f"/channels/{e.channel}/ring")
        else:
            await ari.delete(f"/channels/{e.channel}/ring")

    async def _Play(self, ari: AriClient, e: fx.Play) -> None:
        await ari.post(f"/channels/{e.channel}/play/{e.playback}", media=e.media, lang="id")

    async def _StopPlayback(self, ari: AriClient, e: fx.StopPlayback) -> None:
        await ari.delete(f"/playbacks/{e.playback}")

    async def _FallbackMembership(self, ari: AriClient, e: fx.FallbackMembership) -> None:
        await self.fallback_membership(e.seat, e.member, e.paused)
