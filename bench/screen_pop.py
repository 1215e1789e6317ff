"""Benchmark: time from the seat's phone ringing (its INVITE arrives) to the screen-pop in the call taker's page.

Starts its own stack (bench/stack.py), a call-taker account, Debian's Chromium through Playwright signed in to
seat01, and a softphone for seat01 that answers after 0.5 s and hangs up 0.5 s later. Places N calls one after
another and prints p50/p90/p99/max of (pop shown in the DOM - seat INVITE), both on this machine's clock.
The controller pushes the pop when it decides to ring the seat, so the pop can precede the INVITE (< 0).

    .venv/bin/python bench/screen_pop.py --calls 20
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import subprocess
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from playwright.async_api import async_playwright
from stack import bench_stack, percentile

from padang112.simulator import fleet

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
WATCH = """() => { window.__pops = [];
  new MutationObserver(() => window.__pops.push([document.getElementById("pop-number").textContent, Date.now()]))
    .observe(document.getElementById("pop-number"), {childList: true, characterData: true, subtree: true}); }"""


async def run(calls: int) -> int:
    async with bench_stack(seats=2) as stack:
        password = secrets.token_urlsafe(12)
        env = dict(os.environ, PADANG112_CONFIG=str(stack.settings.config_path))
        subprocess.run(
            [sys.executable, "-m", "padang112.cli", "user", "add", "rina", "--role", "call_taker", "--password-stdin"],
            input=password + "\n",
            text=True,
            env=env,
            check=True,
        )
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS)
            page = await browser.new_page()
            await page.goto(stack.base_url + "/")
            await page.get_by_label("Nama pengguna").fill("rina")
            await page.get_by_label("Kata sandi").fill(password)
            await page.get_by_role("button", name="Masuk").click()
            await page.wait_for_url("**/kursi")
            await page.get_by_label("Kursi").select_option("seat01")
            await page.get_by_role("button", name="Ambil kursi").click()
            phones = await fleet.start_seats(
                stack.settings, ["seat01"], stack.simulator, answer_after=0.5, hangup_after=0.5
            )
            citizen = await stack.simulator("citizen")
            await page.wait_for_function("document.getElementById('seat-state').dataset.state === 'available'")
            await page.evaluate(WATCH)
            print(f"[bench] call taker signed in to seat01; placing {calls} calls one after another", flush=True)
            target = fleet.target_uri(stack.settings)
            for i in range(calls):
                await citizen.call(
                    f"s{i}", target, bind=stack.settings.carriers[i % 6].address, caller=f"+62813{i:07d}"
                )
                await citizen.wait_call_state(f"s{i}", "DISCONNECTED", 15)
                await asyncio.sleep(1.0)  # wrap-up (0.5 s) before the next call
            pops = dict(await page.evaluate("window.__pops.map(([n, t]) => [n, t / 1000])"))
            rings = phones["seat01"].events(pred=lambda e: e.get("event") == "seat_ringing")
            delays = []
            for ring in rings:
                number = next((n for n in pops if n in str(ring.get("remote", ""))), None)
                if number is not None:
                    delays.append((pops[number] - ring["t"]) * 1000)
            await browser.close()
        print(
            f"[bench] seat INVITE -> screen-pop in the DOM over {len(delays)} calls: "
            f"p50 {percentile(delays, 50):.0f} ms, p90 {percentile(delays, 90):.0f} ms, "
            f"p99 {percentile(delays, 99):.0f} ms, max {max(delays):.0f} ms; {calls - len(delays)} without a pop "
            "(negative: the pop was on screen before the phone's INVITE arrived)"
        )
        return 0 if len(delays) == calls else 2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=20)
    return asyncio.run(run(parser.parse_args().calls))


if __name__ == "__main__":
    sys.exit(main())
