"""The SIP simulator process: ``python -m padang112.simulator.engine``.

JSON lines: commands on stdin, exactly one reply per command (``{"req": N, "ok": ...}``) and events (no
``req``) on stdout; logs on stderr. pjsua2 is neither asyncio- nor thread-friendly and may abort on an
assertion, so it lives alone in this process and on one thread (``threadCnt=0``, ``mainThreadOnly``) that pumps
``libHandleEvents`` and runs the commands a stdin reader thread queues. Operations are in ``ops.py``.

File descriptor 1 is pointed at stderr at start-up, so pjsua's console log (and any stray print) can never
corrupt the protocol stream, which is written to a private duplicate of the original stdout.
"""

from __future__ import annotations

import argparse
import gc
import heapq
import itertools
import json
import logging
import os
import queue
import random
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import IO, Any

import pjsua2 as pj

from padang112.simulator import ops
from padang112.simulator.agents import CitizenAccount, SeatAccount, SimCall
from padang112.simulator.media import wav_complete
from padang112.simulator.ops import CommandError
from padang112.simulator.resources import MAX_CALLS, Resources

log = logging.getLogger("padang112.simulator.engine")

LOOP_MS = 10


class Timer:
    def __init__(self, fn: Callable[[], object]) -> None:
        self.fn: Callable[[], object] | None = fn

    def cancel(self) -> None:
        self.fn = None


class Output:
    """Serialised JSON-lines writer (the stdin thread reports bad input, the pjsua thread everything else)."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.lock = threading.Lock()

    def write(self, obj: dict[str, Any]) -> None:
        line = json.dumps(obj, separators=(",", ":"), default=str) + "\n"
        with self.lock:
            self.stream.write(line)
            self.stream.flush()


class Engine(Resources):
    """Owns the pjsua2 endpoint, the accounts, the calls, and the timers of one simulator process."""

    def __init__(self, out: Output, pj_log_level: int = 2) -> None:
        self.out = out
        self.pj_log_level = pj_log_level
        self.ep = pj.Endpoint()
        self.rtp_port = random.randrange(20000, 39000, 2)  # per-process base: processes rarely collide
        self.transports: dict[tuple[str, int], int] = {}
        self.seats: dict[str, SeatAccount] = {}
        self.citizens: dict[str, CitizenAccount] = {}
        self.calls: dict[str, SimCall] = {}
        self.live_accounts: set[int] = set()  # ids of accounts created and not yet shut down
        self.graveyard: list[object] = []  # pjsua2 objects kept until libDestroy (see keep())
        self._timers: list[tuple[float, int, Timer]] = []
        self._seq = itertools.count()
        self._soon: list[Callable[[], None]] = []
        self._released: list[float] = []  # when call legs ended (their RTP/RTCP sockets linger)
        self._waits: list[tuple[Callable[[], bool], Callable[[], None], float, Callable[[], None]]] = []
        self.stopping = False
        self.quit_req: Any = None

    # -- Host interface used by the agents ------------------------------------------------------------------
    def emit(self, event: str, **fields: Any) -> None:
        self.out.write({"event": event, **fields})

    def later(self, delay: float, fn: Callable[[], object]) -> Timer:
        timer = Timer(fn)
        heapq.heappush(self._timers, (time.monotonic() + max(0.0, delay), next(self._seq), timer))
        return timer

    def soon(self, fn: Callable[[], None]) -> None:
        self._soon.append(fn)

    def keep(self, obj: object) -> None:
        """Keep a pjsua2 object alive until shutdown.

        A ``Call`` destructor clears the user data of its call slot and hangs up whatever call is active in it;
        once the slot is reused by a newer call, collecting the old object would hang up (or orphan) the new
        call. Hence every Call object lives until no call is active any more (shutdown).
        """
        self.graveyard.append(obj)

    def when(
        self, cond: Callable[[], bool], then: Callable[[], None], timeout: float, on_timeout: Callable[[], None]
    ) -> None:
        """Run ``then`` once ``cond()`` holds (checked every loop), or ``on_timeout`` after ``timeout`` s."""
        self._waits.append((cond, then, time.monotonic() + timeout, on_timeout))

    # -- protocol -------------------------------------------------------------------------------------------
    def reply(self, req: Any, ok: bool = True, **fields: Any) -> None:
        self.out.write({"req": req, "ok": ok, **fields})

    def fail(self, req: Any, error: str) -> None:
        self.reply(req, False, error=error)

    def handle(self, msg: dict[str, Any]) -> None:
        req = msg.get("req")
        handler = getattr(ops, f"op_{msg.get('op')}", None)
        if handler is None:
            self.fail(req, f"unknown op {msg.get('op')!r}")
            return
        try:
            result = handler(self, msg)
        except CommandError as exc:
            self.fail(req, str(exc))
        except pj.Error as exc:
            self.fail(req, f"pjsua2: {exc.info()}")
        except (KeyError, TypeError, ValueError) as exc:
            self.fail(req, f"bad {msg.get('op')} command: {exc!r}")
        else:
            if result is not None:  # None: the handler replies later itself
                self.reply(req, True, **result)

    # -- lifecycle ------------------------------------------------------------------------------------------
    def start(self) -> None:
        self.ep.libCreate()
        cfg = pj.EpConfig()
        cfg.uaConfig.threadCnt = 0
        cfg.uaConfig.mainThreadOnly = True
        cfg.uaConfig.maxCalls = MAX_CALLS
        cfg.uaConfig.userAgent = "padang112-simulator"
        cfg.logConfig.level = self.pj_log_level
        cfg.logConfig.consoleLevel = self.pj_log_level
        cfg.medConfig.noVad = True  # continuous RTP: a silent side must still look alive to Asterisk
        cfg.medConfig.ecTailLen = 0  # no echo canceller: it could eat the test tones
        self.ep.libInit(cfg)
        self.ep.audDevManager().setNullDev()
        self.ep.libStart()
        for codec, prio in (("PCMU/8000/1", 255), ("PCMA/8000/1", 254)):
            self.ep.codecSetPriority(codec, prio)  # what the switch speaks; keeps p2p tests like live ones

    def run(self, commands: queue.Queue[dict[str, Any] | None]) -> None:
        while not self.stopping:
            self.ep.libHandleEvents(LOOP_MS)
            self._run_soon()
            while not self.stopping:
                try:
                    msg = commands.get_nowait()
                except queue.Empty:
                    break
                if msg is None:  # stdin closed: the client is gone
                    self.stopping = True
                elif msg.get("op") == "quit":
                    self.stopping = True
                    self.quit_req = msg.get("req")
                else:
                    self.handle(msg)
            self._run_timers()

    def pump(self, seconds: float, until: Callable[[], bool]) -> None:
        deadline = time.monotonic() + seconds
        while not until() and time.monotonic() < deadline:
            self.ep.libHandleEvents(LOOP_MS)
            self._run_soon()
            self._run_timers()

    def shutdown(self) -> None:
        """Hang up, unregister, destroy media and calls, then the library (the order matters to pjsua)."""
        self._wind_down()  # in its own frame: its locals must not keep Call objects alive past libDestroy
        if self.quit_req is not None:
            self.reply(self.quit_req, True)
        for registry in (self.seats, self.citizens, self.calls, self._timers, self._waits, self._soon):
            registry.clear()
        self.graveyard.clear()
        gc.collect()  # Call destructors run now, while pjsua still knows its call slots
        # Unregistration is already done: skip pjsua's fixed 1 s wait for late responses.
        self.ep.libDestroy(pj.PJSUA_DESTROY_NO_RX_MSG)

    def _wind_down(self) -> None:
        self.ep.hangupAllCalls()
        calls = [c for c in self.graveyard if isinstance(c, SimCall)]
        self.pump(5.0, lambda: all(c.ended for c in calls))
        registered = [s for s in self.seats.values() if s.registered]
        for seat in registered:
            try:
                seat.setRegistration(False)
            except pj.Error as exc:
                log.warning("unregister %s: %s", seat.name, exc.info())
        self.pump(3.0, lambda: not any(s.registered for s in registered))
        self._run_soon()
        recordings = [r for r in (call.leg.close() for call in calls) if r]
        self.pump(3.0, lambda: all(wav_complete(r) for r in recordings))
        for acc in list(self.seats.values()) + list(self.citizens.values()):
            self.drop_account(acc)
        while self._waits:  # what is still pending gets its answer now (every command has exactly one)
            self._safely(self._waits.pop(0)[3])

    def _run_soon(self) -> None:
        while self._soon:
            fn = self._soon.pop(0)
            self._safely(fn)
        if self._waits:
            now = time.monotonic()
            for wait in list(self._waits):
                cond, then, deadline, on_timeout = wait
                if cond():
                    self._waits.remove(wait)
                    self._safely(then)
                elif now >= deadline:
                    self._waits.remove(wait)
                    self._safely(on_timeout)

    def _run_timers(self) -> None:
        now = time.monotonic()
        while self._timers and self._timers[0][0] <= now:
            fn = heapq.heappop(self._timers)[2].fn
            if fn is not None:
                self._safely(fn)

    def _safely(self, fn: Callable[[], object]) -> None:
        try:
            fn()
        except pj.Error as exc:
            log.warning("pjsua2 error: %s", exc.info())
            self.emit("error", t=time.time(), error=exc.info())
        except Exception as exc:
            log.exception("engine task failed")
            self.emit("error", t=time.time(), error=repr(exc))


def _read_stdin(commands: queue.Queue[dict[str, Any] | None], out: Output) -> None:
    try:
        for raw in sys.stdin:
            line = raw.strip()
            if not line:
                continue
            try:
                msg = json.loads(line)
                if not isinstance(msg, dict):
                    raise ValueError("not an object")
            except ValueError as exc:
                out.write({"event": "error", "t": time.time(), "error": f"bad command line: {exc}"})
                continue
            commands.put(msg)
    finally:
        commands.put(None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="padang112 SIP simulator (JSON lines on stdin/stdout)")
    parser.add_argument("--pj-log-level", type=int, default=int(os.environ.get("PADANG112_SIM_PJ_LOG", "2")))
    parser.add_argument("--log-level", default=os.environ.get("PADANG112_SIM_LOG", "INFO"))
    args = parser.parse_args(argv)

    proto = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    logging.basicConfig(
        stream=sys.stderr, level=args.log_level.upper(), format="%(asctime)s sim[%(process)d] %(levelname)s %(message)s"
    )
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent says quit
    out = Output(proto)
    engine = Engine(out, args.pj_log_level)
    signal.signal(signal.SIGTERM, lambda *_: setattr(engine, "stopping", True))
    commands: queue.Queue[dict[str, Any] | None] = queue.Queue()
    threading.Thread(target=_read_stdin, args=(commands, out), name="stdin", daemon=True).start()
    engine.start()
    out.write({"event": "ready", "pid": os.getpid(), "t": time.time(), "pjsua": engine.ep.libVersion().full})
    try:
        engine.run(commands)
    finally:
        engine.shutdown()
        log.info("simulator stopped")
        proto.flush()
        sys.stderr.flush()
        os._exit(0)  # skip interpreter teardown: SWIG destructors after libDestroy are not safe


if __name__ == "__main__":
    sys.exit(main())
