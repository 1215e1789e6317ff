"""``padang112 user add|passwd|disable|list|totp-enrol|totp-reset``: account administration from the server's shell.

Passwords are never taken as arguments (they would land in the shell history and in ``ps``): either typed
twice at a prompt, or one line on standard input with ``--password-stdin`` (for scripts). ``totp-enrol``
prints a new second-factor secret and its ``otpauth://`` URI once (give them to the user in person, to type or
paste into an authenticator app); ``totp-reset`` is the recovery for a lost phone. Exit codes: 0 done,
2 bad input (unknown role, weak password, no such user, ...), 1 anything else.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from padang112.accounts import AGENCIES, ROLES
from padang112.config import Settings

if TYPE_CHECKING:  # imported in run(): building the parser must not load argon2 and SQLAlchemy
    from sqlalchemy.ext.asyncio import AsyncEngine

    from padang112.accounts.users import UserStore

OK, FAILED, BAD_INPUT = 0, 1, 2


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Register ``user`` and its actions on the top-level parser's sub-parsers; returns the ``user`` parser."""
    user = sub.add_parser("user", help="console accounts: add, passwd, disable, list, totp-enrol, totp-reset")
    actions = user.add_subparsers(dest="user_action", required=True)
    add = actions.add_parser("add", help="create an account")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--agency", choices=AGENCIES, help="required for --role agency")
    add.add_argument("--name", help="display name (default: the username)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    passwd = actions.add_parser("passwd", help="set a new password (also signs the user out everywhere)")
    passwd.add_argument("username")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    disable = actions.add_parser("disable", help="disable an account and end its sessions")
    disable.add_argument("username")
    actions.add_parser("list", help="list accounts")
    enrol = actions.add_parser("totp-enrol", help="give an admin or supervisor a second factor (TOTP); prints it")
    enrol.add_argument("username")
    reset = actions.add_parser("totp-reset", help="remove a user's second factor (lost phone); they enrol again")
    reset.add_argument("username")
    return user


class _Refused(Exception):
    """Bad input found before touching the database."""


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise _Refused("--password-stdin: nothing on standard input")
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise _Refused("standard input is not a terminal: use --password-stdin to pass the password")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password (again): ") != first:
        raise _Refused("the two passwords differ")
    return first


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _users(engine: AsyncEngine) -> UserStore:
    from padang112.accounts.users import UserStore

    return UserStore(engine)


async def _add(engine: AsyncEngine, args: argparse.Namespace, password: str | None) -> str:
    assert password is not None
    user = await _users(engine).create(
        args.username, role=args.role, password=password, display_name=args.name, agency=args.agency, by=_actor()
    )
    return f"user {user.username} ({user.role}{'/' + user.agency if user.agency else ''}) created"


async def _passwd(engine: AsyncEngine, args: argparse.Namespace, password: str | None) -> str:
    assert password is not None
    await _users(engine).set_password(args.username, password, by=_actor())
    return f"password of {args.username} changed; its sessions are ended"


async def _disable(engine: AsyncEngine, args: argparse.Namespace, password: str | None) -> str:
    await _users(engine).disable(args.username, by=_actor())
    return f"user {args.username} disabled; its sessions are ended"


async def _list(engine: AsyncEngine, args: argparse.Namespace, password: str | None) -> str:
    rows = [("USERNAME", "ROLE", "AGENCY", "STATUS", "TOTP", "NAME")]
    for u in await _users(engine).list():
        status = "disabled" if u.disabled else "active"
        rows.append((u.username, u.role, u.agency or "-", status, "yes" if u.second_factor else "-", u.display_name))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r[:5], widths, strict=True)) + "  " + r[5] for r in rows)


async def _totp_enrol(engine: AsyncEngine, args: argparse.Namespace, password: str | None) -> str:
    from padang112.accounts import totp
    from padang112.accounts.second_factor import SecondFactorStore

    done = await SecondFactorStore(engine).enrol(args.username, by=_actor())
    return (
        f"kode verifikasi (TOTP) untuk {done.username} / second factor for {done.username}:\n"
        f"  rahasia / secret: {totp.grouped(done.secret)}\n"
        f"  {done.uri}\n"
        "Ketik rahasia itu di aplikasi autentikator (Google Authenticator, FreeOTP, Aegis...), atau tempel URI-nya;\n"
        "type the secret into an authenticator app, or paste the URI. It is shown only now; its sessions are ended."
    )


async def _totp_reset(engine: AsyncEngine, args: argparse.Namespace, password: str | None) -> str:
    from padang112.accounts.second_factor import SecondFactorStore

    await SecondFactorStore(engine).reset(args.username, by=_actor())
    return f"second factor of {args.username} removed; its sessions are ended (enrol again: totp-enrol)"


_Action = Callable[["AsyncEngine", argparse.Namespace, str | None], Awaitable[str]]
_ACTIONS: dict[str, tuple[_Action, bool]] = {  # action, needs a password
    "add": (_add, True),
    "passwd": (_passwd, True),
    "disable": (_disable, False),
    "list": (_list, False),
    "totp-enrol": (_totp_enrol, False),
    "totp-reset": (_totp_reset, False),
}


def run(settings: Settings, args: argparse.Namespace) -> int:
    from padang112.accounts.users import AccountError
    from padang112.storage import migrate
    from padang112.storage.db import create_engine

    action, needs_password = _ACTIONS[args.user_action]
    try:
        password = _read_password(args.password_stdin) if needs_password else None
    except _Refused as exc:
        print(f"padang112 user {args.user_action}: {exc}", file=sys.stderr)
        return BAD_INPUT

    async def go() -> str:
        engine = create_engine(settings.db_url)
        try:
            return await action(engine, args, password)
        finally:
            await engine.dispose()

    try:
        migrate.upgrade(settings.db_url)
        print(asyncio.run(go()))
    except AccountError as exc:
        print(f"padang112 user {args.user_action}: {exc}", file=sys.stderr)
        return BAD_INPUT
    except Exception as exc:
        print(f"padang112 user {args.user_action}: failed: {exc}", file=sys.stderr)
        return FAILED
    return OK
