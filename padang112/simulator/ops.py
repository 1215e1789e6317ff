"""The simulator's commands, one ``op_<name>(engine, msg)`` per protocol operation.

A handler returns the fields of its ``ok`` reply, raises ``CommandError`` for an ``ok: false`` one, or returns
``None`` after arranging to reply later itself (registration, unregistration).

Citizens: one registration-less account per carrier source address, on a UDP transport bound to that
127.0.0.x (the source address is what tells Asterisk which carrier trunk a call comes from). The caller
number and name are set per call in the From header (``SipTxOption.localUri``), so accounts never change when
the caller does. Limits per process: see ``resources.py``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pjsua2 as pj

from padang112.simulator.agents import CitizenAccount, CitizenCall, SeatAccount
from padang112.simulator.media import MediaLeg
from padang112.simulator.resources import MAX_ACCOUNTS, MAX_CALLS

if TYPE_CHECKING:
    from padang112.simulator.engine import Engine

REPLY_TIMEOUT = 10.0
USER_SAFE = "+-_.!~*'()&=$,;?/"  # RFC 3261 user part: unreserved and user-unreserved characters


class CommandError(Exception):
    """Turned into ``{"ok": false, "error": ...}``."""


def split_hostport(value: str, default_port: int = 0) -> tuple[str, int]:
    value = value.removeprefix("sip:")
    host, _, port = value.rpartition(":") if ":" in value else (value, "", "")
    return host, int(port) if port else default_port


def from_header(caller: str | None, name: str | None, host: str) -> str:
    """``"name" <sip:caller@host>``; caller ID is untrusted test input, so quote what SIP cannot carry."""
    user = quote(caller, safe=USER_SAFE) if caller else "anonymous"
    uri = f"sip:{user}@{host}"
    if not name:
        return f"<{uri}>"
    clean = "".join(ch for ch in name if ch not in "\r\n").replace("\\", "\\\\").replace('"', '\\"')
    return f'"{clean}" <{uri}>'


def _late(engine: Engine, error: str) -> str:
    return "simulator is shutting down" if engine.stopping else error


def _seat(engine: Engine, msg: dict[str, Any]) -> SeatAccount:
    seat = engine.seats.get(msg["seat"])
    if seat is None:
        raise CommandError(f"no seat {msg['seat']!r} in this simulator")
    return seat


def make_room(engine: Engine) -> None:
    if len(engine.live_accounts) < MAX_ACCOUNTS:
        return
    for bind, acc in list(engine.citizens.items()):
        if not acc.busy():
            del engine.citizens[bind]
            engine.drop_account(acc)
            engine.close_transport(bind, 0)  # transports are capped too (8 per process)
            return
    raise CommandError(
        f"account limit reached ({MAX_ACCOUNTS} per process: {len(engine.seats)} seats, "
        f"{len(engine.citizens)} carrier addresses in use); start another simulator process"
    )


def op_seat(engine: Engine, msg: dict[str, Any]) -> dict[str, Any] | None:
    name, req = str(msg["seat"]), msg.get("req")
    if name in engine.seats:
        raise CommandError(f"seat {name} already exists")
    make_room(engine)
    registrar = msg.get("registrar")
    host, port = split_hostport(msg.get("listen") or "127.0.0.1:0")
    tid = engine.transport(host, port)
    domain = split_hostport(registrar)[0] if registrar else host
    acfg = engine.account_config(f"sip:{name}@{domain}", tid, host)
    if registrar:
        acfg.regConfig.registrarUri = registrar if registrar.startswith("sip:") else f"sip:{registrar}"
        acfg.regConfig.timeoutSec = int(msg.get("expires", 120))
        acfg.regConfig.retryIntervalSec = 5
        acfg.sipConfig.authCreds.append(pj.AuthCredInfo("digest", "*", name, 0, str(msg.get("password", ""))))
    seat = SeatAccount(engine, name, msg)
    engine.add_account(seat, acfg)
    engine.seats[name] = seat
    fields = {"seat": name, "address": engine.local_name(tid)}
    if not registrar:
        return fields

    result: list[tuple[int, str, int]] = []
    seat.on_reg = lambda code, reason, expires: result.append((code, reason, expires))

    def remove(error: str) -> None:
        seat.on_reg = None
        if engine.seats.get(name) is seat:
            del engine.seats[name]
        engine.drop_account(seat)
        engine.fail(req, error)

    def done() -> None:
        code, reason, expires = result[0]
        if code // 100 == 2 and expires > 0:
            seat.on_reg = None
            engine.reply(req, True, **fields, expires=expires)
        else:
            remove(f"registration of {name} failed: {code} {reason}")

    engine.when(
        lambda: bool(result),
        done,
        REPLY_TIMEOUT,
        lambda: remove(_late(engine, f"registration of {name} timed out after {REPLY_TIMEOUT:.0f} s")),
    )
    return None


def op_seat_update(engine: Engine, msg: dict[str, Any]) -> dict[str, Any]:
    seat = _seat(engine, msg)
    seat.update(msg)
    return {"seat": seat.name}


def op_seat_answer(engine: Engine, msg: dict[str, Any]) -> dict[str, Any]:
    """Answer the ringing call now (for seats created with ``answer_after: null``)."""
    seat = _seat(engine, msg)
    call = seat.current
    return {"seat": seat.name, "answered": bool(call is not None and call.answer_now())}


def op_seat_hangup(engine: Engine, msg: dict[str, Any]) -> dict[str, Any]:
    seat = _seat(engine, msg)
    call = seat.current
    return {"seat": seat.name, "active": bool(call is not None and call.hang_up(int(msg.get("code", 0))))}


def op_seat_dtmf(engine: Engine, msg: dict[str, Any]) -> dict[str, Any]:
    """Send DTMF (RFC 4733) on the seat's answered call, e.g. a duty phone pressing 1."""
    seat = _seat(engine, msg)
    call = seat.current
    if call is None or not call.answered or call.ended:
        raise CommandError(f"seat {seat.name} has no answered call")
    call.dialDtmf(str(msg["digits"]))
    return {"seat": seat.name}


def op_unregister(engine: Engine, msg: dict[str, Any]) -> None:
    seat = engine.seats.pop(_seat(engine, msg).name)
    req = msg.get("req")
    if seat.current is not None:
        seat.current.hang_up()
    unregistered: list[int] = [] if seat.registered else [0]
    if seat.registered:
        seat.on_reg = lambda code, reason, expires: unregistered.append(code)
        seat.setRegistration(False)

    def finish(ok: bool) -> None:
        seat.on_reg = None
        engine.drop_account(seat)
        if ok:
            engine.reply(req, True, seat=seat.name)
        else:
            engine.fail(req, _late(engine, f"unregistration of {seat.name} timed out (account deleted anyway)"))

    engine.when(
        lambda: bool(unregistered) and seat.current is None, lambda: finish(True), REPLY_TIMEOUT, lambda: finish(False)
    )


def citizen_account(engine: Engine, bind: str) -> CitizenAccount:
    acc = engine.citizens.get(bind)
    if acc is None:
        make_room(engine)
        tid = engine.transport(bind, 0)
        acc = CitizenAccount(engine, bind)
        engine.add_account(acc, engine.account_config(f"sip:citizen@{bind}", tid, bind))
        engine.citizens[bind] = acc
    return acc


def op_call(engine: Engine, msg: dict[str, Any]) -> dict[str, Any] | None:
    """Place a citizen call now, or as soon as the socket budget allows (see ``Engine.socket_room``)."""
    name = str(msg["call"])
    old = engine.calls.get(name)
    if old is not None and not old.ended:
        raise CommandError(f"call {name} is still in progress")
    if engine.active_calls() >= MAX_CALLS:
        raise CommandError(
            f"call limit reached ({MAX_CALLS} concurrent calls per process in this pjsua build); "
            "use another simulator process"
        )
    if engine.socket_room():
        return place_call(engine, msg)
    req = msg.get("req")

    def place() -> None:
        try:
            engine.reply(req, True, **place_call(engine, msg))
        except CommandError as exc:
            engine.fail(req, str(exc))
        except pj.Error as exc:
            engine.fail(req, f"pjsua2: {exc.info()}")

    engine.when(
        engine.socket_room,
        place,
        REPLY_TIMEOUT,
        lambda: engine.fail(req, _late(engine, "no socket room for a new call (calls ending too fast)")),
    )
    return None


def place_call(engine: Engine, msg: dict[str, Any]) -> dict[str, Any]:
    name, target = str(msg["call"]), str(msg["target"])
    bind = str(msg.get("bind") or "127.0.0.1")
    if engine.active_calls() >= MAX_CALLS:
        raise CommandError(f"call limit reached ({MAX_CALLS} concurrent calls per process)")
    acc = citizen_account(engine, bind)
    leg = MediaLeg(msg.get("tone_hz", 440), msg.get("record"))
    call = CitizenCall(acc, engine, name, leg, msg.get("hangup_after"))
    engine.keep(call)
    acc.calls = [c for c in acc.calls if not c.ended] + [call]
    prm = pj.CallOpParam(True)
    prm.opt.audioCount, prm.opt.videoCount = 1, 0
    prm.txOption.localUri = from_header(msg.get("caller"), msg.get("caller_name"), bind)
    for hname, hvalue in (msg.get("headers") or {}).items():
        header = pj.SipHeader()
        header.hName, header.hValue = str(hname), str(hvalue)
        prm.txOption.headers.append(header)
    engine.calls[name] = call
    try:
        call.makeCall(target, prm)
    except pj.Error:
        call.ended = True
        raise
    return {"call": name, "call_id": call.getInfo().callIdString, "t": time.time()}


def _call(engine: Engine, msg: dict[str, Any]) -> CitizenCall:
    call = engine.calls.get(msg["call"])
    if not isinstance(call, CitizenCall):
        raise CommandError(f"no call {msg['call']!r} in this simulator")
    return call


def op_hangup(engine: Engine, msg: dict[str, Any]) -> dict[str, Any]:
    call = _call(engine, msg)
    return {"call": call.name, "active": call.hang_up(int(msg.get("code", 0)))}


def op_dtmf(engine: Engine, msg: dict[str, Any]) -> dict[str, Any]:
    call = _call(engine, msg)
    call.dialDtmf(str(msg["digits"]))
    return {"call": call.name}


def op_status(engine: Engine, msg: dict[str, Any]) -> dict[str, Any]:
    return {
        "seats": {n: {"registered": s.registered, "busy": s.current is not None} for n, s in engine.seats.items()},
        "calls": {n: {"ended": c.ended} for n, c in engine.calls.items()},
        "accounts": len(engine.live_accounts),
        "active_calls": engine.active_calls(),
    }


def op_ping(engine: Engine, msg: dict[str, Any]) -> dict[str, Any]:
    return {"t": time.time()}
