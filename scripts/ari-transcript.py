#!/usr/bin/env python3
"""Record what a live Asterisk sends over ARI, as JSON lines, to make transcripts for the adapters' tests.

    .venv/bin/python scripts/ari-transcript.py --config STATE/padang112.toml --seconds 120 > events.jsonl

It listens as its own ARI application with ``subscribeAll``, so it sees every channel's events without touching
the controller's application. Run it beside a live test (``P112_TEST_SLOT=N``) on that slot's configuration.
The test suite's callers use made-up numbers; never record a real switch.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

import aiohttp

from padang112 import config


async def record(settings: config.Settings, seconds: float) -> int:
    ast = settings.asterisk
    url = f"ws://{ast.bind_address}:{ast.http_port}/ari/events"
    params = {"app": "p112-transcript", "subscribeAll": "true"}
    headers = {"Authorization": aiohttp.encode_basic_auth("padang112", settings.secrets().ari_password)}
    count, until = 0, time.monotonic() + seconds
    async with aiohttp.ClientSession(headers=headers) as http, http.ws_connect(url, params=params) as ws:
        while (left := until - time.monotonic()) > 0:
            try:
                msg = await asyncio.wait_for(ws.receive(), timeout=left)
            except TimeoutError:
                break
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            sys.stdout.write(json.dumps(json.loads(msg.data), ensure_ascii=False) + "\n")
            count += 1
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    count = asyncio.run(record(config.load(args.config), args.seconds))
    print(f"{count} events", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
