"""A day of the room on a virtual clock: the real domain code, a simulated switch, simulated people.

:class:`VirtualDay` feeds :meth:`Room.handle` the commands the switch and the people would cause, at virtual times,
and carries out its effects the way Asterisk would: ``StartTimer`` schedules the command, ``RingSeat`` rings a
simulated call taker who answers after a while (or lets it ring out), ``Bridge`` starts the conversation, ``Hangup``
ends a leg. Around the room it runs the other real rules with a virtual clock: prank scores
(:class:`~padang112.domain.prank.PrankScores`, which flag repeat pranksters), the call-back list
(:class:`~padang112.callbacks.store.CallbackStore`) and incidents with agency tasks, acknowledge deadlines and
escalations (:class:`~padang112.incidents.store.IncidentStore`, :class:`~padang112.incidents.service.IncidentService`),
the last two on a private in-memory SQLite database. Nothing here re-states a rule of those modules.

Call takers: a seat on duty answers after ``times.answer_s`` (lognormal); with ``times.no_answer_share`` it lets the
call ring out (the room pauses it as not responding; it is made ready again after ``back_after_pause_s``). After a
call it presses Siap when its wrap-up is done; when that takes longer than the room's automatic wrap-up it pauses the
seat (reason ``after_call_work``) meanwhile, as a call taker filling the incident form would.
"""

from __future__ import annotations

import contextlib
import functools
import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.pool import StaticPool

from padang112.callbacks.store import CallbackStore
from padang112.domain import commands as c
from padang112.domain import effects as fx
from padang112.domain.callbacks import callable_number
from padang112.domain.events import CallTransition, DomainEvent, SeatTransition
from padang112.domain.prank import PRANK_DISPOSITIONS, PrankScores
from padang112.domain.room import GREETING, Policy, Room
from padang112.domain.seats import PauseReason, SeatState
from padang112.incidents.catalog import load_catalog
from padang112.incidents.model import Incident, IncidentDraft, TaskState
from padang112.incidents.routing import ack_deadline_s, default_agencies
from padang112.incidents.service import IncidentService
from padang112.incidents.store import IncidentError, IncidentStore
from padang112.planning.callers import Caller, draw, lognormal
from padang112.planning.clockwork import Clockwork
from padang112.planning.profile import Profile
from padang112.planning.seatlog import SeatLog
from padang112.stats.service_level import WIB
from padang112.storage.apply import CALL_COLUMNS, STATE_TIME_COLUMNS
from padang112.storage.db import create_engine
from padang112.storage.models import Base
from padang112.storage.records import CallRecord

AFTER_CALL_WORK = "after_call_work"
START_HOUR = 7  # a simulated day runs from the start of the pagi shift to the end of the malam shift
PROMPT_S = {GREETING: 8.0}  # seconds a prompt plays; others about 3 s
DRAIN_S = 2 * 3600.0  # after the last arrival, calls in progress and agency tasks go on this long
AGENCY_CV = 0.8


@dataclass(frozen=True)
class DayResult:
    profile: Profile
    seed: int
    start: datetime
    end: datetime
    calls: list[CallRecord]
    incidents: list[Incident]
    callbacks_created: list[datetime]
    seats: SeatLog
    staffed: list[int]  # seats on duty in each hour of the window
    wall_s: float  # how long the run took, seconds
    commands: int  # commands the room handled


def staffing_of(profile: Profile, hours: int, start_hour: int = START_HOUR) -> list[int]:
    return [profile.seats_at_hour((start_hour + h) % 24) for h in range(hours)]


class VirtualDay:
    def __init__(
        self,
        profile: Profile,
        seed: int,
        day: date,
        *,
        hours: float = 24.0,
        start_hour: int = START_HOUR,
        seats_by_hour: Sequence[int] | None = None,
        press_ready: bool = True,
    ) -> None:
        self.profile = profile
        self.seed = seed
        self.hours = hours
        self.start = datetime(day.year, day.month, day.day, start_hour, tzinfo=WIB)
        self.staffed = list(seats_by_hour or staffing_of(profile, math.ceil(hours), start_hour))
        self.callers = draw(profile, seed, start_hour * 3600.0, hours)
        self.rng = random.Random(seed ^ 0x5EA7)  # the call takers' own dice, apart from the callers'
        seats = [f"seat{n:02d}" for n in range(1, max(self.staffed) + 1)]
        # simulated phones never refuse or drop a call: a short talk is a call taker's choice (min_talk_s=0)
        policy = Policy(profile.ring_timeout_s, profile.wrap_up_s, profile.position_announce_s, False, min_talk_s=0.0)
        self.room = Room(seats, policy, "/nonexistent")
        self.clock = Clockwork()
        self.pranks = PrankScores()
        self.catalog = load_catalog()
        self.on_duty: set[str] = set()
        self.by_call: dict[str, Caller] = {}
        self.records: dict[str, dict[str, object]] = {}
        self.log = SeatLog()
        self.callbacks_created: list[datetime] = []
        self.callback_numbers: set[str] = set()
        self.noted: set[str] = set()
        self.commands = 0
        self.flagged = 0  # calls that arrived from a number the prank scores flag
        self.press_ready = press_ready  # False: seats leave wrap-up only by the room's timer (as in a replay)

    def at(self) -> datetime:
        return self.start + timedelta(seconds=self.clock.now)

    async def run(self) -> DayResult:
        began = time.perf_counter()
        engine = create_engine("sqlite+aiosqlite:///:memory:", poolclass=StaticPool)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.create_all)
            self.callbacks = CallbackStore(engine, self.at)
            self.incidents = IncidentStore(engine, self.at)
            self.service = IncidentService(self.incidents, lambda _message: None, ack_deadline_s)
            for seat in self.room.seats:
                await self.handle(c.SeatRegistration(seat, True))
            for h in range(len(self.staffed)):
                self.clock.at(h * 3600.0, functools.partial(self.duty, h))
            for caller in self.callers:
                self.clock.at(caller.at_s, functools.partial(self.arrive, caller))
            end_s = self.hours * 3600.0
            await self.clock.run(end_s + DRAIN_S)
            self.log.close(self.at())
            end = self.start + timedelta(seconds=end_s)
            incidents = await self.incidents.touching(self.start, end)
        finally:
            await engine.dispose()
        calls = [CallRecord(**fields) for fields in self.records.values()]  # type: ignore[arg-type]
        return DayResult(
            self.profile,
            self.seed,
            self.start,
            end,
            calls,
            incidents,
            self.callbacks_created,
            self.log,
            self.staffed,
            time.perf_counter() - began,
            self.commands,
        )

    # ---- the room ------------------------------------------------------------------------------------------
    async def handle(self, command: c.Command) -> None:
        now = self.at()
        decision = self.room.handle(command, now)
        self.commands += 1
        for event in decision.events:
            await self.on_event(event)
        for effect in decision.effects:
            self.carry_out(effect)

    def later(self, delay: float, command: c.Command, key: str | None = None) -> None:
        self.clock.after(delay, lambda: self.handle(command), key)

    # ---- the switch ----------------------------------------------------------------------------------------
    def carry_out(self, effect: fx.Effect) -> None:
        if isinstance(effect, fx.StartTimer):
            self.later(effect.delay_s, effect.command, f"timer:{effect.key}")
        elif isinstance(effect, fx.CancelTimer):
            self.clock.cancel(f"timer:{effect.key}")
        elif isinstance(effect, fx.PlayPrompts):
            length = sum(PROMPT_S.get(p, 3.0) for p in effect.prompts)
            self.later(length, c.PromptsFinished(effect.call_id), f"prompts:{effect.call_id}")
        elif isinstance(effect, fx.RingSeat):
            self.ring(effect)
        elif isinstance(effect, fx.Bridge):
            self.talk(effect.call_id)
        elif isinstance(effect, fx.Hangup):
            self.clock.cancel(f"answer:{effect.channel}")
            if effect.channel == f"ch-{effect.call_id}":  # the caller's side is hung up: they are gone
                self.clock.cancel(f"patience:{effect.call_id}")
                self.clock.cancel(f"talk:{effect.call_id}")
        # Answer, StartHoldMusic, StartRecording, DestroyBridge, FallbackMembership: nothing to simulate

    # ---- people --------------------------------------------------------------------------------------------
    async def arrive(self, caller: Caller) -> None:
        call_id = f"sim{caller.n}"
        self.by_call[call_id] = caller
        flagged = self.pranks.flagged(caller.number, self.at())
        self.flagged += flagged
        arrived = c.CallArrived(call_id, f"ch-{call_id}", caller.number, "", caller.carrier, "112", flagged)
        self.later(caller.patience_s, c.CallerHungUp(call_id), f"patience:{call_id}")
        await self.handle(arrived)

    def ring(self, ring: fx.RingSeat) -> None:
        if self.rng.random() < self.profile.no_answer_share:
            return  # rings out: the room's ring timer fires
        delay = lognormal(self.rng, self.profile.answer_s, self.profile.cv) if self.profile.answer_s else 0.0
        self.later(delay, c.SeatLegAnswered(ring.call_id, ring.seat, ring.leg), f"answer:{ring.leg}")

    def talk(self, call_id: str) -> None:
        caller, call = self.by_call[call_id], self.room.calls[call_id]
        self.clock.cancel(f"patience:{call_id}")
        ends = self.profile.classes[caller.cls].ends
        done: c.Command
        if ends == "caller":
            done = c.CallerHungUp(call_id)
        else:
            done = c.SeatLegHungUp(call_id, call.seat or "", call.leg or "")
        self.later(caller.talk_s, done, f"talk:{call_id}")

    async def after_call(self, seat: str, caller: Caller, call_id: str) -> None:
        cls = self.profile.classes[caller.cls]
        self.annotate(call_id, cls.disposition)
        if caller.incident_type:
            self.clock.after(caller.wrap_s, lambda: self.report_incident(caller, call_id, seat))
        if not self.press_ready:
            return
        if caller.wrap_s > self.profile.wrap_up_s:
            self.later(0.0, c.SeatPause(seat, AFTER_CALL_WORK))
        left = {(SeatState.WRAP_UP, None), (SeatState.PAUSED, AFTER_CALL_WORK)}
        self.clock.after(caller.wrap_s, lambda: self.ready_if(seat, left))

    async def ready_if(self, seat: str, left: set[tuple[SeatState, str | None]]) -> None:
        """The call taker presses Siap, if the seat is still on duty and in a state they left it in."""
        state = self.room.seats[seat]
        if seat in self.on_duty and (state.state, state.reason) in left:
            await self.handle(c.SeatReady(seat))

    async def duty(self, hour: int) -> None:
        wanted = {f"seat{n:02d}" for n in range(1, self.staffed[hour] + 1)}
        for seat in sorted(wanted - self.on_duty):
            self.on_duty.add(seat)
            await self.handle(c.SeatSignIn(seat, f"sim-{seat}"))
        for seat in sorted(self.on_duty - wanted):
            self.on_duty.discard(seat)
            await self.handle(c.SeatSignOut(seat))

    # ---- what the room decided -----------------------------------------------------------------------------
    async def on_event(self, event: DomainEvent) -> None:
        if isinstance(event, SeatTransition):
            self.log.move(event.seat, event.at, event.to_state, event.reason)
            if event.reason == PauseReason.NOT_RESPONDING.value:
                back: set[tuple[SeatState, str | None]] = {(SeatState.PAUSED, PauseReason.NOT_RESPONDING.value)}
                self.clock.after(self.profile.back_after_pause_s, lambda: self.ready_if(event.seat, back))
            return
        if not isinstance(event, CallTransition):
            return
        self.fold(event)
        caller = self.by_call.get(event.call_id)
        if caller is None:
            return
        if event.to_state == "received" and caller.number in self.callback_numbers:
            if await self.callbacks.arrived(event.call_id, caller.number) is not None:
                self.noted.add(event.call_id)
        elif event.to_state == "connected" and event.call_id in self.noted:
            await self.callbacks.answered(event.call_id)
        elif event.to_state == "abandoned" and callable_number(caller.number):
            item = await self.callbacks.abandoned(
                event.call_id, caller.number, caller.carrier, self.profile.callback_deadline_s
            )
            self.callback_numbers.add(caller.number)
            if item.first_call_id == event.call_id:
                self.callbacks_created.append(event.at)
        elif event.to_state == "ended" and event.seat:
            await self.after_call(event.seat, caller, event.call_id)

    def fold(self, event: CallTransition) -> None:
        """The call's row as the storage layer would write it (same columns, same rules)."""
        row = self.records.setdefault(
            event.call_id, {"id": event.call_id, "via": "controller", "received_at": event.at}
        )
        row["state"], row["updated_at"] = event.to_state, event.at
        if event.seat is not None:
            row["seat"] = event.seat
        column = STATE_TIME_COLUMNS.get(event.to_state)
        if column is not None:
            row[column] = event.at
        row.update({k: v for k, v in event.data.items() if k in CALL_COLUMNS})

    def annotate(self, call_id: str, disposition: str) -> None:
        self.records[call_id]["disposition"] = disposition
        if disposition in PRANK_DISPOSITIONS:
            self.pranks.mark(self.by_call[call_id].number, self.at(), call_id)

    # ---- incidents and agencies ----------------------------------------------------------------------------
    async def report_incident(self, caller: Caller, call_id: str, seat: str) -> None:
        kind = self.catalog.get(caller.incident_type or "other")
        draft = IncidentDraft(
            type_code=kind.code,
            priority=kind.default_priority,
            kecamatan=caller.kecamatan,
            description="simulasi / simulated",
            victims=caller.victims,
            agencies=default_agencies(kind.code, caller.victims, self.catalog),
            call_id=call_id,
        )
        incident = await self.incidents.create(draft, f"sim-{seat}", ack_deadline_s)
        for task in incident.tasks:
            agency = task.agency
            ack = lognormal(self.rng, self.profile.ack_s[agency], AGENCY_CV)
            resolve = ack + lognormal(self.rng, self.profile.resolve_min[agency] * 60.0, AGENCY_CV)
            self.clock.after(ack, functools.partial(self.task_moves, incident.id, agency, TaskState.ACKNOWLEDGED))
            self.clock.after(resolve, functools.partial(self.task_moves, incident.id, agency, TaskState.RESOLVED))
        if incident.tasks:
            deadline = (incident.tasks[0].ack_deadline - self.at()).total_seconds()
            self.clock.after(deadline + 0.001, self.escalate)

    async def task_moves(self, incident_id: int, agency: str, to: TaskState) -> None:
        with contextlib.suppress(IncidentError):  # cancelled or already moved: an agency bot does not argue
            await self.incidents.set_task_state(incident_id, agency, to, f"sim-{agency}")

    async def escalate(self) -> None:
        await self.service.escalate_overdue(self.at())
