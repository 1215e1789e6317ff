"""Operations commands: ``backup``, ``restore``, ``verify``, ``retention``, ``keep`` and ``doctor``.

Exit codes: 0 fine, 1 a problem found (a corrupted backup, a changed recording, a failed check), 2 bad input.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from padang112.config import Settings

OK, PROBLEM, BAD_INPUT = 0, 1, 2
KEEP_ROLES = ("supervisor", "admin")
T = TypeVar("T")

SubParsers = argparse._SubParsersAction


def add_parsers(sub: SubParsers) -> None:
    backup = sub.add_parser("backup", help="consistent online backup (database, secrets, recordings, manifest)")
    backup.add_argument("dest", type=Path, help="a new or empty directory")
    backup.set_defaults(func=_backup)
    restore = sub.add_parser("restore", help="restore a checked backup into an empty state directory")
    restore.add_argument("src", type=Path)
    restore.set_defaults(func=_restore)
    verify = sub.add_parser("verify", help="changed, missing or extra recordings; broken event chains")
    verify.add_argument("--lang", choices=("id", "en"), default="id")
    verify.set_defaults(func=_verify)
    retention = sub.add_parser("retention", help="delete what is past its retention time, now")
    retention.add_argument("action", choices=["run"])
    retention.set_defaults(func=_retention)
    keep = sub.add_parser("keep", help="keep marks (legal hold): retention never deletes a kept call or incident")
    actions = keep.add_subparsers(dest="keep_action", required=True)
    add = actions.add_parser("add", help="keep a call or an incident")
    add.add_argument("subject", choices=("call", "incident"))
    add.add_argument("subject_id")
    add.add_argument("--reason", required=True)
    add.add_argument("--by", required=True, help="the supervisor's or admin's username")
    release = actions.add_parser("release", help="release a keep mark")
    release.add_argument("mark_id", type=int)
    release.add_argument("--by", required=True)
    actions.add_parser("list", help="active keep marks")
    keep.set_defaults(func=_keep)
    doctor = sub.add_parser("doctor", help="check this machine before go-live and say what to fix")
    doctor.add_argument("--lang", choices=("id", "en"), default="id")
    doctor.set_defaults(func=_doctor)


def _fail(message: str) -> int:
    print(f"padang112: {message}", file=sys.stderr)
    return PROBLEM


def _backup(settings: Settings, args: argparse.Namespace) -> int:
    from padang112.ops.backup import run_backup
    from padang112.ops.manifest import BackupError

    try:
        run_backup(settings, args.dest)
    except (BackupError, OSError, RuntimeError) as exc:
        return _fail(f"backup gagal / failed: {exc}")
    return OK


def _restore(settings: Settings, args: argparse.Namespace) -> int:
    from padang112.ops.manifest import BackupError
    from padang112.ops.restore import run_restore

    try:
        return run_restore(settings, args.src)
    except (BackupError, OSError, RuntimeError) as exc:
        return _fail(str(exc))


def _with_engine(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    from padang112.storage import migrate
    from padang112.storage.db import create_engine

    async def run() -> T:
        await migrate.upgrade_async(settings.db_url)
        engine = create_engine(settings.db_url)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _verify(settings: Settings, args: argparse.Namespace) -> int:
    from padang112.integrity.verify import render, verify

    report = _with_engine(settings, lambda engine: verify(engine, Path(settings.recordings_dir)))
    for line in render(report, args.lang):
        print(line)
    return OK if report.ok else PROBLEM


def _retention(settings: Settings, args: argparse.Namespace) -> int:
    from padang112 import logs
    from padang112.ops.retention import Retention

    logs.setup(settings.log_level)
    _with_engine(settings, lambda e: Retention(e, settings.retention, Path(settings.recordings_dir)).run_once())
    return OK


def _keep(settings: Settings, args: argparse.Namespace) -> int:
    from padang112.accounts.users import UserStore
    from padang112.ops.keep import KeepError, KeepStore

    async def work(engine: Any) -> int:
        store = KeepStore(engine, lambda: datetime.now(UTC))
        if args.keep_action == "list":
            for mark in await store.active():
                print(f"{mark.id}\t{mark.subject} {mark.subject_id}\t{mark.marked_by}\t{mark.reason}")
            return OK
        user = await UserStore(engine).get_by_username(args.by)
        if user is None or user.role not in KEEP_ROLES or user.disabled:
            print(f"padang112: --by must name an active supervisor or admin, not {args.by!r}", file=sys.stderr)
            return BAD_INPUT
        try:
            if args.keep_action == "add":
                mark = await store.mark(args.subject, args.subject_id, args.reason, user.username)
            else:
                mark = await store.release(args.mark_id, user.username)
        except KeepError as exc:
            print(f"padang112: {exc}", file=sys.stderr)
            return BAD_INPUT
        print(f"keep mark {mark.id}: {mark.subject} {mark.subject_id} ({'released' if mark.released_at else 'kept'})")
        return OK

    return _with_engine(settings, work)


def _doctor(settings: Settings, args: argparse.Namespace) -> int:
    from padang112.ops.doctor import run_doctor

    return run_doctor(settings, args.lang)
