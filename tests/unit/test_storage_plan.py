"""The pure half of applying events (``storage/apply.py`` ``plan``) and the chain's ``link_rows``: what a batch of
a call's events does to each table, before any statement runs. The statements themselves are proved on both
engines in test_storage.py and test_integrity.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from padang112.domain.events import (
    CallAnnotated,
    CallTransition,
    RecordingFinished,
    RecordingStarted,
    SeatPhoneFailed,
    SeatTransition,
)
from padang112.storage import chain
from padang112.storage.apply import grouped, plan, stored_state_needed

T0 = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


ARRIVAL = [  # the room's decision on CallArrived (bench/storage_calls.py replays such batches)
    CallTransition("c1", at(0), None, "received", data={"caller_number": "0812", "carrier": "xl", "other": 1}),
    CallTransition("c1", at(0), "received", "queued"),
    CallTransition("c1", at(0), "queued", "offered", seat="seat01"),
    SeatTransition("seat01", at(0), "available", "offered", call_id="c1"),
]


def test_a_new_call_is_one_row_with_its_last_state_its_times_and_only_the_call_columns_of_its_data() -> None:
    todo = plan(ARRIVAL, {})
    assert todo.created == {"c1": {"id": "c1", "via": "controller", "received_at": at(0)}}
    assert todo.changes["c1"] == {
        "state": "offered",
        "updated_at": at(0),
        "received_at": at(0),
        "queued_at": at(0),
        "offered_at": at(0),
        "seat": "seat01",
        "caller_number": "0812",
        "carrier": "xl",
    }
    assert [(e["from_state"], e["to_state"], e["kind"]) for e in todo.call_events] == [
        (None, "received", "transition"),
        ("received", "queued", "transition"),
        ("queued", "offered", "transition"),
    ]
    assert todo.call_events[0]["data"] == {"caller_number": "0812", "carrier": "xl", "other": 1}
    assert todo.seats == {
        "seat01": {"id": "seat01", "state": "offered", "reason": None, "call_id": "c1", "since": at(0)}
    }
    assert [e["to_state"] for e in todo.seat_events] == ["offered"]


def test_a_seat_moved_twice_in_a_batch_keeps_its_last_row_and_both_audit_rows() -> None:
    todo = plan(
        [
            SeatTransition("seat01", at(1), "busy", "wrap_up", call_id="c1"),
            SeatTransition("seat01", at(2), "wrap_up", "paused", reason="break"),
        ],
        {},
    )
    assert todo.seats["seat01"] == {
        "id": "seat01",
        "state": "paused",
        "reason": "break",
        "call_id": None,
        "since": at(2),
    }
    assert [(e["from_state"], e["to_state"]) for e in todo.seat_events] == [("busy", "wrap_up"), ("wrap_up", "paused")]


def test_a_note_repeats_the_state_and_seat_the_call_has_at_that_point_of_the_batch() -> None:
    failed = SeatPhoneFailed("seat01", at(1), "c1", "rejected", 21, 1, 5.0, False)
    note = CallAnnotated("c1", at(2), "disposition", "rina", {"disposition": "prank", "note": "x"})
    todo = plan([*ARRIVAL, failed, note], {})
    assert [(e["from_state"], e["to_state"], e["seat"], e["kind"]) for e in todo.call_events[3:]] == [
        ("offered", "offered", "seat01", "seat_phone_failed"),
        ("offered", "offered", "seat01", "disposition"),
    ]
    assert todo.call_events[4]["data"] == {"disposition": "prank", "note": "x", "by": "rina"}
    assert todo.changes["c1"]["disposition"] == "prank" and todo.changes["c1"]["updated_at"] == at(2)
    assert "note" not in todo.changes["c1"]


def test_only_calls_whose_batch_starts_with_a_note_need_their_stored_state() -> None:
    note = CallAnnotated("c2", at(2), "disposition", "rina", {"disposition": "genuine"})
    assert stored_state_needed([*ARRIVAL, CallAnnotated("c1", at(1), "handoff", "rina", {}), note]) == {"c2"}
    todo = plan([note], {"c2": ("ended", "seat03")})
    assert (todo.call_events[0]["from_state"], todo.call_events[0]["seat"]) == ("ended", "seat03")
    assert todo.created == {}  # a note never creates a call


def test_a_note_on_a_call_nobody_stored_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown call 'ghost'"):
        plan([CallAnnotated("ghost", at(1), "disposition", "rina", {})], {})


def test_a_recording_finished_in_its_own_batch_is_written_finished_else_left_to_update_the_stored_row() -> None:
    todo = plan(
        [
            RecordingFinished("c1", at(1), "r0", 30.0),  # started in an earlier batch
            RecordingStarted("c1", at(1), "r1", "/rec/r1.wav"),
            RecordingFinished("c1", at(9), "r1", 8.0),
        ],
        {},
    )
    assert todo.recordings == [
        {
            "call_id": "c1",
            "name": "r1",
            "path": "/rec/r1.wav",
            "started_at": at(1),
            "finished_at": at(9),
            "duration_s": 8.0,
        }
    ]
    assert [(f.name, f.duration_s) for f in todo.finished] == [("r0", 30.0)]
    assert todo.changes["c1"] == {"recording": "r1"}


def test_rows_with_the_same_columns_are_grouped_in_the_order_their_columns_first_came() -> None:
    rows = [{"a": 1}, {"a": 2, "b": 1}, {"a": 3}, {"b": 2, "a": 4}]
    assert grouped(rows) == [[{"a": 1}, {"a": 3}], [{"a": 2, "b": 1}, {"b": 2, "a": 4}]]


def test_link_rows_numbers_and_chains_new_rows_after_the_tail_it_is_given() -> None:
    rows = plan(ARRIVAL, {}).call_events
    last = chain.link_rows((41, "ab" * 32), "call_events", rows)
    assert [r["id"] for r in rows] == [42, 43, 44]
    assert rows[0]["prev_hash"] == "ab" * 32
    assert [r["prev_hash"] for r in rows[1:]] == [r["row_hash"] for r in rows[:-1]]
    assert rows[1]["row_hash"] == chain.link(rows[0]["row_hash"], "call_events", rows[1])
    assert last == (44, rows[2]["row_hash"])
    assert list(chain.check("call_events", [(r["id"], r["prev_hash"], r["row_hash"], r) for r in rows])) == [
        chain.Break("call_events", 42, "unlinked")  # its predecessor (41) is not in the walk: it starts at GENESIS
    ]
