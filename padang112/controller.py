"""The controller: one inbox, one room, the telephony adapters at the edge.

ARI events, timer firings and requests from the console all go through one ``asyncio.Queue``; a single
task takes them in order, lets the room decide, then hands the domain events to storage and to live
subscribers, and the effects to the runner. That task never waits on the network or the disk, so a slow
REST call or fsync cannot delay the next caller. A console request (:meth:`Controller.ask`) waits in that queue
for its turn like an ARI event and is answered through a future: accepted, or the room's refusal code.

The controller works every Asterisk node (``padang112.nodes``; one by default): one :class:`NodeLink` per node (ARI
client and listener, AMI, heartbeat), all feeding the one inbox, so the room is one queue and one seat pool across
nodes. An event is taken with its node: a caller is tagged with the node it arrived on, and an effect is carried out
on its call's node (the call id names it), so a seat leg is placed on the caller's node and bridged there. A node
(re)connecting rebuilds only its own calls; a node that dropped and no longer answers takes its calls with it
(``NodeLost``: their callers go to the call-back list).

Calls the controller places besides the room's (duty-phone alerts, call-backs) belong to a :class:`Line`: its
channel ids carry the line's prefix, so the ARI events of those channels, taken from the same inbox in the same
order, go to that line, and after every (re)connection each line is given the switch's snapshot to reconcile its own
channels. A line places its call on a node that is linked (:meth:`Controller.line_node`: the first when it is) and
names that node in the call's ids, so its later requests go there by the same rule as the room's; its snapshot is
then every node's that answers. Every ARI request, the room's and the lines', is written by the effect runner
(``telephony/executor.py``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from padang112 import logs, nodes
from padang112.cluster.fence import UNFENCED, Fence
from padang112.config import Settings
from padang112.domain import commands as c
from padang112.domain import prank
from padang112.domain.caller_history import CallerHistory, EarlierCall
from padang112.domain.console import ClearPrank, Dispose, Request
from padang112.domain.events import CallTransition, DomainEvent
from padang112.domain.line_ids import split
from padang112.domain.prank import PRANK_DISPOSITIONS, PrankScores
from padang112.domain.room import Decision, Policy, Room
from padang112.domain.screen_pop import screen_pop
from padang112.domain.seat_views import SeatViews
from padang112.domain.seats import SeatState
from padang112.stats import queries
from padang112.storage.repository import EventWriter, Repository
from padang112.telephony.ari import AriClient, subscribe
from padang112.telephony.dial_policy import DialPolicy
from padang112.telephony.executor import ChannelMedia, EffectRunner, seat_legs_first
from padang112.telephony.fallback_import import fallback_notes, forget_over_ari, import_fallback_calls
from padang112.telephony.lines import Line, event_channel, translate
from padang112.telephony.node_link import PROBE_TIMEOUT_S, NodeLink
from padang112.telephony.snapshot import Snapshot, live_snapshot, placed_of
from padang112.telephony.stasis import StasisTranslator

log = logging.getLogger("padang112.calls")

Subscriber = Callable[[DomainEvent], None]
LINE_TICK_S = 1.0  # how often the lines are asked what has fallen due
STOPPING = "stopping"  # the refusal of a request that came after the controller stopped taking its inbox
SUSPENDED = "suspended"  # the refusal of a request while this controller may not act (its lease is not renewed)
FLUSH_BEFORE_RECONCILE_S = 5.0  # a reconcile waits this long for the room's earlier events to be stored
WRITES_ON_STOP_S = 5.0  # stop() waits this long for its events to be stored
FIRST_CONTACT_S = 3.0  # a node not linked this long after the start is probed (several nodes)


async def together(*steps: Awaitable[Any]) -> list[Any]:
    """Run ``steps`` at the same time, their results in order; the first failure cancels the others and is raised
    (``asyncio.gather`` alone would leave them running)."""
    tasks = [asyncio.ensure_future(step) for step in steps]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def _nothing_noted() -> frozenset[str]:
    """The fallback notes of a node whose AMI is not connected: none known."""
    return frozenset()


class Controller:
    def __init__(self, settings: Settings, writer: EventWriter, repo: Repository, fence: Fence = UNFENCED) -> None:
        """``fence``: the leadership every ARI request and AMI action passes (``padang112.cluster``); on SQLite none."""
        self.settings = settings
        self.writer = writer
        self.repo = repo
        secrets = settings.secrets()
        ast = settings.asterisk
        calls = settings.calls
        nodes.check(settings)
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
        self.links = [
            NodeLink(
                node,
                ast.app,
                (secrets.ari_password, secrets.ami_password),
                calls.fallback_queue,
                self._on_node_event,
                self._on_connect,
                self._on_disconnect,
                fence,
            )
            for node in nodes.nodes(settings)
        ]
        self.by_name = {link.name: link for link in self.links}
        self.node_names = tuple(self.by_name)  # what ``nodes.node_of`` reads a call id's prefix against
        first = self.links[0]  # what the first node's link tells (``ari_connected``, ``reconciled``, metrics)
        self.ari, self.ami, self.listener, self.heartbeat = first.ari, first.ami, first.listener, first.heartbeat
        self.media = ChannelMedia()
        self.translator = StasisTranslator(
            ast.app, set(settings.seats), self.room.calls.__contains__, self.media.playback_of
        )
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
            self._set_member,
            self.dial_policy.duty_phone,
            self._fallback_notes,
            ari_of=self.ari_of,
        )
        self.lines: list[Line] = []  # the calls we place that are not part of the room (duty alerts, call-backs)
        self.pranks = PrankScores()
        self.history = CallerHistory()  # earlier calls per number: the screen-pop travels with the offer
        self.seat_views = SeatViews()  # each node's word on the seats' phones, merged
        self.fence = fence
        self._tasks: list[asyncio.Task[Any]] = []
        self._heartbeat_tasks: list[asyncio.Task[None]] = []
        self._probes: dict[str, asyncio.Task[None]] = {}  # a dropped node being asked whether it still lives
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
        for link in self.links:
            await link.ari.open()
        await asyncio.gather(*(link.ami.start() for link in self.links))  # a silent node delays none of the others
        self._tasks = [
            asyncio.create_task(self._room_loop(), name="room"),
            asyncio.create_task(self._line_clock(), name="line-clock"),
        ]
        for link in self.links:
            self._tasks += [
                asyncio.create_task(link.listener.run(), name=f"ari-listener:{link.name}"),
                asyncio.create_task(self._ami_loop(link), name=f"ami-upkeep:{link.name}"),
                asyncio.create_task(link.ami.keepalive(), name=f"ami-keepalive:{link.name}"),
            ]
        self._heartbeat_tasks = [
            asyncio.create_task(link.heartbeat.run(), name=f"heartbeat:{link.name}") for link in self.links
        ]
        if len(self.links) > 1:
            self._tasks += [
                asyncio.create_task(self._first_contact(link), name=f"node-first-contact:{link.name}")
                for link in self.links
            ]

    async def stop(self) -> None:
        """Stop taking calls, then hand every waiting caller to the fallback queue before leaving.

        Connected calls stay bridged on the switch; a restarted controller adopts them (reconcile). The heartbeat
        is stopped and zeroed first, so the dialplan sends new calls to the fallback queue from now on.
        """
        for task in self._heartbeat_tasks:
            task.cancel()
        if self._heartbeat_tasks:
            await asyncio.gather(*self._heartbeat_tasks, return_exceptions=True)
            await asyncio.gather(*(link.heartbeat.mark_dead() for link in self.links))
        for task in [*self._tasks, *self._probes.values()]:
            task.cancel()
        await asyncio.gather(*self._tasks, *self._probes.values(), return_exceptions=True)
        self._closed = True
        while not self.inbox.empty():  # what arrived before the WebSocket closed is still handled
            self._take(*self.inbox.get_nowait())
        self._handle([c.HandOverWaiting()])
        await self.runner.drain(timeout=3.0)
        await self.runner.close()
        if self._writes:  # a database that is away: the writer's own stop gives the rest its last chance
            await asyncio.wait(self._writes, timeout=WRITES_ON_STOP_S)
        for link in self.links:
            link.ami.close()
            await link.ari.close()

    @property
    def ari_connected(self) -> bool:
        """The first node's WebSocket is open and events flow on it (our echo comes back)."""
        return self.listener.hearing

    @property
    def reconciled(self) -> bool:
        """The room has been rebuilt from the first node since its last (re)connection."""
        return self.links[0].reconciled

    @property
    def switch_started(self) -> datetime | None:
        return self.links[0].switch_started

    def link_of(self, call_id: str) -> NodeLink:
        """The links of the node a call is on (its id names it; the first node's for any other id)."""
        return self.by_name[nodes.node_of(call_id, self.node_names)]

    def ari_of(self, call_id: str) -> AriClient:
        return self.link_of(call_id).ari

    def line_node(self) -> str:
        """The node a line places its next call on, as its ids name it ("" on the single box: ``nodes.line_node``)."""
        return nodes.line_node(self.node_names, {link.name for link in self.links if link.linked})

    def node_status(self) -> dict[str, dict[str, bool]]:
        """Per node: ARI linked (events flow, calls rebuilt) and AMI alive; for /readyz."""
        return {link.name: {"ari": link.linked, "ami": link.ami.alive} for link in self.links}

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

    def _on_ari_event(self, event: dict[str, Any], node: str | None = None) -> None:
        """An ARI event as read from ``node`` (the first node's when not named)."""
        for observe in self.ari_observers:
            observe(event)
        self.inbox.put_nowait(("ari", (node or self.links[0].name, event)))

    def _on_node_event(self, link: NodeLink, event: dict[str, Any]) -> None:
        self._on_ari_event(event, link.name)

    def _on_disconnect(self, link: NodeLink) -> None:
        link.reconciled = False
        log.warning(
            "ARI of node %s disconnected: calls in progress stay up; its new calls go to its fallback queue", link.name
        )
        if len(self.links) > 1 and link.name not in self._probes and not self._closed:
            task = asyncio.create_task(self._probe(link), name=f"node-probe:{link.name}")
            self._probes[link.name] = task
            task.add_done_callback(lambda _: self._probes.pop(link.name, None))

    async def _probe(self, link: NodeLink) -> None:
        """A node whose link dropped and that does not answer is dead: the room lets its calls go (``NodeLost``, with
        those the database holds open on it), unless it came back meanwhile. One that answers keeps them until its
        reconnection rebuilds them."""
        if not await link.answers() and not link.listener.connected:
            stored = await self._open_calls_on(link)
            log.error(
                "node %s mati, panggilannya masuk daftar panggil balik / node lost, its calls go to the call-back list",
                link.name,
            )
            self.post(c.NodeLost(link.name, stored))

    async def _first_contact(self, link: NodeLink) -> None:
        """A node not linked ``FIRST_CONTACT_S`` after the start is asked as after a drop: one that is dead (the
        machine of a controller that died with it, say) has its calls the database holds open closed and listed."""
        await asyncio.sleep(FIRST_CONTACT_S)
        if not link.listener.connected and link.name not in self._probes:
            await self._probe(link)

    async def _on_connect(self, link: NodeLink) -> None:
        """Resync from the node: with one node the whole room, with several only this node's calls (the others' go
        on untouched). What the switch has, what the database holds and the fallback dialplan's notes are read at
        the same time: each is a round trip to another process, and one after the other they were most of a
        reconnection's time on a loaded machine (up to 0.25 s of the frozen-link chaos test's)."""
        several = len(self.links) > 1
        snapshot, (open_calls, paused, stored), noted = await together(
            self._switch_now(link),
            self._stored_now(link, several),
            fallback_notes(link.ami) if link.ami.connected else _nothing_noted(),
        )
        link.switch_started = snapshot.switch_started
        in_use = tuple(sorted(seat for seat, used in snapshot.devices_in_use.items() if used))
        recordings = {call: names for call, names in stored.items() if call in open_calls}
        self.post(
            c.Reconcile(
                snapshot.channels,
                open_calls,
                snapshot.registered,
                paused,
                in_use,
                noted,
                recordings,
                node=link.name if several else None,
            )
        )
        if self.lines:
            placed = await self._placed_everywhere(link, snapshot)
            for line in self.lines:
                line.reconcile(placed, paused)

    async def _switch_now(self, link: NodeLink) -> Snapshot:
        """Subscribe to the seats' registrations and device states (first: none is missed between the two), then
        read the node's snapshot."""
        app = self.settings.asterisk.app
        sources = [f"endpoint:PJSIP/{s}" for s in self.settings.seats]
        sources += [f"deviceState:PJSIP/{s}" for s in self.settings.seats]
        await subscribe(link.ari, app, sources)
        return await live_snapshot(link.ari, app, set(self.settings.seats))

    async def _stored_now(
        self, link: NodeLink, several: bool
    ) -> tuple[dict[str, str], dict[str, str], dict[str, tuple[str, ...]]]:
        """The open calls (this node's, with several), the paused seats with their reasons, the open recordings."""
        # what the room decided before is stored first (after a database outage: the events that waited for it),
        # so the stored open calls and seat states below are the room's own last word
        await asyncio.wait_for(self.writer.flushed(), FLUSH_BEFORE_RECONCILE_S)
        open_calls, states, recordings = await together(
            self._open_calls_on(link) if several else self.repo.open_calls(),
            self.repo.seat_states(),
            self.repo.open_recordings(),
        )
        paused = {seat: reason or "" for seat, (state, reason, _) in states.items() if state == "paused"}
        return open_calls, paused, recordings

    async def _placed_everywhere(self, link: NodeLink, snapshot: Snapshot) -> Snapshot:
        """The lines' channels and bridges on every node that answers now (their calls may be on any node): the
        reconnected node's from its snapshot, the others' read now; a node that does not answer has lost them."""
        others = [other for other in self.links if other is not link]
        read = await asyncio.gather(*(self._placed_on(other) for other in others))
        return placed_of([snapshot, *(found for found in read if found is not None)])

    async def _placed_on(self, link: NodeLink) -> Snapshot | None:
        try:
            app = self.settings.asterisk.app
            return await asyncio.wait_for(live_snapshot(link.ari, app, set(self.settings.seats)), PROBE_TIMEOUT_S)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # refused, silent, an error page: its line calls are gone with it
            log.warning("node %s does not answer: its line calls are taken as ended (%s)", link.name, exc)
            return None

    async def _open_calls_on(self, link: NodeLink) -> dict[str, str]:
        """The calls the database holds open on that node (their ids name it)."""
        stored = await self.repo.open_calls()
        return {call: state for call, state in stored.items() if nodes.node_of(call, self.node_names) == link.name}

    async def _set_member(self, seat: str, member: bool, paused: bool) -> None:
        """A seat's membership of the fallback queue, on every node that is linked (the others are resynced by
        their AMI upkeep once they are back)."""
        for link in self.links:
            if link.ami.connected:
                try:
                    await link.ami.set_member(seat, member, paused)
                except Exception as exc:  # one node's AMI must not keep the seat out of the others' queues
                    log.warning("fallback queue of node %s: %s not updated: %s", link.name, seat, exc)

    async def _fallback_notes(self, channel: str) -> frozenset[str]:
        """That caller, if the fallback dialplan of the node he is on has noted him."""
        link = self.link_of(channel)
        return await fallback_notes(link.ami, channel) if link.ami.connected else frozenset()

    async def _ami_loop(self, link: NodeLink, interval: float = 5.0) -> None:
        """Over AMI: resync the fallback queue after each (re)connection, import fallback calls.

        Only a controller that knows the seats (reconciled with a live switch) touches the queue, and the resync
        only adds signed-in seats and sets their pause: a member is removed only when a person signs out.
        """
        synced = False
        while True:
            try:
                if not link.ami.connected:
                    synced = False
                else:
                    if not synced and link.reconciled:
                        for seat in self.room.seats.values():
                            if seat.signed_in:
                                await link.ami.set_member(seat.id, True, seat.state == SeatState.PAUSED)
                        synced = True
                    await import_fallback_calls(
                        link.ami,
                        self.repo,
                        str(self.settings.recordings_dir),
                        functools.partial(forget_over_ari, link.ari),
                        publish=self._notify,
                        switch_started=link.switch_started,
                    )
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # AMI trouble must never stop call handling
                log.warning("AMI upkeep of node %s failed: %s", link.name, exc)
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
        for link in self.links:
            link.listener.drop()
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
            self._handle(self._merged(item))
            return
        node, event = item
        channel = event_channel(event)
        for line in self.lines:
            if split(channel, line.prefix) is not None:
                for fact in translate(event):
                    line.take(fact)
                return
        self._handle([self._from_node(node, command) for command in self.translator.translate(event)])

    def _from_node(self, node: str, command: c.Command) -> c.Command:
        """A node's own report as the room takes it: a caller tagged with its node (several nodes), a seat's phone
        as every node sees it (``domain/seat_views.py``)."""
        if isinstance(command, c.CallArrived) and len(self.links) > 1:
            return dataclasses.replace(command, node=node)
        if isinstance(command, c.SeatRegistration):
            view = self.seat_views.reached(node, command.seat, command.registered)
            return c.SeatRegistration(command.seat, view.online, view.unreachable)
        if isinstance(command, c.SeatDeviceInUse):
            return c.SeatDeviceInUse(command.seat, self.seat_views.in_use(node, command.seat, command.in_use).in_use)
        return command

    def _merged(self, command: c.Command) -> list[c.Command]:
        """A node's reconcile with the seats as every node sees them; a lost node's view forgotten with it."""
        seats = self.settings.seats
        if isinstance(command, c.Reconcile):
            self.seat_views.rebuilt(command.node or self.links[0].name, command.registered, command.in_use)
            views = {seat: self.seat_views.view(seat) for seat in seats}
            return [
                dataclasses.replace(
                    command,
                    registered=tuple(seat for seat in seats if views[seat].online),
                    in_use=tuple(seat for seat in seats if views[seat].in_use),
                    unreachable={seat: view.unreachable for seat, view in views.items() if view.unreachable},
                )
            ]
        if isinstance(command, c.NodeLost):
            self.seat_views.forget(command.node)
            views = {seat: self.seat_views.view(seat) for seat in seats}
            return [
                command,
                *(c.SeatRegistration(seat, view.online, view.unreachable) for seat, view in views.items()),
                *(c.SeatDeviceInUse(seat, view.in_use) for seat, view in views.items()),
            ]
        return [command]

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
            if isinstance(command, c.Reconcile):
                link = self.by_name[command.node] if command.node is not None else self.links[0]
                if not link.reconciled:
                    link.reconciled = True
                    link.heartbeat.wake()  # new calls come to this controller from now on, not a second later
            refused = decision.refused
            self._apply(dataclasses.replace(decision, events=[self._with_screen_pop(e) for e in decision.events]))
        return refused

    def _apply(self, decision: Decision) -> None:
        """Nothing here waits: the events' write, the subscribers' wake-ups (a call taker's screen-pop) and the
        effects' lanes (a seat's leg first) are only scheduled, in that order; the writer's own work for the batch
        comes after the lanes' first requests are written."""
        if decision.events:
            task = asyncio.create_task(self.writer.write(list(decision.events)), name="store-events")
            self._writes.add(task)
            task.add_done_callback(self._write_done)
            self._notify(decision.events)
        for effect in seat_legs_first(decision.effects):
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
