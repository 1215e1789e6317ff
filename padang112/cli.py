"""The ``padang112`` command line.

Each sub-command imports its module lazily so that, for example, ``padang112 asterisk status`` works on a
machine where the simulator's pjsua2 wheel is not installed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from padang112 import config
from padang112.accounts import cli as user_cli
from padang112.cameras import cli as camera_cli
from padang112.ops import cli as ops_cli
from padang112.planning import cli as planning_cli


def _asterisk(settings: config.Settings, args: argparse.Namespace) -> int:
    from padang112.pbx import chroot

    if args.action == "taskprocessors":
        from padang112.pbx import taskprocessors

        return taskprocessors.run(settings, args.listen, args.top)
    action = {
        "install": chroot.install,
        "prepare": chroot.prepare,
        "start": chroot.start,
        "stop": chroot.stop,
        "status": chroot.status,
        "render": chroot.render,
    }[args.action]
    return action(settings)


def _edge(settings: config.Settings, args: argparse.Namespace) -> int:
    from padang112.edge import process

    if args.action == "render":
        print(f"konfigurasi edge / the edge's configuration: {process.prepare(settings)}")
        return 0
    return {"check": process.check, "run": process.run}[args.action](settings)


def _cluster(settings: config.Settings, args: argparse.Namespace) -> int:
    from padang112.cluster import command

    return command.run(settings, args.action)


def _listen_address(text: str) -> tuple[str, int]:
    from padang112.pbx import taskprocessors

    return taskprocessors.listen_address(text)


def _top_count(text: str) -> int:
    from padang112.pbx import taskprocessors

    return taskprocessors.top_count(text)


def _serve(settings: config.Settings, args: argparse.Namespace) -> int:
    from padang112 import service

    return service.run(settings)


def _simulate(settings: config.Settings, args: argparse.Namespace) -> int:
    from padang112.simulator import demo

    return demo.main(settings, args.sim_args)


def _sim_day(settings: config.Settings, args: argparse.Namespace) -> int:
    from padang112.planning import commands
    from padang112.web import sim_report

    return commands.run_sim_day(settings, args, sim_report.to_html)


def _db(settings: config.Settings, args: argparse.Namespace) -> int:
    from padang112.storage import migrate
    from padang112.storage.db import shown

    migrate.upgrade(settings.db_url)
    print(f"database at {shown(settings.db_url)} is up to date")
    return 0


def _secrets(settings: config.Settings, args: argparse.Namespace) -> int:
    secrets = settings.secrets()
    print(f"secrets in {settings.secrets_path}")
    if args.metrics_password_file:
        config.write_private(Path(args.metrics_password_file), secrets.metrics_password, mode=0o640)
        print(f"Asterisk's metrics password in {args.metrics_password_file} (for Prometheus's password_file)")
    return 0


def _user(settings: config.Settings, args: argparse.Namespace) -> int:
    return user_cli.run(settings, args)


def _camera(settings: config.Settings, args: argparse.Namespace) -> int:
    return camera_cli.run(settings, args)


def _tls(settings: config.Settings, args: argparse.Namespace) -> int:
    from padang112.web import tls

    cert, key = tls.self_signed(settings, args.host or [])
    print(f'[web] tls_cert = "{cert}"\n[web] tls_key = "{key}"  (self-signed: for the demo only)')
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="padang112", description="Padang 112 emergency call handling")
    parser.add_argument("--config", help="TOML settings file (default: $PADANG112_CONFIG or ./padang112.toml)")
    sub = parser.add_subparsers(dest="command", required=True)

    ast = sub.add_parser("asterisk", help="install, start, stop or inspect the Asterisk switch (chroot)")
    ast.add_argument("action", choices=["install", "prepare", "start", "stop", "status", "render", "taskprocessors"])
    ast.add_argument(
        "--listen",
        type=_listen_address,
        metavar="ADDRESS:PORT",
        help="taskprocessors: serve Prometheus gauges there (loopback only) instead of printing them once",
    )
    ast.add_argument(
        "--top", type=_top_count, default=10, help="taskprocessors: per-queue series for the N fullest only"
    )
    ast.set_defaults(func=_asterisk)

    edge = sub.add_parser("edge", help="the SIP edge (Kamailio, [edge]): render, check or run it in the foreground")
    edge.add_argument("action", choices=["render", "check", "run"])
    edge.set_defaults(func=_edge)

    cluster = sub.add_parser(
        "cluster",
        help="the redundant room on this machine's loopback ([cluster]: PostgreSQL, the nodes' Asterisk, the edge, "
        "two controllers): up, down, status, or render (what docker-compose.yml's profile cluster mounts)",
    )
    cluster.add_argument("action", choices=["up", "down", "status", "render"])
    cluster.set_defaults(func=_cluster)

    serve = sub.add_parser(
        "serve", help="run the call controller and the web console (PostgreSQL: waits as standby until it leads)"
    )
    serve.set_defaults(func=_serve)

    sim = sub.add_parser(
        "simulate", help="simulated citizens and softphones (pjsua2); see simulate --help", add_help=False
    )
    sim.set_defaults(func=_simulate)

    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"])
    db.set_defaults(func=_db)

    sec = sub.add_parser("secrets", help="generate missing secrets (passwords, session key)")
    sec.add_argument(
        "--metrics-password-file", metavar="FILE", help="also write the password of Asterisk's /metrics to FILE (0640)"
    )
    sec.set_defaults(func=_secrets)

    tls_parser = sub.add_parser("tls", help="selfsigned: a self-signed certificate for the console (demo)")
    tls_parser.add_argument("action", choices=["selfsigned"])
    tls_parser.add_argument("--host", action="append", help="another host name or address the certificate names")
    tls_parser.set_defaults(func=_tls)

    user_cli.add_parser(sub).set_defaults(func=_user)
    camera_cli.add_parser(sub).set_defaults(func=_camera)
    ops_cli.add_parsers(sub)  # backup, restore, verify, retention, keep, doctor
    planning_cli.add_parsers(sub).set_defaults(func=_sim_day)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if args.command == "simulate":
        args.sim_args = [a for a in rest if a != "--"] if rest[:1] == ["--"] else rest
    elif rest:
        parser.error(f"unrecognised arguments: {' '.join(rest)}")
    try:
        settings = config.load(args.config)
    except (OSError, ValueError) as exc:
        print(f"padang112: configuration error: {exc}", file=sys.stderr)
        return 2
    return int(args.func(settings, args) or 0)


if __name__ == "__main__":
    sys.exit(main())
