"""The controller: one inbox, one room, the telephony adapters at the edge.

ARI events, timer firings and requests from the console all go through one ``asyncio.Queue``; a single
task takes them in order, lets the room decide, then hands the domain events to storage and to live
subscribers, and the effects to the runner. That task never waits on the network or the disk, so a slow
REST call or fsync cannot delay the next caller. A console request (:meth:`Controller.ask`) waits in that queue
for its turn like an ARI event and is answered through a future: accepted, or the room's refusal code.

Calls the controller places besides the room's (duty-phone alerts, call-backs) belong to a :class:`Line`: its
channel ids carry the line's prefix, so the ARI events of those channels, taken from the same inbox in the same
order, go to that line, and after every (re)connection each line is given the switch's snapshot to reconcile its own
channels. Every ARI request, the room's and the lines', is written by the effect runner (``telephony/executor.py``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from padang112 import logs
from padang112.cluster.fence import UNFENCED, Fence
from padang112.config import Settings
from padang112.domain import commands as c
from padang112.domain import prank
from padang112.domain.caller_history import CallerHistory, EarlierCall
from padang112.domain.console import ClearPrank, Dispose, Request
from padang112.domain.events import CallTransition, DomainEvent
from padang112.domain.prank import PRANK_DISPOSITIONS, PrankScores
from padang112.domain.room import Decision, Policy, Room
from padang112.domain.screen_pop import screen_pop
from padang112.domain.seats import SeatState
from padang112.stats import queries
from padang112.storage.repository import EventWriter, Repository
from padang112.telephony.ami import AmiLink
from padang112.telephony.ari import AriClient, AriListener, subscribe
from padang112.telephony.dial_policy import DialPolicy
from padang112.telephony.executor import ChannelMedia, EffectRunner
from padang112.telephony.fallback_import import fallback_notes, forget_over_ari, import_fallback_calls
from padang112.telephony.heartbeat import HeartbeatWriter
from padang112.telephony.lines import Line, event_channel, translate
from padang112.telephony.snapshot import live_snapshot
from padang112.telephony.stasis import StasisTranslator

log = logging.getLogger("padang112.calls")

Subscriber = Callable[[DomainEvent], None]
LINE_TICK_S = 1.0  # how often the lines are asked what has fallen due
STOPPING = "stopping"  # the refusal of a request that came after the controller stopped taking its inbox
SUSPENDED = "suspended"  # the refusal of a request while this controller may not act (its lease is not renewed)
FLUSH_BEFORE_RECONCILE_S = 5.0  # a reconcile waits this long for the room's earlier events to be stored
WRITES_ON_STOP_S = 5.0  # stop() waits this long for its events to be stored


class Controller:
    def __init__(self, settings: Settings, writer: EventWriter, repo: Repository, fence: Fence = UNFENCED) -> None:
        """``fence``: the leadership every ARI request and AMI action passes (``padang112.cluster``); on SQLite none."""
        self.settings = settings
        self.writer = writer
        self.repo = repo
        secrets = settings.secrets()
        ast = settings.asterisk
        calls = settings.calls
        policy = Policy(
            calls.ring_timeout_s,
            calls.wrap_up_s,
            calls.position_announce_s,
            calls.auto_ready_on_register,
            calls.seat_retry_s,
            calls.seat_failures_to_pause,
            calls.min_talk_s,
        )
        self.room = Room(settings.seats, policy, str(settings.recordings_dir))
        self.inbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.ari = AriClient(ast.ari_url, "padang112", secrets.ari_password, ast.app, fence)
        self.ami = AmiLink(
            ast.manager_address, ast.ami_port, "padang112", secrets.ami_password, calls.fallback_queue, fence
        )
        self.media = ChannelMedia()
        self.translator = StasisTranslator(
            ast.app, set(settings.seats), self.room.calls.__contains__, self.media.playback_of
        )
        self.listener = AriListener(self.ari, self._on_ari_event, self._on_connect, self._on_disconnect)
        self.subscribers: list[Subscriber] = []
        self.ari_observers: list[Callable[[dict[str, Any]], None]] = []  # every ARI event, as read (metrics)
        self.dial_policy = DialPolicy(
            settings.duty_phones,
            {carrier.name for carrier in settings.carriers},
            repo.called_in_over,
            calls.callback_daily_cap,
        )
        self.runner = EffectRunner(
            self.ari,
            self.post,
            self.media,
            self.ami.set_member,
            self.dial_policy.duty_phone,
            functools.partial(fallback_notes, self.ami),
        )
        self.lines: list[Line] = []  # the calls we place that are not part of the room (duty alerts, call-backs)
        self.pranks = PrankScores()
        self.history = CallerHistory()  # earlier calls per number: the screen-pop travels with the offer
        self.reconciled = False  # the room has been rebuilt from the switch since the last (re)connection
        self.switch_started: datetime | None = None  # Asterisk's start, read at each (re)connection
        self.fence = fence
        self.heartbeat = HeartbeatWriter(self.ari, lambda: fence.valid() and self.listener.hearing and self.reconciled)
        self._tasks: list[asyncio.Task[Any]] = []
        self._heartbeat_task: asyncio.Task[None] | None = None
        self._writes: set[asyncio.Task[None]] = set()
        self._closed = False  # stopped: the inbox is no longer taken

    # ---- lifecycle ---------------------------------------------------------------------------------
    async def start(self) -> None:
        since = datetime.now(UTC) - prank.WINDOW
        self.pranks.load(
            await self.repo.marked_calls(PRANK_DISPOSITIONS, since), await self.repo.prank_clearances(since)
        )  # marks before a number's clearance do not count
        stored = await queries.calls_between(self.repo, since, datetime.now(UTC) + timedelta(days=1))
        self.history.load(
            EarlierCall(r.id, r.caller_number or "", r.received_at, r.state, r.disposition, r.seat) for r in stored
        )
        await self.ari.open()
        await self.ami.start()
        self._tasks = [
            asyncio.create_task(self._room_loop(), name="room"),
            asyncio.create_task(self.listener.run(), name="ari-listener"),
            asyncio.create_task(self._ami_loop(), name="ami-upkeep"),
            asyncio.create_task(self.ami.keepalive(), name="ami-keepalive"),
            asyncio.create_task(self._line_clock(), name="line-clock"),
        ]
        self._heartbeat_task = asyncio.create_task(self.heartbeat.run(), name="heartbeat")

    async def stop(self) -> None:
        """Stop taking calls, then hand every waiting caller to the fallback queue before leaving.

        Connected calls stay bridged on the switch; a restarted controller adopts them (reconcile). The heartbeat
        is stopped and zeroed first, so the dialplan sends new calls to the fallback queue from now on.
        """
        if self._heartbeat_task is not None:
            self._heartbeat_task.cancel()
            await asyncio.gather(self._heartbeat_task, return_exceptions=True)
            await self.heartbeat.mark_dead()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._closed = True
        while not self.inbox.empty():  # what arrived before the WebSocket closed is still handled
            self._take(*self.inbox.get_nowait())
        self._handle([c.HandOverWaiting()])
        await self.runner.drain(timeout=3.0)
        await self.runner.close()
        if self._writes:  # a database that is away: the writer's own stop gives the rest its last chance
            await asyncio.wait(self._writes, timeout=WRITES_ON_STOP_S)
        self.ami.close()
        await self.ari.close()

    @property
    def ari_connected(self) -> bool:
        """The WebSocket is open and events flow on it (our echo comes back)."""
        return self.listener.hearing

    def add_line(self, line: Line) -> Callable[[], None]:
        """Route the line's channels to it; returns the function that removes it."""
        self.lines.append(line)
        return lambda: self.lines.remove(line)

    # ---- inbox -------------------------------------------------------------------------------------
    def post(self, command: c.Command) -> None:
        """A command nobody waits on (a timer, a line's request): decided in its turn."""
        self.inbox.put_nowait(("cmd", command))

    def ask(self, request: Request) -> asyncio.Future[str | None]:
        """A console request, decided in its turn among the ARI events and timers (one order of decisions). The
        future gives the room's refusal code, None when accepted; ``STOPPING`` once the controller has stopped,
        ``SUSPENDED`` while it may not act (``_held``)."""
        answer: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        if self._closed:
            answer.set_result(STOPPING)
        elif not self.fence.valid():
            answer.set_result(SUSPENDED)
        else:
            self.inbox.put_nowait(("ask", (request, answer)))
        return answer

    def _on_ari_event(self, event: dict[str, Any]) -> None:
        for observe in self.ari_observers:
            observe(event)
        self.inbox.put_nowait(("ari", event))

    def _on_disconnect(self) -> None:
        self.reconciled = False
        log.warning("ARI disconnected: calls in progress stay up; new calls go to the fallback queue")

    async def _on_connect(self) -> None:
        """Subscribe to the seats' registrations and device states, then resync from the switch."""
        app = self.settings.asterisk.app
        sources = [f"endpoint:PJSIP/{s}" for s in self.settings.seats]
        sources += [f"deviceState:PJSIP/{s}" for s in self.settings.seats]
        await subscribe(self.ari, app, sources)
        snapshot = await live_snapshot(self.ari, app, set(self.settings.seats))
        self.switch_started = snapshot.switch_started
        # what the room decided before is stored first (after a database outage: the events that waited for it),
        # so the stored open calls and seat states below are the room's own last word
        await asyncio.wait_for(self.writer.flushed(), FLUSH_BEFORE_RECONCILE_S)
        open_calls = await self.repo.open_calls()
        paused = {
            seat: reason or ""
            for seat, (state, reason, _) in (await self.repo.seat_states()).items()
            if state == "paused"
        }
        in_use = tuple(sorted(seat for seat, used in snapshot.devices_in_use.items() if used))
        noted = await fallback_notes(self.ami) if self.ami.connected else frozenset()
        recordings = await self.repo.open_recordings()
        self.post(c.Reconcile(snapshot.channels, open_calls, snapshot.registered, paused, in_use, noted, recordings))
        for line in self.lines:
            line.reconcile(snapshot, paused)

    async def _ami_loop(self, interval: float = 5.0) -> None:
        """Over AMI: resync the fallback queue after each (re)connection, import fallback calls.

        Only a controller that knows the seats (reconciled with a live switch) touches the queue, and the resync
        only adds signed-in seats and sets their pause: a member is removed only when a person signs out.
        """
        synced = False
        while True:
            try:
                if not self.ami.connected:
                    synced = False
                else:
                    if not synced and self.reconciled:
                        for seat in self.room.seats.values():
                            if seat.signed_in:
                                await self.ami.set_member(seat.id, True, seat.state == SeatState.PAUSED)
                        synced = True
                    await import_fallback_calls(
                        self.ami,
                        self.repo,
                        str(self.settings.recordings_dir),
                        functools.partial(forget_over_ari, self.ari),
                        publish=self._notify,
                        switch_started=self.switch_started,
                    )
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # AMI trouble must never stop call handling
                log.warning("AMI upkeep failed: %s", exc)
                synced = False
            await asyncio.sleep(interval)

    async def _room_loop(self) -> None:
        while True:
            entry = await self.inbox.get()
            if self.fence.valid():
                self._take(*entry)
            else:
                await self._held(entry)

    async def _held(self, first: tuple[str, Any]) -> None:
        """This controller may not act now: its lease could not be renewed (the database is away; see
        ``cluster/leadership.py``). It decides nothing meanwhile: every request a decision makes would be refused,
        and a refused ring sends the room on to the next seat at once, over and over, each try a few events for a
        database that takes none. The ARI link is dropped (the dialplan's fallback takes callers), what arrives is
        held in order, and once the controller may act again its reconnection's ``Reconcile`` is taken first: the
        room learns from the switch what happened meanwhile. Then the held timers, commands and requests are
        taken (the room ignores those about calls and legs that are gone); the held ARI events are not, the
        switch's snapshot superseded them."""
        log.warning("tidak bertindak: menahan kotak masuk / not acting: the inbox is held until the reconcile")
        self.listener.drop()
        held = [first]
        while True:
            entry = await self.inbox.get()
            kind, item = entry
            if kind == "cmd" and isinstance(item, c.Reconcile) and self.fence.valid():
                break
            held.append(entry)
        self._take(kind, item)
        stale = [held_entry for held_entry in held if held_entry[0] == "ari"]
        log.warning(
            "bertindak lagi / acting again: %d held entries taken, %d ARI events superseded",
            len(held) - len(stale),
            len(stale),
        )
        for held_entry in held:
            if held_entry[0] != "ari":
                self._take(*held_entry)

    async def _line_clock(self) -> None:
        """The lines' timer (a duty call's retry falls due): a tick through the inbox every ``LINE_TICK_S``, so
        it is taken in order with what the switch reported before it."""
        while True:
            await asyncio.sleep(LINE_TICK_S)
            self.inbox.put_nowait(("tick", datetime.now(UTC)))

    def _take(self, kind: str, item: Any) -> None:
        """One inbox entry: a command for the room, a console request to answer, or an ARI event for the room or
        for the line it belongs to."""
        if kind == "ask":
            request, answer = item
            refused = self._decide(request)
            if not answer.done():  # the asking handler may have gone (client disconnected)
                answer.set_result(refused)
            return
        if kind == "tick":
            for line in self.lines:
                line.tick(item)
            return
        if kind != "ari":
            self._handle([item])
            return
        channel = event_channel(item)
        for line in self.lines:
            if channel.startswith(line.prefix):
                for fact in translate(item):
                    line.take(fact)
                return
        self._handle(self.translator.translate(item))

    def _decide(self, request: Request) -> str | None:
        if isinstance(request, Dispose):
            self._apply(Decision(events=[request.event]))
            if request.number and request.prank:
                self.pranks.mark(request.number, request.event.at, request.event.call_id)
            elif request.number:
                self.pranks.unmark(request.number, request.event.call_id)
            return None
        if isinstance(request, ClearPrank):
            self.pranks.clear(request.number, request.at)
            return None
        return self._handle([request])

    def _handle(self, commands: list[c.Command]) -> str | None:
        refused: str | None = None
        for given in commands:
            now = datetime.now(UTC)
            command = given
            if isinstance(command, c.CallArrived) and self.pranks.flagged(command.caller_number, now):
                command = dataclasses.replace(command, flagged=True)
            try:
                decision = self.room.handle(command, now)
            except Exception:  # a bug in one decision must not stop the room
                log.exception("room failed on %s", command)
                refused = "failed"
                continue
            if isinstance(command, c.Reconcile) and not self.reconciled:
                self.reconciled = True
                self.heartbeat.wake()  # new calls come to this controller from now on, not a second later
            refused = decision.refused
            self._apply(dataclasses.replace(decision, events=[self._with_screen_pop(e) for e in decision.events]))
        return refused

    def _apply(self, decision: Decision) -> None:
        if decision.events:
            task = asyncio.create_task(self.writer.write(list(decision.events)), name="store-events")
            self._writes.add(task)
            task.add_done_callback(self._write_done)
            self._notify(decision.events)
        for effect in decision.effects:
            self.runner.submit(effect)

    def _with_screen_pop(self, event: DomainEvent) -> DomainEvent:
        """An offer carries its screen-pop: the call and its caller's profile as the controller knows them now."""
        if not (isinstance(event, CallTransition) and event.to_state == "offered" and event.call_id in self.room.calls):
            return event
        call = self.room.calls[event.call_id]
        profile = self.history.profile(call.caller_number, call.id, event.at, self.pranks)
        return dataclasses.replace(event, data={**event.data, "screen_pop": screen_pop(call, event.at, profile)})

    def _notify(self, events: list[DomainEvent]) -> None:
        """Log each stored (or being stored) event, one line, and hand them to the live subscribers: console,
        callback list, metrics, ..."""
        for event in events:
            logs.log_event(log, event)
            self.history.observe(event)
        for subscriber in list(self.subscribers):
            for event in events:
                subscriber(event)

    def _write_done(self, task: asyncio.Task[None]) -> None:
        self._writes.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("storing events failed: %s", task.exception())
