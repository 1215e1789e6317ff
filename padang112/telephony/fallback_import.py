"""Import the calls that Asterisk's fallback queue handled while the controller was away.

The fallback dialplan (dialplans/extensions.conf.j2) notes each call in the switch's own database, keyed
by the caller channel's unique id:
``p112fb/<uid> = start|carrier|b64 number|b64 name|dialed|linkedid``,
``p112fb_ans/<uid> = answer epoch|seat`` (only if a seat answered) and
``p112fb_end/<uid> = end epoch|QUEUESTATUS|seat|answer epoch`` (written at hang-up).
A caller who hung up before Stasis() or the fallback queue took him leaves the same two notes with a 7th
field ``early`` (no recording, no queue): he is stored as received and abandoned, so on the call-back list.
A call is imported once it has ended; its notes are then deleted from the switch. A note without an end
that is older than the switch's own start was cut off by an Asterisk crash (its hangup handler never ran): it
ended at the latest when the switch went down, and is imported as ended at the switch's start. Importing is
idempotent (``fallback_imports`` table), so a crash between import and delete only repeats a no-op.

The notes are read over AMI (DBGetTree; the AMI account may not write the switch's database) and deleted over ARI
by ``forget``: a Local channel into the dialplan's ``[p112-fallback-forget]``, whose dialplan half deletes the
call's three keys and hangs up (:func:`forget_over_ari`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from padang112.domain.calls import TERMINAL
from padang112.domain.events import CallTransition, DomainEvent, RecordingFinished, RecordingStarted
from padang112.storage.repository import Repository
from padang112.telephony.ami import AmiLink
from padang112.telephony.ari import AriClient

log = logging.getLogger(__name__)
FAMILIES = ("p112fb", "p112fb_ans", "p112fb_end")
CLOSED = frozenset(state.value for state in TERMINAL)


@dataclass(frozen=True)
class FallbackCall:
    uniqueid: str
    start: datetime
    carrier: str
    caller_number: str
    caller_name: str
    dialed: str
    end: datetime
    seat: str | None
    answered: datetime | None
    early: bool = False  # hung up before the controller or the fallback queue had the call


def _b64(text: str) -> str:
    try:
        return base64.b64decode(text, validate=True).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return text


def _epoch(text: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(text), UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def parse_fallback_calls(
    start: dict[str, str],
    end: dict[str, str],
    answers: dict[str, str] | None = None,
    switch_started: datetime | None = None,
) -> list[FallbackCall]:
    calls = []
    for uid, value in start.items():
        if uid in end:
            e = end[uid].split("|")
        elif (crash := _crash_end(value, switch_started)) is not None:
            # the note of a call in progress when the switch died: ended then, with the seat that answered, if any
            a = (answers or {}).get(uid, "").split("|")
            e = [crash, "CRASH", a[1] if len(a) > 1 else "", a[0]]
        else:
            continue  # still in progress
        s = value.split("|")
        started, ended = _epoch(s[0]), _epoch(e[0])
        if started is None or ended is None or len(s) < 5:
            log.error("fallback note for %s is unreadable: %r / %r", uid, value, end[uid])
            continue
        seat = e[2] if len(e) > 2 and e[2] else None
        answered = _epoch(e[3]) if len(e) > 3 and e[3] else None
        calls.append(
            FallbackCall(
                uid,
                started,
                s[1],
                _b64(s[2]),
                _b64(s[3]),
                s[4],
                ended,
                seat,
                answered if seat else None,
                early=len(s) > 6 and s[6] == "early",
            )
        )
    return calls


def _crash_end(note: str, switch_started: datetime | None) -> str | None:
    """The switch's start (epoch text) if the note was written before it (the same second is not proof)."""
    started = _epoch(note.split("|", maxsplit=1)[0])
    if switch_started is None or started is None or started >= switch_started - timedelta(seconds=1):
        return None
    return str(int(switch_started.timestamp()))


def fallback_events(call: FallbackCall, recordings_dir: str, handed_over: bool = False) -> list[DomainEvent]:
    """The call's story as events; a call the controller handed over continues its stored history."""
    cid = call.uniqueid
    gave_up = CallTransition(
        cid, call.end, "queued", "abandoned", data={"ended_by": "caller", "disposition": "abandoned"}
    )
    if call.early:
        return [
            _received(call, "early"),
            dataclasses.replace(gave_up, from_state="received"),
        ]
    name = f"fallback-{cid}"
    events: list[DomainEvent] = [] if handed_over else [_received(call, "fallback")]
    events += [
        CallTransition(
            cid, call.start, "handed_over" if handed_over else "received", "queued", data={"via": "fallback"}
        ),
        RecordingStarted(cid, call.start, name, f"{recordings_dir}/{name}.wav"),
    ]
    if call.seat and call.answered:
        events += [
            CallTransition(cid, call.answered, "queued", "offered", seat=call.seat),
            CallTransition(cid, call.answered, "offered", "connected", seat=call.seat),
            CallTransition(cid, call.end, "connected", "ended", seat=call.seat, data={"ended_by": "unknown"}),
        ]
    else:
        events.append(gave_up)
    duration = (call.end - call.start).total_seconds()
    events.append(RecordingFinished(cid, call.end, name, duration))
    return events


def _received(call: FallbackCall, via: str) -> CallTransition:
    data = {
        "caller_number": call.caller_number,
        "caller_name": call.caller_name,
        "carrier": call.carrier,
        "dialed": call.dialed,
        "channel_id": call.uniqueid,
        "via": via,
    }
    return CallTransition(call.uniqueid, call.start, None, "received", data=data)


async def fallback_notes(ami: AmiLink, uniqueid: str = "") -> frozenset[str]:
    """Unique ids of the calls the fallback dialplan has noted and that are not imported yet (none if AMI is
    down: logged); with ``uniqueid``, at most that one (one entry read, not the surge's hundreds)."""
    try:
        noted = await asyncio.wait_for(ami.db_tree("p112fb", uniqueid), timeout=2.0)
    except (TimeoutError, ConnectionError) as exc:
        log.warning("fallback notes not read: %s", exc)
        return frozenset()
    return frozenset(noted) & {uniqueid} if uniqueid else frozenset(noted)


FORGET_CONTEXT = "p112-fallback-forget"
_UNIQUEID = re.compile(r"[0-9]{1,20}\.[0-9]{1,10}")


async def forget_over_ari(ari: AriClient, uniqueid: str) -> None:
    """Delete an imported call's notes: a Local channel whose dialplan half (``[p112-fallback-forget]``) deletes
    them and hangs up. It dials nothing; its other half has nowhere to go but the same context."""
    if not _UNIQUEID.fullmatch(uniqueid):
        raise ValueError("not an Asterisk unique id")
    await ari.post(
        "/channels",
        endpoint=f"Local/{uniqueid}@{FORGET_CONTEXT}/n",
        context=FORGET_CONTEXT,
        extension="done",
        priority=1,
        channelId=f"fbforget-{uniqueid}",
    )


async def import_fallback_calls(
    ami: AmiLink,
    repo: Repository,
    recordings_dir: str,
    forget: Callable[[str], Awaitable[None]],
    publish: Callable[[list[DomainEvent]], None] | None = None,
    switch_started: datetime | None = None,
) -> int:
    """Import every ended fallback call; returns how many were new. ``forget(uniqueid)`` deletes its notes from
    the switch; ``publish`` gets each imported call's events once they are stored (the live console and the
    callback list see fallback calls too); ``switch_started``: Asterisk's start, to close what a crash cut off."""
    notes = {f: await ami.db_tree(f) for f in FAMILIES}
    imported = 0
    stored_calls: list[str] = []
    for call in parse_fallback_calls(notes["p112fb"], notes["p112fb_end"], notes["p112fb_ans"], switch_started):
        stored = await repo.get_call(call.uniqueid)
        if stored is not None and stored.state not in CLOSED:
            continue  # the room has not closed it yet (its hand-over is still being stored): next round
        events = fallback_events(call, recordings_dir, handed_over=stored is not None)
        if await repo.import_fallback_call(call.uniqueid, call.uniqueid, events):
            imported += 1
            if publish is not None:
                publish(events)
            outcome = f"answered by {call.seat}" if call.seat else "abandoned"
            log.info(
                "call %s: imported from the fallback queue (%s)",
                call.uniqueid,
                "hung up before the room had it" if call.early else outcome,
                extra={"call_id": call.uniqueid},
            )
        stored_calls.append(call.uniqueid)
    await _forget_all(forget, stored_calls)
    return imported


FORGET_AT_ONCE = 8  # Local channels the clean-up may have at once on a switch that may be struggling already


async def _forget_all(forget: Callable[[str], Awaitable[None]], uniqueids: list[str]) -> None:
    """Delete the stored calls' notes, a few at a time, after every call is stored. One that fails (a busy switch
    answers late, or the previous round's Local channel for it still exists) stays for the next round, whose
    import of it is a no-op. Deleted call by call between the imports, one failure ended the round, and every
    round ended there again while the switch struggled: the callers after it, let go by the fallback queue, stayed
    off the call-back list (tests/unit/test_fallback_import.py)."""
    slots = asyncio.Semaphore(FORGET_AT_ONCE)

    async def one(uniqueid: str) -> None:
        async with slots:
            try:
                await forget(uniqueid)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the notes stay: the next round tries again
                log.warning("call %s: fallback notes not deleted yet: %s", uniqueid, exc, extra={"call_id": uniqueid})

    await asyncio.gather(*(one(u) for u in uniqueids))
