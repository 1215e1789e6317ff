"""``padang112 camera add|list|disable``: the camera registry from the server's shell.

A stream URL with a password is never taken as an argument (it would land in the shell history and in
``ps``): pass it on standard input with ``--url-stdin``. ``list`` shows URLs with their password masked.
Exit codes as ``padang112 user``: 0 done, 2 bad input, 1 anything else.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from urllib.parse import urlsplit

from padang112.accounts.cli import BAD_INPUT, FAILED, OK, _actor
from padang112.cameras.model import KINDS, STREAM_TYPES
from padang112.config import Settings


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    camera = sub.add_parser("camera", help="CCTV cameras: add, list, disable")
    actions = camera.add_subparsers(dest="camera_action", required=True)
    add = actions.add_parser("add", help="register a camera")
    add.add_argument("name")
    add.add_argument("--kecamatan", required=True)
    add.add_argument("--location", default="", help="where it looks (free text)")
    add.add_argument("--lat", type=float, required=True)
    add.add_argument("--lon", type=float, required=True)
    add.add_argument("--kind", choices=KINDS, default="traffic")
    add.add_argument("--type", dest="stream_type", choices=STREAM_TYPES, required=True)
    url = add.add_mutually_exclusive_group(required=True)
    url.add_argument("--url", help="stream URL without a password")
    url.add_argument("--url-stdin", action="store_true", help="read the stream URL from standard input")
    actions.add_parser("list", help="list cameras with their status")
    disable = actions.add_parser("disable", help="disable a camera (no longer probed, watched or listed)")
    disable.add_argument("camera_id", type=int)
    return camera


def _stream_url(args: argparse.Namespace) -> str:
    if args.url_stdin:
        return sys.stdin.readline().strip()
    if urlsplit(args.url).password is not None:
        raise ValueError("a URL with a password must come through --url-stdin, not the command line")
    return str(args.url)


async def _run(settings: Settings, args: argparse.Namespace) -> str:
    from padang112.cameras.addresses import networks
    from padang112.cameras.model import CameraDraft
    from padang112.cameras.registry import CameraNotFound, CameraRegistry
    from padang112.cameras.urls import redact
    from padang112.cameras.validation import validate
    from padang112.storage.db import create_engine
    from padang112.wib import WIB

    engine = create_engine(settings.db_url)
    try:
        registry = CameraRegistry(engine)
        if args.camera_action == "add":
            draft = validate(
                CameraDraft(
                    args.name,
                    args.kecamatan,
                    args.location,
                    args.lat,
                    args.lon,
                    args.kind,
                    args.stream_type,
                    _stream_url(args),
                ),
                allowed=networks(settings.cameras.allowed_networks),
            )
            camera = await registry.add(draft, _actor())
            return f"camera {camera.id} ({camera.name}, {camera.kecamatan}, {camera.stream_type}) added"
        if args.camera_action == "disable":
            try:
                camera = await registry.update(args.camera_id, {"enabled": False}, _actor())
            except CameraNotFound:
                raise ValueError(f"no camera {args.camera_id}") from None
            return f"camera {camera.id} ({camera.name}) disabled"
        rows = [("ID", "NAME", "KECAMATAN", "KIND", "TYPE", "STATE", "LAST SEEN (WIB)", "URL")]
        for c in await registry.all():
            seen = c.last_seen_at.astimezone(WIB).strftime("%d-%m-%Y %H:%M:%S") if c.last_seen_at else "-"
            rows.append(
                (
                    str(c.id),
                    c.name,
                    c.kecamatan,
                    c.kind,
                    c.stream_type,
                    c.status if c.enabled else "disabled",
                    seen,
                    redact(c.stream_url),
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
        return "\n".join("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=False)) + "  " + r[-1] for r in rows)
    finally:
        await engine.dispose()


def run(settings: Settings, args: argparse.Namespace) -> int:
    from padang112.cameras.validation import ValidationError
    from padang112.storage import migrate

    try:
        migrate.upgrade(settings.db_url)
        print(asyncio.run(_run(settings, args)))
    except ValidationError as exc:
        for name, (_, english) in exc.errors.items():
            print(f"padang112 camera {args.camera_action}: {name}: {english}", file=sys.stderr)
        return BAD_INPUT
    except ValueError as exc:
        print(f"padang112 camera {args.camera_action}: {exc}", file=sys.stderr)
        return BAD_INPUT
    except Exception as exc:
        print(f"padang112 camera {args.camera_action}: failed: {exc}", file=sys.stderr)
        return FAILED
    return OK
