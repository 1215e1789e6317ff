"""Several Asterisk nodes (issue 13): their configuration, how a call id names its node, the room's rules when a
node is lost or reconciled alone, and the effect runner sending each call's requests to that call's node."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112 import config, nodes
from padang112.callbacks.store import CallbackStore
from padang112.domain import callback_attempt as ca
from padang112.domain import commands as c
from padang112.domain import duty_alerts as da
from padang112.domain import effects as fx
from padang112.domain.callbacks import lost_caller
from padang112.domain.calls import NODE_LOST, CallState
from padang112.domain.events import CallTransition, RecordingFinished, SeatTransition
from padang112.domain.legs import LegUp
from padang112.domain.line_ids import on_node, split
from padang112.domain.room import Policy, Room
from padang112.domain.seat_views import SeatView, SeatViews
from padang112.domain.seats import SeatState
from padang112.edge import topology
from padang112.pbx import render
from padang112.telephony.callback_dialer import CallbackDialer
from padang112.telephony.dial_policy import DialPolicy
from padang112.telephony.duty_caller import DutyCaller
from padang112.telephony.executor import ChannelMedia, EffectRunner
from padang112.telephony.snapshot import PlacedChannel, Snapshot, placed_of
from tests.unit.conftest import FakeClock
from tests.unit.test_ari_transcripts import Incidents
from tests.unit.test_callback_dialer import Desk, always, feed, stasis
from tests.unit.test_effect_runner import FakeAri, no_membership

T0 = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
TWO_NODES = """
[[nodes]]
name = "n1"
ari_url = "http://10.0.0.1:8088"
ami_host = "10.0.0.1"
ami_port = 5038
sip = "10.0.1.1:5060"

[[nodes]]
name = "n2"
ari_url = "http://10.0.0.2:8088"
ami_host = "10.0.0.2"
ami_port = 5038
sip = "10.0.1.2:5060"
"""


# ---- configuration ------------------------------------------------------------------------------------------


def test_by_default_the_one_node_is_this_boxs_asterisk() -> None:
    settings = config.Settings()
    (node,) = nodes.nodes(settings)
    ast = settings.asterisk
    assert node == config.Node("main", ast.ari_url, ast.manager_address, ast.ami_port, "127.0.0.1:5060")
    assert topology.nodes(settings) == [("127.0.0.1", 5060)]


def test_nodes_from_the_file_and_the_edge_dispatches_to_them(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(TWO_NODES)
    settings = config.load(path, environ={})
    assert [n.name for n in nodes.nodes(settings)] == ["n1", "n2"]
    assert settings.nodes[1] == config.Node("n2", "http://10.0.0.2:8088", "10.0.0.2", 5038, "10.0.1.2:5060")
    assert topology.nodes(settings) == [("10.0.1.1", 5060), ("10.0.1.2", 5060)]
    path.write_text(TWO_NODES.replace('sip = "10.0.1.2:5060"', 'sip = "10.0.1.2:5060"\nport = 1'))
    with pytest.raises(ValueError, match=r"unknown setting nodes\.port"):
        config.load(path, environ={})


@pytest.mark.parametrize("names", [["n1", "n1"], ["n-1", "n2"], ["", "n2"]])
def test_node_names_that_could_not_tell_call_ids_apart_are_refused(names: list[str]) -> None:
    settings = config.Settings(nodes=[config.Node(n, "http://127.0.0.1:8088", "127.0.0.1", 5038, "1:1") for n in names])
    with pytest.raises(ValueError, match="nodes"):
        nodes.check(settings)


def test_a_call_id_names_its_node_and_anything_else_is_the_first_nodes() -> None:
    names = ["n1", "n2"]
    assert nodes.node_of("n2-1796235370.23", names) == "n2"
    assert nodes.node_of("leg-n2-1796235370.23-seat01-ab1", names) == "n1"  # a leg is routed by its call id
    assert nodes.node_of("1796235370.23", names) == "n1"  # the single box: no systemname
    assert nodes.node_of("cb-12-seat-a1", names) == "n1"


def test_each_node_renders_its_own_systemname_and_entity_id(tmp_path: Path) -> None:
    settings = config.Settings(state_dir=tmp_path)
    secrets = settings.secrets()
    assert "systemname" not in render.render_all(settings, secrets)["asterisk.conf"]  # the single box unchanged
    ids = set()
    for name in ("n1", "n2"):
        settings.asterisk.systemname = name
        text = render.render_all(settings, secrets)["asterisk.conf"]
        assert f"systemname = {name} " in text
        ids.add(nodes.entity_id(name))
        assert f"entityid = {nodes.entity_id(name)}" in text
    assert len(ids) == 2 and all(len(i.split(":")) == 6 for i in ids)


# ---- the room across nodes ----------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.room = Room(["seat01", "seat02"], Policy(), "/rec")
        self.now = T0

    def do(self, command: c.Command) -> tuple[list, list]:
        self.now += timedelta(seconds=1)
        decision = self.room.handle(command, self.now)
        return decision.events, decision.effects

    def arrive(self, call_id: str, node: str) -> None:
        self.do(c.CallArrived(call_id, call_id, "081234567890", "", "xl", "112", node=node))


def test_callers_of_both_nodes_wait_in_one_line_in_arrival_order_and_ring_on_their_own_node() -> None:
    clock = Clock()
    for i, node in enumerate(["n1", "n2", "n1", "n2"]):
        clock.arrive(f"{node}-{i}", node)
    assert [entry[-1] for entry in clock.room.queue] == ["n1-0", "n2-1", "n1-2", "n2-3"]
    assert clock.room.calls["n2-1"].node == "n2"
    events, effects = clock.do(c.SeatRegistration("seat01", True))
    rings = [e for e in effects if isinstance(e, fx.RingSeat)]
    assert [r.call_id for r in rings] == ["n1-0"]
    events, effects = clock.do(c.SeatRegistration("seat02", True))
    assert [e.call_id for e in effects if isinstance(e, fx.RingSeat)] == ["n2-1"]
    events, _ = clock.do(c.CallArrived("n2-9", "n2-9", "0812", "", "xl", "112", node="n2"))
    received = events[0]
    assert isinstance(received, CallTransition) and received.data["node"] == "n2"


def test_a_lost_node_takes_its_calls_to_the_call_back_list_and_leaves_the_others() -> None:
    clock = Clock()
    clock.do(c.SeatRegistration("seat01", True))
    clock.do(c.SeatRegistration("seat02", True))
    clock.arrive("n2-talking", "n2")
    clock.arrive("n2-ringing", "n2")
    clock.arrive("n2-waiting", "n2")
    clock.arrive("n1-waiting", "n1")
    talking = clock.room.calls["n2-talking"]
    clock.do(c.SeatLegAnswered(talking.id, talking.seat or "", talking.leg or ""))
    assert clock.room.calls["n2-ringing"].state == CallState.OFFERED
    ringing_seat = clock.room.calls["n2-ringing"].seat

    events, effects = clock.do(c.NodeLost("n2"))

    ends = {e.call_id: e for e in events if isinstance(e, CallTransition)}
    assert ends["n2-talking"].to_state == "ended" and ends["n2-talking"].data["ended_by"] == NODE_LOST
    assert ends["n2-waiting"].to_state == "abandoned" and ends["n2-waiting"].data["ended_by"] == NODE_LOST
    assert ends["n2-ringing"].to_state == "abandoned"
    assert all(lost_caller(ends[call]) for call in ("n2-talking", "n2-ringing", "n2-waiting"))
    assert any(isinstance(e, RecordingFinished) and e.call_id == "n2-talking" for e in events)
    assert not any(isinstance(e, fx.Hangup) for e in effects)  # nothing to hang up on a dead node
    seats = {e.seat: e.to_state for e in events if isinstance(e, SeatTransition)}
    assert seats[talking.seat or ""] == "wrap_up"
    # the seat that was ringing the lost caller is not blamed: it takes the other node's caller at once
    assert ringing_seat is not None and clock.room.seats[ringing_seat].state == SeatState.OFFERED
    assert clock.room.seats[ringing_seat].call_id == "n1-waiting"
    assert set(clock.room.calls) == {"n1-waiting"}


def test_a_node_dead_before_this_controller_started_has_its_stored_calls_closed_for_the_call_back_list() -> None:
    clock = Clock()
    clock.arrive("n1-live", "n1")
    stored = {"n2-waiting": "queued", "n2-talking": "connected", "n1-live": "queued"}  # n1's is not n2's: ignored
    events, _ = clock.do(c.NodeLost("n2", {k: v for k, v in stored.items() if k.startswith("n2-")}))
    ends = {e.call_id: e for e in events if isinstance(e, CallTransition)}
    assert (ends["n2-waiting"].from_state, ends["n2-waiting"].to_state) == ("queued", "abandoned")
    assert (ends["n2-talking"].from_state, ends["n2-talking"].to_state) == ("connected", "ended")
    assert all(lost_caller(e) for e in ends.values()) and set(ends) == {"n2-waiting", "n2-talking"}
    assert "n1-live" in clock.room.calls
    events, _ = clock.do(c.NodeLost("n2", {"n2-waiting": "queued"}))  # told twice: closed once
    assert not [e for e in events if isinstance(e, CallTransition)]


def test_a_nodes_reconcile_rebuilds_only_its_own_calls_and_seats() -> None:
    clock = Clock()
    clock.do(c.SeatRegistration("seat01", True))
    clock.arrive("n1-a", "n1")
    call = clock.room.calls["n1-a"]
    clock.do(c.SeatLegAnswered(call.id, call.seat or "", call.leg or ""))
    clock.arrive("n1-b", "n1")
    waiting_n2 = c.LiveChannel("n2-x", "n2-x", "inbound", answered=True, caller_number="0812", created="1")

    events, _ = clock.do(c.Reconcile((waiting_n2,), {}, ("seat01", "seat02"), node="n2"))

    assert clock.room.calls["n1-a"].state == CallState.CONNECTED and clock.room.seats["seat01"].state == SeatState.BUSY
    assert "n1-b" in clock.room.calls and clock.room.calls["n2-x"].node == "n2"
    rebuilt = [e.call_id for e in events if isinstance(e, CallTransition) and e.data.get("reconciled")]
    assert set(rebuilt) == {"n2-x"}  # received, queued
    assert clock.room.seats["seat02"].call_id == "n1-b"  # one line: the older caller of n1 first

    # n1 comes back empty (restarted): its calls vanish, n2's stay
    events, _ = clock.do(c.Reconcile((), {}, ("seat01", "seat02"), node="n1"))
    assert set(clock.room.calls) == {"n2-x"}


# ---- the lines (duty phones, call-backs) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("names", "linked", "node"),
    [
        (["main"], [], ""),  # the single box: ids as before, whether its ARI is there or not
        (["main"], ["main"], ""),
        (["n1", "n2"], ["n1", "n2"], "n1"),  # the first node while it is linked
        (["n1", "n2"], ["n2"], "n2"),  # n1 dead or its ARI away: the next linked one
        (["n1", "n2", "n3"], ["n3"], "n3"),
        (["n1", "n2", "n3"], ["n3", "n2"], "n2"),  # in the configured order
        (["n1", "n2"], [], "n1"),  # none linked: the first, where the attempt fails and the line retries
    ],
)
def test_a_line_places_its_call_on_the_first_linked_node(names: list[str], linked: list[str], node: str) -> None:
    assert nodes.line_node(names, linked) == node


@pytest.mark.parametrize(
    ("channel", "prefix", "split_as"),
    [
        ("duty-4-pupr-ab1", "duty-", ("", "duty-4-pupr-ab1")),  # the single box
        ("n2-duty-4-pupr-ab1", "duty-", ("n2", "duty-4-pupr-ab1")),
        ("n2-cb-5-seat-ab1", "cb-", ("n2", "cb-5-seat-ab1")),
        ("n2-bridge-cb-5-ab1", "bridge-cb-", ("n2", "bridge-cb-5-ab1")),
        ("n2-cb-5-seat-ab1", "duty-", None),  # another line's
        ("duty-4-pupr-ab1", "cb-", None),
        ("n2-1796235370.23", "duty-", None),  # the room's: a caller, its seat leg, its hand-off leg
        ("leg-n2-1796235370.23-seat01-ab1", "cb-", None),
        ("hoff-n2-1796235370.23-pupr-ab1", "duty-", None),
        ("-duty-4", "duty-", None),
        ("", "duty-", None),
    ],
)
def test_a_lines_channel_is_told_by_its_prefix_after_the_node(
    channel: str, prefix: str, split_as: tuple[str, str] | None
) -> None:
    assert split(channel, prefix) == split_as
    if split_as is not None:
        assert on_node(*split_as) == channel


def test_a_call_backs_legs_and_bridge_name_its_node_and_are_parsed_back_with_it() -> None:
    legs = ca.Legs(5, "ab1", "n2")
    assert (legs.seat_leg, legs.caller_leg, legs.bridge) == (
        "n2-cb-5-seat-ab1",
        "n2-cb-5-caller-ab1",
        "n2-bridge-cb-5-ab1",
    )
    assert {nodes.node_of(i, ["n1", "n2"]) for i in (legs.seat_leg, legs.caller_leg, legs.bridge)} == {"n2"}
    assert ca.parse_leg("n2-cb-5-caller-ab1") == (legs, "caller")
    assert ca.parse_leg("cb-5-caller-ab1") == (ca.Legs(5, "ab1"), "caller")  # the single box, as before
    live = [ca.LiveLeg(leg, True, legs.bridge) for leg in (legs.seat_leg, legs.caller_leg)]
    plan = ca.reconcile(live, [legs.bridge, "n1-bridge-cb-6-ab2", "bridge-n1-17.1"], {5: "seat01"}, ["seat01"])
    assert [a.legs for a in plan.adopted] == [legs]  # a restarted controller adopts it on its node
    assert plan.destroy == ["n1-bridge-cb-6-ab2"] and not plan.hang_up  # a room's bridge is not the line's


async def test_a_duty_call_placed_on_n2_has_every_request_on_n2_and_is_reconciled_with_every_nodes_channels() -> None:
    clients, runner = _two_node_runner()
    where = ["n2"]
    duty = DutyCaller(
        runner,
        DialPolicy({"pupr": "duty_pupr", "dlh": "duty_dlh"}, set(), lambda *a: None),
        Incidents(),
        2.0,
        8.0,
        where=lambda: where[0],
    )  # type: ignore[arg-type]
    now = datetime.now(UTC)
    await duty._carry_out(duty.alerts.sync({(1, "pupr")}, now))
    (channel,) = duty.alerts._by_channel
    assert channel.startswith("n2-duty-1-pupr-")
    await duty._on(LegUp(channel))  # answered: the notice plays
    await duty._carry_out([da.HangUp(channel)])
    assert not clients["n1"].requests
    assert [(m, p.split("/")[1]) for m, p, _ in clients["n2"].requests] == [
        ("POST", "channels"),
        ("POST", "channels"),
        ("DELETE", "channels"),
    ]
    # n1 back: the next alert goes there; a reconcile sees both nodes' channels and keeps both calls
    where[0] = "n1"
    await duty._carry_out(duty.alerts.sync({(1, "pupr"), (2, "dlh")}, now))
    both = placed_of(
        [Snapshot(placed=(PlacedChannel(ch, False, None),)) for ch in duty.alerts._by_channel]
        + [Snapshot(placed=(PlacedChannel("n2-duty-9-dlh-old1", False, None),))]
    )
    assert sorted(nodes.node_of(ch, ["n1", "n2"]) for ch in duty.alerts._by_channel) == ["n1", "n2"]
    assert duty.alerts.reconcile([ch.id for ch in both.placed], now) == [da.HangUp("n2-duty-9-dlh-old1")]


async def test_a_call_back_placed_on_n2_rings_dials_bridges_records_and_hangs_up_on_n2_only(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    store = CallbackStore(engine, clock)
    item = await store.abandoned("n2-17.1", "+6281234500009", "xl", 300)
    clients, runner = _two_node_runner()
    policy = DialPolicy({}, {"xl"}, always)
    dialer = CallbackDialer(runner, policy, store, Desk(), lambda m: None, 300, 30, "/rec", where=lambda: "n2")
    await dialer.place(item.id, "rina", "seat01")
    (legs,) = {attempt.legs for attempt in dialer._attempts.values()}
    seat_leg, caller_leg, bridge = legs.seat_leg, legs.caller_leg, legs.bridge
    assert (seat_leg, bridge) == (f"n2-cb-{item.id}-seat-{legs.token}", f"n2-bridge-cb-{item.id}-{legs.token}")
    await feed(dialer, stasis("StasisStart", seat_leg))  # the seat answered: the caller is dialled, on n2 too
    await feed(dialer, stasis("StasisStart", caller_leg))
    await feed(dialer, stasis("ChannelDestroyed", caller_leg, cause=16))
    assert not clients["n1"].requests
    paths = [path for _, path, _ in clients["n2"].requests]
    assert paths[:3] == [f"/channels/{seat_leg}", f"/channels/{seat_leg}/ring", f"/channels/{caller_leg}"]
    assert f"/bridges/{bridge}/addChannel" in paths and f"/bridges/{bridge}/record" in paths
    assert paths[-3:] == [f"/channels/{seat_leg}", f"/channels/{caller_leg}", f"/bridges/{bridge}"]  # hung up
    assert (await store.get(item.id)).state.value == "done"


# ---- the runner ---------------------------------------------------------------------------------------------


def _two_node_runner() -> tuple[dict[str, FakeAri], EffectRunner]:
    clients = {"n1": FakeAri(), "n2": FakeAri()}

    async def notes(channel: str) -> frozenset[str]:
        return frozenset()

    runner = EffectRunner(
        clients["n1"],  # type: ignore[arg-type]
        lambda command: None,
        ChannelMedia(),
        no_membership,
        lambda agency: f"PJSIP/duty-{agency}",
        notes,
        ari_of=lambda call_id: clients[nodes.node_of(call_id, ["n1", "n2"])],  # type: ignore[arg-type,return-value]
    )
    return clients, runner


async def test_every_request_of_a_call_goes_to_that_calls_node() -> None:
    clients, runner = _two_node_runner()
    leg = "leg-n2-17.1-seat01-ab1"
    for effect in (
        fx.Answer("n2-17.1", "n2-17.1"),
        fx.RingSeat("n2-17.1", "seat01", leg, "0812", "", 4),
        fx.Bridge("n2-17.1", "bridge-n2-17.1", ("n2-17.1", leg)),
        fx.Answer("n1-17.2", "n1-17.2"),
    ):
        await runner.perform(effect)
    assert [path for _, path, _ in clients["n2"].requests][:2] == ["/channels/n2-17.1/answer", f"/channels/{leg}"]
    assert any(path == "/bridges/bridge-n2-17.1/addChannel" for _, path, _ in clients["n2"].requests)
    assert [path for _, path, _ in clients["n1"].requests] == ["/channels/n1-17.2/answer"]


# ---- the seats as every node sees them ----------------------------------------------------------------------


def test_a_seat_is_online_when_some_node_reaches_it_and_names_the_nodes_that_do_not() -> None:
    views = SeatViews()
    assert views.reached("n1", "seat01", True) == SeatView(True, frozenset(), False)
    views.rebuilt("n2", registered=(), in_use=())
    assert views.view("seat01") == SeatView(True, frozenset({"n2"}), False)  # n2 has not qualified it yet
    assert views.reached("n2", "seat01", True).unreachable == frozenset()
    assert views.reached("n1", "seat01", False) == SeatView(True, frozenset({"n1"}), False)
    views.forget("n2")  # n2 lost: only n1's word is left, and n1 does not reach it
    assert views.view("seat01") == SeatView(False, frozenset({"n1"}), False)


def test_a_seats_device_is_in_use_when_any_node_says_so() -> None:
    views = SeatViews()
    assert views.in_use("n1", "seat02", True).in_use
    assert views.in_use("n2", "seat02", False).in_use  # n1's fallback-queue call still holds it
    views.rebuilt("n1", registered=("seat02",), in_use=())
    assert not views.view("seat02").in_use


def test_a_caller_gets_only_a_seat_its_node_reaches_and_does_not_hold_up_the_others() -> None:
    clock = Clock()
    clock.do(c.SeatRegistration("seat01", True, unreachable=frozenset({"n2"})))
    clock.arrive("n2-first", "n2")
    clock.arrive("n1-second", "n1")
    assert clock.room.calls["n1-second"].seat == "seat01"  # n2's caller was passed over, not the line stopped
    assert [entry[-1] for entry in clock.room.queue] == ["n2-first"]
    _, effects = clock.do(c.SeatRegistration("seat02", True))
    assert [e.call_id for e in effects if isinstance(e, fx.RingSeat)] == ["n2-first"]
    # a reconcile brings the nodes that do not reach a seat too
    clock.do(c.Reconcile((), {}, ("seat01", "seat02"), node="n2", unreachable={"seat02": frozenset({"n1"})}))
    assert clock.room.seats["seat02"].unreachable == frozenset({"n1"})  # its n2 caller gone with the snapshot
