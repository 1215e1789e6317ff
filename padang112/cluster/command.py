"""``padang112 cluster up|down|status|render``: the whole redundant room on this machine's loopback (issue 13).

``up`` starts what is not running, in the order each part needs the one before: PostgreSQL (initialised and
migrated on first use; its data kept across ``down``), every node's Asterisk, the SIP edge (ready once its
dispatcher has every node active), controller ``a`` (ready: it leads) and controller ``b`` (ready: the standby).
It is idempotent: run again after a part has died (a killed leader, say: the standby leads meanwhile), it starts
only that part again, as systemd's ``Restart=always`` would in production. ``down`` stops them in the reverse
order, the standby before the leader: the leader's orderly stop then hands its waiting callers to the nodes'
fallback queues, and no standby takes over only to be stopped in the middle of its start. ``status`` says what
runs and who leads; exit code 0 only when every part runs.

The edge and the controllers run detached from this command, with their output in ``<state_dir>/cluster/log``
and their pids in ``<state_dir>/cluster/run``. The nodes are instances of the shared chroot (``padang112 asterisk``
starts and stops them the same way); PostgreSQL runs under ``pg_ctl``.

``render`` starts nothing: it writes the configuration docker-compose.yml's profile ``cluster`` mounts into the
same parts as containers (the nodes', the edge's, the database password file).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from padang112 import config
from padang112.cluster import local
from padang112.cluster.postgres import PostgresMissing, Server, port_taken
from padang112.edge import control, topology
from padang112.edge import render as edge_render
from padang112.pbx import chroot

EDGE_READY_S = 20.0
CONTROLLER_READY_S = 90.0
STOP_S = 25.0  # a controller's orderly stop hands waiting callers over first (the unit's TimeoutStopSec=20)
EXIT_SOMETHING_DOWN = 3


class ClusterError(RuntimeError):
    pass


def say(text: str) -> None:
    print(f"[cluster] {text}", flush=True)


def _pid_file(settings: config.Settings, name: str) -> Path:
    return local.base_dir(settings) / "run" / f"{name}.pid"


def _log(settings: config.Settings, name: str) -> Path:
    return local.base_dir(settings) / "log" / f"{name}.log"


def _server(settings: config.Settings) -> Server:
    return Server(settings.cluster.postgres_dir, settings.cluster.postgres_port)


# ---- detached processes (the edge, the controllers) ---------------------------------------------------------


def _running_pid(settings: config.Settings, name: str, marker: str) -> int | None:
    """The pid in ``name``'s pid file when that process lives and is still ours (its command line has
    ``marker``): a pid file left by a crash, its number since reused, means nothing."""
    try:
        pid = int(_pid_file(settings, name).read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except (OSError, ValueError):
        return None
    return pid if marker in cmdline and _alive(pid) else None


def _spawn(settings: config.Settings, name: str, argv: list[str], env: dict[str, str]) -> int:
    for folder in (_pid_file(settings, name).parent, _log(settings, name).parent):
        folder.mkdir(mode=0o750, parents=True, exist_ok=True)
    cli = [sys.executable, "-m", "padang112.cli", "--config", str(settings.config_path)]
    with _log(settings, name).open("ab") as log:
        process = subprocess.Popen(
            [*cli, *argv],
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # not in this command's session: it outlives the command and its terminal
        )
    config.write_private(_pid_file(settings, name), f"{process.pid}\n", mode=0o640)
    return process.pid


def _alive(pid: int) -> bool:
    """The process exists and is not a zombie (a child of ours that exited and was not reaped yet)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _stop_process(settings: config.Settings, name: str, marker: str) -> None:
    pid = _running_pid(settings, name, marker)
    if pid is None:
        say(f"{name}: tidak berjalan / not running")
    else:
        say(f"{name}: menghentikan / stopping (pid {pid})")
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_S
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            say(f"{name}: tidak berhenti dalam {STOP_S:g} s, SIGKILL / did not stop, killed")
            os.kill(pid, signal.SIGKILL)
    _pid_file(settings, name).unlink(missing_ok=True)


def _wait(what: str, timeout_s: float, done: Callable[[], bool], alive: Callable[[], bool], log: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if not alive():
            raise ClusterError(f"{what}: the process exited; see {log}")
        if time.monotonic() > deadline:
            raise ClusterError(f"{what}: not ready after {timeout_s:g} s; see {log}")
        time.sleep(0.2)


# ---- the controllers' own word: /readyz ---------------------------------------------------------------------


def readiness(settings: config.Settings, controller: local.Controller) -> dict[str, object] | None:
    """The controller's ``/readyz`` answer (``ready``, ``role``, ``epoch``...), None when it does not answer."""
    url = f"http://{settings.web.host}:{controller.web_port}/readyz"
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:  # loopback only (local.check)
            return dict(json.load(answer))
    except urllib.error.HTTPError as refused:  # 503: a standby, or a leader not ready yet
        try:
            return dict(json.load(refused))
        except ValueError:
            return None
    except (OSError, ValueError):
        return None


def _role(answer: dict[str, object] | None) -> str | None:
    """``leader`` (ready and leading), ``standby``, or None (not answering, or a leader not ready yet)."""
    if answer is None:
        return None
    if answer.get("ready") is True:
        return "leader"
    return "standby" if answer.get("role") == "standby" else None


# ---- up -----------------------------------------------------------------------------------------------------


def _postgres_up(settings: config.Settings) -> None:
    from padang112.storage import migrate

    server = _server(settings)
    if not server.initialised:
        say(f"postgresql: menyiapkan / initialising {server.data}")
        server.initialise()
    if server.running():
        say(f"postgresql: sudah berjalan / already running (127.0.0.1:{server.port})")
    else:
        if port_taken(server.port):
            raise ClusterError(f"127.0.0.1:{server.port} is taken by another server ([cluster] postgres_port)")
        server.start()
        say(f"postgresql: berjalan / running (127.0.0.1:{server.port}, log {server.log})")
    server.ensure_role(config.CLUSTER_ROLE, settings.secrets().database_password)
    server.ensure_database(config.CLUSTER_ROLE, config.CLUSTER_ROLE)
    migrate.upgrade(settings.db_url)


def _nodes_up(settings: config.Settings) -> bool:
    """Every node's Asterisk running; whether any had to be started."""
    started = False
    for node in settings.nodes:
        node_settings = local.node_settings(settings, node)
        started = started or not chroot.is_running(node_settings)
        if not chroot.installed(node_settings):
            say("asterisk: memasang chroot (sekali, beberapa menit) / installing the chroot (once, minutes)")
            if chroot.install(node_settings) != 0:
                raise ClusterError("padang112 asterisk install failed (see above)")
        if chroot.start(node_settings) != 0:
            raise ClusterError(f"node {node.name}: Asterisk did not start (see above)")
    return started


def _edge_up(settings: config.Settings, nodes_started: bool) -> None:
    """The edge running, with every node active in its dispatcher. A node started again under a running edge must
    stay active over two probes and a probe's timeout: the edge may still hold what it saw of the dead one."""
    pid = _running_pid(settings, "edge", "kamailio")
    steady = 0.0
    if pid is not None:
        say("edge: sudah berjalan / already running")
        if nodes_started:
            steady = 2 * settings.edge.probe_interval_s + settings.edge.node_timeout_ms / 1000
    else:
        pid = _spawn(settings, "edge", ["edge", "run"], {})
        say(f"edge: dimulai / started (pid {pid}, SIP {settings.edge.address}:{settings.edge.port})")
    running = pid
    try:
        control.wait_active(settings, lambda: _alive(running), EDGE_READY_S, steady_s=steady)
    except control.EdgeUnreachable as exc:
        raise ClusterError(f"edge: {exc}; see {_log(settings, 'edge')}") from None
    say("edge: semua node aktif / every node active")


def _controller_up(settings: config.Settings, controller: local.Controller) -> None:
    name = f"controller-{controller.name}"
    if _running_pid(settings, name, "serve") is not None:
        say(f"{name}: sudah berjalan / already running")
        return
    pid = _spawn(settings, name, ["serve"], controller.environment)
    say(f"{name}: dimulai / started (pid {pid}, console http://{settings.web.host}:{controller.web_port}/)")
    _wait(
        name,
        CONTROLLER_READY_S,
        lambda: _role(readiness(settings, controller)) is not None,
        lambda: _alive(pid),
        _log(settings, name),
    )
    say(f"{name}: {_role(readiness(settings, controller))}")


def _every_node_linked(settings: config.Settings) -> None:
    """Until the leader works every node (``/readyz`` names none down): a node started again is linked anew."""

    def linked() -> bool:
        answers = [readiness(settings, controller) for controller in local.controllers(settings)]
        return any(_role(a) == "leader" and a.get("nodes_down") == [] for a in answers if a is not None)

    _wait("the leader's link to every node", CONTROLLER_READY_S, linked, lambda: True, _log(settings, "controller-a"))
    say("pemimpin terhubung ke semua node / the leader works every node")


def up(settings: config.Settings) -> int:
    local.check(settings)
    started = time.monotonic()
    _postgres_up(settings)
    _edge_up(settings, nodes_started=_nodes_up(settings))
    for controller in local.controllers(settings):
        _controller_up(settings, controller)
    _every_node_linked(settings)
    say(f"klaster siap dalam {time.monotonic() - started:.1f} s / the cluster is up")
    return status(settings)


# ---- down ---------------------------------------------------------------------------------------------------


def down(settings: config.Settings) -> int:
    local.check(settings)
    leader_last = sorted(local.controllers(settings), key=lambda c: _role(readiness(settings, c)) == "leader")
    for controller in leader_last:
        _stop_process(settings, f"controller-{controller.name}", "serve")
    _stop_process(settings, "edge", "kamailio")
    left = [node.name for node in reversed(settings.nodes) if chroot.stop(local.node_settings(settings, node)) != 0]
    server = _server(settings)
    server.stop()
    if server.running():  # pg_ctl's own failure is in its log, not worth a traceback here
        left.append(f"postgresql (see {server.log})")
    else:
        say("postgresql: berhenti / stopped (its data kept for the next `cluster up`)")
    if left:
        raise ClusterError(f"masih berjalan / still running: {', '.join(left)}")
    return 0


# ---- render: what docker-compose.yml's profile "cluster" mounts ----------------------------------------------


def render(settings: config.Settings) -> int:
    """Write, without starting anything, what the containers read: every node's Asterisk configuration (the
    instance ``cluster up`` would start, in the shared chroot's ``srv/padang112/<instance>/etc``), the edge's,
    the PostgreSQL role's password file (0640) and the recordings directory the nodes write into."""
    local.check(settings)
    for node in settings.nodes:
        if chroot.render(local.node_settings(settings, node)) != 0:
            raise ClusterError(f"node {node.name}: its configuration was not written (see above)")
    say(f"edge: {edge_render.write_all(settings)}")
    password = local.database_password_file(settings)
    config.write_private(password, settings.secrets().database_password, mode=0o640)
    say(f"postgresql: kata sandi / the role's password in {password}")
    Path(settings.recordings_dir).mkdir(mode=0o770, parents=True, exist_ok=True)
    say(f"rekaman / recordings: {settings.recordings_dir}")
    return 0


# ---- status -------------------------------------------------------------------------------------------------


def _line(part: str, running: bool, detail: str) -> bool:
    state = "berjalan / running" if running else "MATI / DOWN"
    print(f"  {part:<14} {state:<20} {detail}")
    return running


def status(settings: config.Settings) -> int:
    local.check(settings)
    server = _server(settings)
    print(f"klaster lokal / local cluster ({settings.config_path})")
    up_parts = [_line("postgresql", server.running(), f"127.0.0.1:{server.port}, data {server.data}")]
    for node in settings.nodes:
        node_settings = local.node_settings(settings, node)
        running = chroot.is_running(node_settings)
        pid = chroot.pid(node_settings) if running else None
        where = f"SIP {node.sip}, ARI {node.ari_url}" + (f", pid {pid}" if pid else "")
        up_parts.append(_line(f"asterisk {node.name}", running, where))
    up_parts.append(_edge_status(settings))
    roles = []
    for controller in local.controllers(settings):
        name = f"controller-{controller.name}"
        pid = _running_pid(settings, name, "serve")
        answer = readiness(settings, controller) if pid else None
        role = _role(answer)
        roles.append(role)
        epoch = f", epoch {answer.get('epoch')}" if answer and answer.get("epoch") is not None else ""
        detail = f"http://{settings.web.host}:{controller.web_port}/ {role or 'belum siap / not ready'}{epoch}"
        up_parts.append(_line(name, pid is not None and role is not None, detail + (f", pid {pid}" if pid else "")))
    leaders = roles.count("leader")
    if leaders != 1:
        print(f"  PERHATIAN / WARNING: {leaders} leaders (one is expected)")
    return 0 if all(up_parts) and leaders == 1 else EXIT_SOMETHING_DOWN


def _edge_status(settings: config.Settings) -> bool:
    pid = _running_pid(settings, "edge", "kamailio")
    address = f"SIP {settings.edge.address}:{settings.edge.port}"
    if pid is None:
        return _line("edge", False, address)
    try:
        flags = control.node_flags(settings)
    except control.EdgeUnreachable as exc:
        return _line("edge", False, f"{address}, pid {pid}, control socket: {exc}")
    names = {topology.node_uri(*_host_port(node.sip)): node.name for node in settings.nodes}
    shown = ", ".join(f"{names.get(uri, uri)} {'aktif / active' if f[:1] == 'A' else f}" for uri, f in flags.items())
    return _line("edge", True, f"{address}, pid {pid}; nodes: {shown}")


def _host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host, int(port)


def run(settings: config.Settings, action: str) -> int:
    """The CLI's entry: known failures become one ``[cluster] error:`` line and exit code 1."""
    try:
        return {"up": up, "down": down, "status": status, "render": render}[action](settings)
    except (ClusterError, PostgresMissing, ValueError, RuntimeError, OSError) as exc:
        print(f"[cluster] error: {exc}", file=sys.stderr, flush=True)
        return 1
