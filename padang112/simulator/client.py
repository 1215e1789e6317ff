"""asyncio client of the simulator process (see ``engine.py`` for the protocol).

    async with Simulator(log_path="sim.log") as sim:
        await sim.add_seat("seat01", password=pw, registrar="127.0.0.1:5070")
        mark = sim.mark()
        await sim.call("c1", target="sip:112@127.0.0.1:5070", bind="127.0.0.12", caller="+6281234567890")
        await sim.wait_event(lambda e: e.get("event") == "seat_answered", timeout=10, since=mark)

Every event is kept in ``history`` so ``wait_event`` also finds events that arrived before it was called;
pass ``since=sim.mark()`` taken before the action to ignore older ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

log = logging.getLogger("padang112.simulator")

EventPred = Callable[[dict[str, Any]], bool]


class SimulatorError(Exception):
    """A command answered ``ok: false``, or the simulator process is gone."""


class Simulator:
    """One simulator process (at most 8 accounts and 32 calls: start several for more)."""

    def __init__(
        self,
        name: str = "sim",
        log_path: str | os.PathLike[str] | None = None,
        pj_log_level: int = 2,
        request_timeout: float = 15.0,
    ) -> None:
        self.name = name
        self.log_path = Path(log_path) if log_path else None
        self.pj_log_level = pj_log_level
        self.request_timeout = request_timeout
        self.history: list[dict[str, Any]] = []
        self.proc: asyncio.subprocess.Process | None = None
        self._reqs = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._waiters: list[tuple[EventPred, int, asyncio.Future[dict[str, Any]]]] = []
        self._subscribers: list[asyncio.Queue[dict[str, Any]]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._log_file: IO[str] | None = None
        self._ready: asyncio.Future[dict[str, Any]] | None = None
        self._exit_error: SimulatorError | None = None
        self.returncode: int | None = None

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self, timeout: float = 15.0) -> dict[str, Any]:
        """Spawn the engine and wait for its ``ready`` event."""
        if self.log_path:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log_file = self.log_path.open("a", encoding="utf-8", buffering=1)
        self._ready = asyncio.get_running_loop().create_future()
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "padang112.simulator.engine",
            "--pj-log-level",
            str(self.pj_log_level),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            limit=1 << 20,
            start_new_session=True,  # Ctrl-C goes to the demo, which then says quit
        )
        self._tasks = [
            asyncio.create_task(self._read_stdout(), name=f"{self.name}-stdout"),
            asyncio.create_task(self._read_stderr(), name=f"{self.name}-stderr"),
        ]
        try:
            return await asyncio.wait_for(asyncio.shield(self._ready), timeout)
        except BaseException:
            await self.close()
            raise

    # -- requests and events -------------------------------------------------------------------------------
    async def request(self, op: str, timeout: float | None = None, **fields: Any) -> dict[str, Any]:
        """Send one command and return its reply; ``SimulatorError`` when it says ``ok: false``."""
        if self.proc is None or self.proc.stdin is None or self._exit_error is not None:
            raise self._exit_error or SimulatorError(f"{self.name}: not started")
        req = next(self._reqs)
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[req] = fut
        try:
            self.proc.stdin.write((json.dumps({"op": op, "req": req, **fields}) + "\n").encode())
            await self.proc.stdin.drain()
            reply = await asyncio.wait_for(fut, timeout or self.request_timeout)
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise SimulatorError(f"{self.name}: simulator process is gone ({exc})") from exc
        except TimeoutError as exc:
            raise SimulatorError(f"{self.name}: no reply to {op} within {timeout or self.request_timeout} s") from exc
        finally:
            self._pending.pop(req, None)
        if not reply.get("ok"):
            raise SimulatorError(f"{self.name}: {op}: {reply.get('error')}")
        return reply

    def mark(self) -> int:
        """Position in the event history; pass it as ``since`` to only see later events."""
        return len(self.history)

    def events(self, since: int = 0, pred: EventPred | None = None) -> list[dict[str, Any]]:
        return [e for e in self.history[since:] if pred is None or pred(e)]

    async def wait_event(self, pred: EventPred, timeout: float = 10.0, since: int = 0) -> dict[str, Any]:
        """First event at or after history index ``since`` that satisfies ``pred`` (possibly already seen)."""
        for event in self.history[since:]:
            if pred(event):
                return event
        if self._exit_error is not None:
            raise self._exit_error
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        waiter = (pred, since, fut)
        self._waiters.append(waiter)
        try:
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError as exc:
            raise TimeoutError(f"{self.name}: no matching event within {timeout} s") from exc
        finally:
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)

    def subscribe(self) -> asyncio.Queue[dict[str, Any]]:
        """A queue that receives every later event (for consumers that follow the stream, like the demo)."""
        q: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._subscribers.append(q)
        return q

    def unsubscribe(self, q: asyncio.Queue[dict[str, Any]]) -> None:
        with contextlib.suppress(ValueError):
            self._subscribers.remove(q)

    # -- convenience -----------------------------------------------------------------------------------------
    async def add_seat(
        self,
        seat: str,
        password: str | None = None,
        registrar: str | None = None,
        answer_after: float | list[float] | None = 0.3,
        tone_hz: float | None = 1000,
        record_dir: str | os.PathLike[str] | None = None,
        listen: str | None = None,
        hangup_after: float | list[float] | None = None,
        reject_with: int | None = None,
    ) -> dict[str, Any]:
        """Create a seat; with a registrar, returns once it is registered (error on failure or after 10 s).

        ``reject_with``: a misbehaving phone that answers every call with this SIP status (486, 603, 488...)."""
        return await self.request(
            "seat",
            seat=seat,
            password=password,
            registrar=registrar,
            answer_after=answer_after,
            tone_hz=tone_hz,
            record_dir=str(record_dir) if record_dir else None,
            listen=listen,
            hangup_after=hangup_after,
            reject_with=reject_with,
        )

    async def call(
        self,
        call: str,
        target: str,
        bind: str = "127.0.0.1",
        caller: str | None = None,
        caller_name: str | None = None,
        tone_hz: float | None = 440,
        record: str | os.PathLike[str] | None = None,
        hangup_after: float | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Place a citizen call from source address ``bind``; returns once the INVITE is sent."""
        return await self.request(
            "call",
            call=call,
            target=target,
            bind=bind,
            caller=caller,
            caller_name=caller_name,
            tone_hz=tone_hz,
            record=str(record) if record else None,
            hangup_after=hangup_after,
            headers=headers or {},
        )

    async def hangup(self, call: str) -> dict[str, Any]:
        return await self.request("hangup", call=call)

    async def seat_hangup(self, seat: str) -> dict[str, Any]:
        return await self.request("seat_hangup", seat=seat)

    async def seat_dtmf(self, seat: str, digits: str) -> dict[str, Any]:
        return await self.request("seat_dtmf", seat=seat, digits=digits)

    async def unregister(self, seat: str) -> dict[str, Any]:
        return await self.request("unregister", seat=seat)

    async def wait_call_state(self, call: str, state: str, timeout: float = 10.0, since: int = 0) -> dict[str, Any]:
        return await self.wait_event(
            lambda e: e.get("event") == "call_state" and e.get("call") == call and e.get("state") == state,
            timeout,
            since,
        )

    # -- shutdown -------------------------------------------------------------------------------------------
    async def close(self, timeout: float = 10.0) -> int | None:
        """Ask the engine to quit (it hangs up and unregisters), kill it if it does not, reap the tasks.

        Returns the process's exit status (0 after a clean shutdown); closing again is harmless."""
        proc = self.proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(SimulatorError):
                await self.request("quit", timeout=timeout)
            if proc.stdin is not None:
                proc.stdin.close()  # EOF also makes the engine quit, should the request have been lost
            try:
                await asyncio.wait_for(proc.wait(), timeout)
            except TimeoutError:
                log.warning("%s: simulator did not exit, killing it", self.name)
                proc.kill()
                await proc.wait()
        if proc is not None:
            self.returncode = proc.returncode
        self.proc = None
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        self._fail_all(SimulatorError(f"{self.name}: simulator closed"))
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        return self.returncode

    # -- readers --------------------------------------------------------------------------------------------
    async def _read_stdout(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        stdout = self.proc.stdout
        try:
            async for raw in stdout:
                try:
                    msg = json.loads(raw)
                except ValueError:
                    log.warning("%s: bad line from simulator: %r", self.name, raw[:200])
                    continue
                if "req" in msg and "event" not in msg:
                    fut = self._pending.get(msg["req"])
                    if fut is not None and not fut.done():
                        fut.set_result(msg)
                else:
                    self._on_event(msg)
        finally:
            self._fail_all(SimulatorError(f"{self.name}: simulator process exited"))

    def _on_event(self, event: dict[str, Any]) -> None:
        if event.get("event") == "ready" and self._ready is not None and not self._ready.done():
            self._ready.set_result(event)
        if event.get("event") == "error":
            log.warning("%s: simulator error event: %s", self.name, event.get("error"))
        index = len(self.history)
        self.history.append(event)
        for pred, since, fut in list(self._waiters):
            if index >= since and not fut.done():
                try:
                    matched = pred(event)
                except Exception as exc:
                    fut.set_exception(exc)
                    continue
                if matched:
                    fut.set_result(event)
        for q in self._subscribers:
            q.put_nowait(event)

    async def _read_stderr(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        async for raw in self.proc.stderr:
            line = raw.decode(errors="replace").rstrip()
            if self._log_file is not None:
                self._log_file.write(f"[{self.name}] {line}\n")
            if "Assertion" in line or "Traceback" in line or " ERROR " in line:
                log.error("%s: %s", self.name, line)
            else:
                log.debug("%s: %s", self.name, line)

    def _fail_all(self, error: SimulatorError) -> None:
        if self._exit_error is None:
            self._exit_error = error
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(error)
        for _, _, fut in self._waiters:
            if not fut.done():
                fut.set_exception(error)
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(error)
            self._ready.exception()  # mark retrieved: start() may already have given up waiting
