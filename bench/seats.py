"""Benchmark: a big room's phones are registered before the controller starts; how long until it is ready?

Starts the slot's own switch (bench/stack.py, P112_TEST_SLOT) with ``--seats`` seats, without the controller.
One SIPp registers every seat and every agency duty phone with digest authentication (bench/phone_register.xml)
and keeps answering for all of them (bench/phone_answer.xml, out of call: the switch's qualify OPTIONS, and a
call to any of them). Once the switch sees every contact reachable, ``padang112 serve`` starts: time to
``/readyz`` 200 (its ARI subscriptions in batches, the reconcile, the seat states) and to every seat
``available`` on /metrics, both from the process's start. Then one SIPp caller dials 112 and the bench reads,
from the controller's database, which seat answered it and when.

    P112_TEST_SLOT=6 .venv/bin/python bench/seats.py                 # 200 seats
    P112_TEST_SLOT=6 .venv/bin/python bench/seats.py --seats 8       # the same with a small room, to compare
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import aiohttp

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from load import free_udp_port, sipp
from stack import Stack, bench_stack
from waiting import get_text, metric, table, until

from padang112 import config
from padang112.pbx import chroot

REGISTER = Path(__file__).with_name("phone_register.xml")
ANSWER = Path(__file__).with_name("phone_answer.xml")
PHONES_ADDRESS = "127.0.0.1"
READY_TIMEOUT_S = 120.0


def phones_file(settings: config.Settings, path: Path) -> list[str]:
    """SIPp's -inf of every seat and duty phone: ``endpoint;[authentication ...]`` (SIPp does not substitute a
    field inside its authentication keyword, but takes the whole keyword from a field); returns the endpoints."""
    secrets = settings.secrets()
    passwords = {**secrets.seat_passwords, **secrets.duty_passwords}
    lines = (f"{name};[authentication username={name} password={pw}];\n" for name, pw in passwords.items())
    path.write_text("SEQUENTIAL\n" + "".join(lines))
    return list(passwords)


def registrations(settings: config.Settings, phones: list[str], work: Path) -> subprocess.Popen[bytes]:
    """One SIPp that registers ``phones`` at 50 a second and answers for all of them until it is stopped."""
    listing = work / "phones.csv"
    phones_file(settings, listing)
    ast = settings.asterisk
    cmd = ["sipp", "-sf", str(REGISTER), "-oocsf", str(ANSWER), "-inf", str(listing), "-i", PHONES_ADDRESS]
    cmd += ["-p", str(free_udp_port(PHONES_ADDRESS)), "-mp", str(free_udp_port(PHONES_ADDRESS))]
    cmd += ["-r", "50", "-m", str(len(phones)), "-l", str(len(phones)), "-nostdin", "-trace_err"]
    cmd += [f"{ast.bind_address}:{ast.sip_port}"]
    return subprocess.Popen(cmd, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def reachable(settings: config.Settings) -> int:
    """Contacts the switch has qualified as reachable (``pjsip show contacts``: status ``Avail``)."""
    return sum(" Avail " in line for line in chroot.asterisk_rx(settings, "pjsip show contacts").splitlines())


async def answered_by(db: Path, number: str) -> tuple[str, float] | None:
    """(seat, seconds from arrival to connected) of the newest stored call from ``number``, once connected."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        row = conn.execute(
            "SELECT seat, received_at, connected_at FROM calls WHERE caller_number = ? AND connected_at IS NOT NULL",
            (number,),
        ).fetchone()
    if row is None:
        return None
    return row[0], (datetime.fromisoformat(row[2]) - datetime.fromisoformat(row[1])).total_seconds()


async def run(args: argparse.Namespace, slot: int) -> int:
    async with bench_stack(args.seats, slot, {"wrap_up_s": 0.0}, controller=False) as stack:
        return await measure(stack, args.seats)


async def measure(stack: Stack, seats: int) -> int:
    settings = stack.settings
    work = stack.state / "phones"
    work.mkdir()
    phones = settings.seats + list(settings.duty_phones.values())
    load_start = os.getloadavg()[0]
    print(f"[seats] registering {seats} seats and {len(phones) - seats} duty phones; load {load_start:.1f}")
    phone_sipp = registrations(settings, phones, work)
    try:

        async def all_reachable() -> bool:
            return await asyncio.to_thread(reachable, settings) >= len(phones)

        registered_s = await until(all_reachable, 120, f"{len(phones)} phones reachable")
        load_ready = os.getloadavg()[0]
        print(f"[seats] {len(phones)} phones reachable after {registered_s:.1f} s; starting the controller")
        stack.start_controller()  # the times below are from here: until() counts from its call
        async with aiohttp.ClientSession() as http:

            async def ready() -> bool:
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"{stack.base_url}/readyz") as resp:
                        return resp.status == 200
                return False

            async def seats_available() -> bool:
                text = await get_text(http, f"{stack.base_url}/metrics")
                return metric(text, 'padang112_seats{state="available"}') == seats

            ready_s = await until(ready, READY_TIMEOUT_S, "/readyz 200")
            available_s = await until(seats_available, 60, "every seat available") + ready_s
            load_end = os.getloadavg()[0]
            number = "081300000001"
            caller = sipp(settings, settings.carriers[0].address, [number], 1.0, 2.0, work)
            await asyncio.to_thread(caller.wait, 60)
            db = settings.state_dir / "padang112.db"

            async def connected() -> bool:
                return await answered_by(db, number) is not None

            await until(connected, 30, "the call answered by a seat")
            seat, answer_s = await answered_by(db, number) or ("-", 0.0)
    finally:
        phone_sipp.terminate()
        phone_sipp.wait(timeout=10)
    loads = f"{load_start:.1f} / {load_ready:.1f} / {load_end:.1f}"
    rows = [
        ("phones registered by SIPp (digest)", f"{seats} seats + {len(phones) - seats} duty phones"),
        ("all reachable (qualified) after", f"{registered_s:.1f} s"),
        ("controller start → /readyz 200", f"{ready_s:.2f} s"),
        ("controller start → every seat available (/metrics)", f"{available_s:.2f} s"),
        ("a 112 call → connected to a seat (database)", f"{seat}, {answer_s:.2f} s after arrival"),
        ("load average (1 min): start / controller start / ready", loads),
    ]
    print(f"\n{table(rows)}\n(2 cores shared with other sessions: figures are noisy)")
    return 0 if ready_s < 5.0 else 2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seats", type=int, default=200, help="call-taker seats (the 7 agencies' duty phones too)")
    args = parser.parse_args()
    slot = int(os.environ.get("P112_TEST_SLOT", "0"))
    return asyncio.run(run(args, slot))


if __name__ == "__main__":
    sys.exit(main())
