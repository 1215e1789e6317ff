"""Call and seat figures, derived from the domain events the controller publishes.

:class:`RoomMetrics` is a controller subscriber, like the console's live hub: it counts transitions as they are
published and keeps its own small picture of the calls still waiting and of each seat's state, so a scrape
reads no room internals. Calls imported from the fallback queue are published too (with ``via=fallback``) and
are counted with that label.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric

from padang112.domain.calls import TERMINAL, CallState
from padang112.domain.events import CallTransition, DomainEvent, SeatPhoneFailed, SeatTransition
from padang112.domain.seats import PauseReason, SeatState

ANSWER_BUCKETS_S = (5.0, 10.0, 15.0, 20.0, 30.0, 60.0)  # NENA: 90 % within 15 s, 95 % within 20 s
WAITING = frozenset({CallState.RECEIVED.value, CallState.QUEUED.value, CallState.OFFERED.value})
FINISHED = frozenset(state.value for state in TERMINAL)
RECENT_CALLS = 5000  # carriers of recent calls remembered (a handed-over call comes back from the fallback)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Call:
    carrier: str
    via: str
    since: datetime  # when the caller started waiting (arrival)
    state: str


class RoomMetrics:
    """Counters updated per event (:meth:`on_event`) and gauges computed at scrape (:meth:`collect`)."""

    def __init__(self, registry: CollectorRegistry, seats: Iterable[str], clock: Clock = utc_now) -> None:
        self._clock = clock
        calls = ["carrier", "via"]
        self.offered = Counter("padang112_calls_offered", "Calls that reached the room", calls, registry=registry)
        self.answered = Counter("padang112_calls_answered", "Calls a seat answered", calls, registry=registry)
        self.abandoned = Counter(
            "padang112_calls_abandoned", "Callers who hung up before a seat answered", calls, registry=registry
        )
        self.completed = Counter(
            "padang112_calls_completed",
            "Calls that ended, by outcome (ended after an answer, abandoned, handed_over to the fallback queue)",
            ["carrier", "outcome"],
            registry=registry,
        )
        self.answer_time = Histogram(
            "padang112_call_answer_time_seconds",
            "From the call's arrival to a seat answering",
            ["carrier"],
            buckets=ANSWER_BUCKETS_S,
            registry=registry,
        )
        self.ring_no_answer = Counter(
            "padang112_ring_no_answer_pauses",
            "Seats paused because they let a call ring out",
            ["seat"],
            registry=registry,
        )
        self.phone_failures = Counter(
            "padang112_seat_phone_failures",
            "Calls a seat's phone refused or dropped at once, by kind (busy, rejected, incompatible, unreachable, "
            "unknown, no_ring, dropped)",
            ["seat", "kind"],
            registry=registry,
        )
        self.fallback_calls = Counter(
            "padang112_fallback_calls",
            "Calls handled by Asterisk's fallback queue (counted when imported)",
            ["carrier"],
            registry=registry,
        )
        self._calls: dict[str, _Call] = {}
        self._carriers: OrderedDict[str, str] = OrderedDict()
        self._seats: dict[str, tuple[str, str | None]] = dict.fromkeys(seats, (SeatState.OFFLINE.value, None))
        registry.register(self)

    # ---- events ------------------------------------------------------------------------------------
    def on_event(self, event: DomainEvent) -> None:
        if isinstance(event, CallTransition):
            self._call(event)
        elif isinstance(event, SeatTransition):
            self._seat(event)
        elif isinstance(event, SeatPhoneFailed):
            self.phone_failures.labels(event.seat, event.kind).inc()

    def _call(self, event: CallTransition) -> None:
        carrier = str(event.data.get("carrier") or self._carriers.get(event.call_id, "unknown"))
        self._remember(event.call_id, carrier)
        call = self._calls.get(event.call_id)
        via = str(event.data.get("via") or (call.via if call else "controller"))
        to = event.to_state
        if event.from_state is None and to == CallState.RECEIVED.value:
            self.offered.labels(carrier, via).inc()
        if via == "fallback" and to == CallState.QUEUED.value:
            self.fallback_calls.labels(carrier).inc()
        if call is None:
            call = _Call(carrier, via, event.at, to)
        call.via = via
        if to == CallState.CONNECTED.value:
            self.answered.labels(carrier, via).inc()
            self.answer_time.labels(carrier).observe(max(0.0, (event.at - call.since).total_seconds()))
        elif to == CallState.ABANDONED.value:
            self.abandoned.labels(carrier, via).inc()
        if to in FINISHED:
            self.completed.labels(carrier, to).inc()
            self._calls.pop(event.call_id, None)
            return
        call.state = to
        self._calls[event.call_id] = call

    def _remember(self, call_id: str, carrier: str) -> None:
        self._carriers[call_id] = carrier
        self._carriers.move_to_end(call_id)
        while len(self._carriers) > RECENT_CALLS:
            self._carriers.popitem(last=False)

    def _seat(self, event: SeatTransition) -> None:
        self._seats[event.seat] = (event.to_state, event.reason)
        if event.to_state == SeatState.PAUSED.value and event.reason == PauseReason.NOT_RESPONDING.value:
            self.ring_no_answer.labels(event.seat).inc()

    # ---- scrape ------------------------------------------------------------------------------------
    def collect(self) -> Iterator[Metric]:
        now = self._clock()
        waiting = [call for call in self._calls.values() if call.state in WAITING]
        yield GaugeMetricFamily(
            "padang112_callers_waiting", "Callers not yet answered (received, queued or ringing a seat)", len(waiting)
        )
        oldest = max(((now - call.since).total_seconds() for call in waiting), default=0.0)
        yield GaugeMetricFamily(
            "padang112_caller_oldest_wait_seconds", "How long the longest-waiting caller has waited", max(0.0, oldest)
        )
        seats = GaugeMetricFamily("padang112_seats", "Seats by state", labels=["state"])
        for state in SeatState:
            seats.add_metric([state.value], sum(1 for s, _ in self._seats.values() if s == state.value))
        yield seats
        paused = GaugeMetricFamily("padang112_seats_paused", "Paused seats by reason", labels=["reason"])
        for reason in sorted({r or "" for s, r in self._seats.values() if s == SeatState.PAUSED.value}):
            paused.add_metric(
                [reason], sum(1 for s, r in self._seats.values() if s == "paused" and (r or "") == reason)
            )
        yield paused
