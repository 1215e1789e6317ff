"""Benchmark: time from a citizen's INVITE to the call taker's phone ringing, through the real switch.

Starts its own Asterisk instance ("bench", own ports) and controller, registers simulated seats that answer
after 300 ms (the citizen hangs up 1.5 s after the answer), places N calls at a steady rate from all six
carriers, and prints p50/p90/p99/max of (seat INVITE arrival - caller INVITE sent), both taken from the same
machine's clock.

    .venv/bin/python bench/call_setup.py --calls 50 --rate 2

``--edge``: the carriers call the SIP edge (Kamailio) and the seats register there, so both the caller's INVITE
and the seat's pass through it. ``P112_TEST_SLOT=N`` runs the stack on that slot's ports.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import statistics
import sys
import time

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from stack import bench_stack, percentile

from padang112.simulator import fleet


async def run(calls: int, rate: float, seats: int, edge: bool) -> int:
    slot = int(os.environ.get("P112_TEST_SLOT", "0"))
    async with bench_stack(seats, slot, edge=edge) as stack:
        settings = stack.settings
        # the citizen ends each call: a seat hanging up within min_talk_s would count as a phone dropping calls
        phones = await fleet.start_seats(settings, settings.seats, stack.simulator, answer_after=0.3)
        # a pjsua2 process holds 4 calls at once; each citizen stays about 2 s
        processes = max(2, math.ceil(rate * 2.5 / 4) + 1)
        citizens = [await stack.simulator(f"citizens{i}") for i in range(processes)]
        await asyncio.sleep(1.0)
        print(f"[bench] {len(phones)} seats registered; placing {calls} calls at {rate}/s", flush=True)
        sent: dict[str, float] = {}
        target = fleet.target_uri(settings, via_edge=edge)
        for i in range(calls):
            carrier = settings.carriers[i % len(settings.carriers)]
            number = f"+62812{i:07d}"
            sent[number] = time.time()
            await citizens[i % len(citizens)].call(
                f"b{i}", target, bind=carrier.address, caller=number, hangup_after=1.5
            )
            await asyncio.sleep(1 / rate)
        await asyncio.sleep(4.0)
        rings: dict[str, float] = {}
        for sim in {id(s): s for s in phones.values()}.values():
            for event in sim.events(pred=lambda e: e.get("event") == "seat_ringing"):
                for number in sent:
                    if number in str(event.get("remote", "")):
                        rings.setdefault(number, event["t"])
        delays = [(rings[n] - sent[n]) * 1000 for n in sent if n in rings]
        missing = len(sent) - len(delays)
        print(
            f"[bench] INVITE -> seat ringing over {len(delays)} calls: p50 {percentile(delays, 50):.1f} ms, "
            f"p90 {percentile(delays, 90):.1f} ms, p99 {percentile(delays, 99):.1f} ms, "
            f"max {max(delays):.1f} ms, mean {statistics.mean(delays):.1f} ms; {missing} calls never rang a seat"
        )
        return 0 if missing == 0 else 2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--rate", type=float, default=2.0, help="calls per second")
    parser.add_argument("--seats", type=int, default=8)
    parser.add_argument("--edge", action="store_true", help="through the SIP edge (Kamailio)")
    args = parser.parse_args()
    return asyncio.run(run(args.calls, args.rate, args.seats, args.edge))


if __name__ == "__main__":
    sys.exit(main())
