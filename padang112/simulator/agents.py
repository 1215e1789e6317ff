"""pjsua2 subclasses: a call-taker seat (account + its calls) and a citizen's outgoing call.

Everything here runs on the engine's single pjsua2 thread. Callbacks never raise (an exception escaping a SWIG
director is printed and dropped at best), never destroy pjsua objects themselves (that is deferred to the
engine's loop with ``host.soon``), and report through ``host.emit``.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import pjsua2 as pj

from padang112.simulator.media import MediaLeg, wav_complete

log = logging.getLogger("padang112.simulator.engine")

STATE_NAMES = {
    pj.PJSIP_INV_STATE_NULL: "NULL",
    pj.PJSIP_INV_STATE_CALLING: "CALLING",
    pj.PJSIP_INV_STATE_INCOMING: "INCOMING",
    pj.PJSIP_INV_STATE_EARLY: "EARLY",
    pj.PJSIP_INV_STATE_CONNECTING: "CONNECTING",
    pj.PJSIP_INV_STATE_CONFIRMED: "CONFIRMED",
    pj.PJSIP_INV_STATE_DISCONNECTED: "DISCONNECTED",
}

Delay = float | list[float] | None  # seconds, a [low, high] range drawn per call, or never


class Timer(Protocol):
    def cancel(self) -> None: ...


class Host(Protocol):
    """What the agents need from the engine."""

    def emit(self, event: str, **fields: Any) -> None: ...
    def later(self, delay: float, fn: Callable[[], object]) -> Timer: ...
    def soon(self, fn: Callable[[], None]) -> None: ...
    def keep(self, obj: object) -> None: ...
    def when(
        self, cond: Callable[[], bool], then: Callable[[], None], timeout: float, on_timeout: Callable[[], None]
    ) -> None: ...
    def leg_released(self) -> None: ...


def draw(delay: Delay) -> float | None:
    if delay is None:
        return None
    if isinstance(delay, (list, tuple)):
        return random.uniform(float(delay[0]), float(delay[1]))
    return float(delay)


def guarded(fn: Callable[..., None]) -> Callable[..., None]:
    """Log instead of letting an exception escape into pjsua2."""

    def wrapper(*args: Any) -> None:
        try:
            fn(*args)
        except Exception:
            log.exception("error in pjsua2 callback %s", fn.__name__)

    wrapper.__name__ = fn.__name__
    return wrapper


def x_headers(whole_msg: str) -> dict[str, str]:
    """``X-*`` headers of a SIP request (what a switch may add for a screen-pop)."""
    out: dict[str, str] = {}
    for line in whole_msg.split("\r\n")[1:]:
        if not line:
            break
        name, sep, value = line.partition(":")
        if sep and name.strip().lower().startswith("x-"):
            out[name.strip()] = value.strip()
    return out


class SimCall(pj.Call):
    """Common part of seat and citizen calls: media, state tracking, timed hang-up."""

    def __init__(self, acc: pj.Account, host: Host, leg: MediaLeg, call_id: int = pj.PJSUA_INVALID_ID) -> None:
        super().__init__(acc, call_id)
        self.host = host
        self.leg = leg
        self.ended = False
        self.hangup_timer: Timer | None = None
        self.last_code = 0
        self.last_reason = ""

    def hang_up(self, code: int = 0) -> bool:
        if self.ended or not self.isActive():
            return False
        prm = pj.CallOpParam()
        prm.statusCode = code
        self.hangup(prm)
        return True

    def hang_up_later(self, delay: Delay) -> None:
        seconds = draw(delay)
        if seconds is not None:
            self.hangup_timer = self.host.later(seconds, self.hang_up)

    @guarded
    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:
        info = self.getInfo()
        for i, media in enumerate(info.media):
            if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                first = self.leg.started is None
                self.leg.attach(self.getAudioMedia(i))
                if first:
                    self.on_media()

    @guarded
    def onCallState(self, prm: pj.OnCallStateParam) -> None:
        info = self.getInfo()
        self.last_code, self.last_reason = info.lastStatusCode, info.lastReason
        state = STATE_NAMES.get(info.state, str(info.state))
        if state == "DISCONNECTED":
            self.ended = True
            self.host.leg_released()
            if self.hangup_timer is not None:
                self.hangup_timer.cancel()
            self.on_disconnected()
            t = time.time()
            self.host.soon(lambda: self._finish(t))  # destroy media outside the callback
        else:
            self.on_state(state, time.time())

    def _finish(self, t: float) -> None:
        """Report the end once the recording is a complete WAV file.

        Since pjsua 2.14 the conference bridge removes ports asynchronously: the recorder is only closed (and
        its WAV header written) a few media ticks after it is destroyed.
        """
        recording = self.leg.close()
        if recording is None:
            self.on_ended(t, None)
            return
        report = lambda: self.on_ended(t, recording)  # noqa: E731
        self.host.when(lambda: wav_complete(recording), report, 3.0, report)

    @guarded
    def onDtmfDigit(self, prm: pj.OnDtmfDigitParam) -> None:
        self.host.emit("dtmf", digit=prm.digit, t=time.time(), **self.who())

    def who(self) -> dict[str, str]:
        raise NotImplementedError

    def on_media(self) -> None: ...
    def on_state(self, state: str, t: float) -> None: ...
    def on_disconnected(self) -> None: ...
    def on_ended(self, t: float, recording: str | None) -> None: ...


class CitizenCall(SimCall):
    """An outgoing call to 112, as a citizen on a carrier's trunk."""

    def __init__(self, acc: pj.Account, host: Host, name: str, leg: MediaLeg, hangup_after: Delay) -> None:
        super().__init__(acc, host, leg)
        self.name = name
        self.hangup_after = hangup_after

    def who(self) -> dict[str, str]:
        return {"call": self.name}

    def on_media(self) -> None:
        self.host.emit("call_media", call=self.name, t=self.leg.started)

    def on_state(self, state: str, t: float) -> None:
        self.host.emit("call_state", call=self.name, state=state, t=t, code=self.last_code, reason=self.last_reason)
        if state == "CONFIRMED":
            self.hang_up_later(self.hangup_after)

    def on_ended(self, t: float, recording: str | None) -> None:
        self.host.emit(
            "call_state",
            call=self.name,
            state="DISCONNECTED",
            t=t,
            code=self.last_code,
            reason=self.last_reason,
            recording=recording,
        )


class SeatCall(SimCall):
    """A call offered to a seat (rings, is answered after a delay, plays the seat's tone)."""

    def __init__(self, seat: SeatAccount, call_id: int, leg: MediaLeg, n: int) -> None:
        super().__init__(seat, seat.host, leg, call_id)
        self.seat = seat
        self.n = n
        self.rang_at = time.time()
        self.answer_timer: Timer | None = None
        self.answered = False
        self.rejected = False

    def answer_now(self) -> bool:
        if self.ended or self.answered:
            return False
        self.answered = True
        if self.answer_timer is not None:
            self.answer_timer.cancel()
        prm = pj.CallOpParam(True)
        prm.statusCode = 200
        self.answer(prm)
        return True

    def schedule_answer(self, answer_after: float | None) -> None:
        if self.answer_timer is not None:
            self.answer_timer.cancel()
            self.answer_timer = None
        if answer_after is not None and not self.answered:
            delay = max(0.0, self.rang_at + answer_after - time.time())
            self.answer_timer = self.host.later(delay, self.answer_now)

    def who(self) -> dict[str, str]:
        return {"seat": self.seat.name}

    def on_media(self) -> None:
        self.host.emit("seat_media", seat=self.seat.name, t=self.leg.started)

    def on_state(self, state: str, t: float) -> None:
        if state == "CONFIRMED" and not self.rejected:
            self.host.emit("seat_answered", seat=self.seat.name, t=t, n=self.n)
            self.hang_up_later(self.seat.hangup_after)

    def on_disconnected(self) -> None:
        if self.answer_timer is not None:
            self.answer_timer.cancel()
        if self.seat.current is self:
            self.seat.current = None

    def on_ended(self, t: float, recording: str | None) -> None:
        if not self.rejected:
            self.host.emit(
                "seat_call_ended",
                seat=self.seat.name,
                t=t,
                n=self.n,
                code=self.last_code,
                reason=self.last_reason,
                recording=recording,
            )


class SeatAccount(pj.Account):
    """A call taker's softphone: registers (optionally), takes one call at a time (486 while busy)."""

    def __init__(self, host: Host, name: str, opts: dict[str, Any]) -> None:
        super().__init__()
        self.host = host
        self.name = name
        self.answer_after: Delay = opts.get("answer_after", 0.3)
        self.hangup_after: Delay = opts.get("hangup_after")
        self.tone_hz: float | None = opts.get("tone_hz", 1000)
        self.record_dir: str | None = opts.get("record_dir")
        self.reject_with: int | None = opts.get("reject_with")  # a misbehaving phone: every call refused so (486...)
        self.current: SeatCall | None = None
        self.count = 0
        self.registered = False
        self.on_reg: Callable[[int, str, int], None] | None = None  # engine's hook for pending replies

    def update(self, opts: dict[str, Any]) -> None:
        for key in ("answer_after", "hangup_after", "tone_hz", "record_dir", "reject_with"):
            if key in opts:
                setattr(self, key, opts[key])
        if "answer_after" in opts and self.current is not None and not self.current.answered:
            self.current.schedule_answer(draw(self.answer_after))

    @guarded
    def onRegState(self, prm: pj.OnRegStateParam) -> None:
        ok = prm.code // 100 == 2 and prm.expiration > 0
        if ok and not self.registered:
            self.host.emit("registered", seat=self.name, t=time.time(), expires=prm.expiration)
        elif self.registered and not ok:
            self.host.emit("unregistered", seat=self.name, t=time.time(), code=prm.code, reason=prm.reason)
        self.registered = ok
        if self.on_reg is not None:
            self.on_reg(prm.code, prm.reason, prm.expiration)

    @guarded
    def onIncomingCall(self, prm: pj.OnIncomingCallParam) -> None:
        t = time.time()
        busy = self.current is not None and not self.current.ended
        if busy or self.reject_with:
            refused = SeatCall(self, prm.callId, MediaLeg(None, None), 0)
            refused.rejected = True
            self.host.keep(refused)
            code = 486 if busy else int(self.reject_with or 486)
            refused.hang_up(code)
            self.host.emit("seat_busy", seat=self.name, t=t, call_id=refused.getInfo().callIdString, code=code)
            return
        self.count += 1
        path = str(Path(self.record_dir) / f"{self.name}-{self.count}.wav") if self.record_dir else None
        call = SeatCall(self, prm.callId, MediaLeg(self.tone_hz, path), self.count)
        call.rang_at = t
        self.host.keep(call)
        self.current = call
        info = call.getInfo()
        self.host.emit(
            "seat_ringing",
            seat=self.name,
            t=t,
            n=self.count,
            remote=info.remoteUri,
            call_id=info.callIdString,
            source=prm.rdata.srcAddress,
            headers=x_headers(prm.rdata.wholeMsg),
        )
        ringing = pj.CallOpParam()
        ringing.statusCode = 180
        call.answer(ringing)
        call.schedule_answer(draw(self.answer_after))


class CitizenAccount(pj.Account):
    """A registration-less account bound to one carrier source address; it only places calls."""

    def __init__(self, host: Host, bind: str) -> None:
        super().__init__()
        self.host = host
        self.bind = bind
        self.calls: list[CitizenCall] = []

    def busy(self) -> bool:
        return any(not c.ended for c in self.calls)

    @guarded
    def onIncomingCall(self, prm: pj.OnIncomingCallParam) -> None:
        call = pj.Call(self, prm.callId)
        self.host.keep(call)
        reject = pj.CallOpParam()
        reject.statusCode = 403
        call.hangup(reject)
