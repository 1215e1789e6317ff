"""Configuration: one TOML file, environment overrides, and generated secrets.

Lookup order for the file: ``--config`` argument, ``PADANG112_CONFIG``, ``./padang112.toml`` if present,
else built-in defaults. Any scalar setting can be overridden from the environment as
``PADANG112_<SECTION>__<KEY>`` (for example ``PADANG112_WEB__PORT=8090``).

Secrets (AMI/ARI/seat passwords, session key) are never defaults in the repository: they are generated on
first use into ``<state_dir>/secrets.toml`` (mode 0600) and read back from there.
"""

from __future__ import annotations

import dataclasses
import os
import secrets as _secrets
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CARRIERS = ("telkom", "telkomsel", "xl", "indosat", "three", "smartfren")
# database_url schemes padang112 runs on -> the engine (storage/db.py); "postgresql" alone means asyncpg
DATABASE_SCHEMES = {"sqlite+aiosqlite": "sqlite", "postgresql+asyncpg": "postgresql", "postgresql": "postgresql"}
DATABASE_FORMS = "sqlite+aiosqlite:///<file> or postgresql+asyncpg://<user>:<password>@<host>:<port>/<database>"
CLUSTER_ROLE = "padang112"  # the local cluster's PostgreSQL role and database ([cluster])


@dataclass(frozen=True)
class Carrier:
    name: str
    address: str  # source IP address the carrier's trunk sends from


def _default_carriers() -> list[Carrier]:
    return [Carrier(name, f"127.0.0.{11 + i}") for i, name in enumerate(CARRIERS)]


@dataclass
class AsteriskSettings:
    root: Path = Path("/var/lib/padang112/asterisk-root")
    instance: str = "main"  # several instances (demo, tests) can share one chroot
    bind_address: str = "127.0.0.1"  # SIP (carriers' trunks, seats, duty phones) and RTP
    manager_address: str = "127.0.0.1"  # ARI and AMI: loopback only (render refuses anything else)
    sip_port: int = 5060
    http_port: int = 8088  # ARI
    ami_port: int = 5038
    rtp_start: int = 10000
    rtp_end: int = 14999
    app: str = "padang112"
    mirror: str = ""  # empty: taken from the host's apt sources
    sip_tls_port: int = 0  # SIP over TLS for seats and duty phones on bind_address (0: off; pbx/sip_tls.py)
    tls_cert: str = ""  # SIP TLS certificate and key (PEM), copied into the instance's configuration
    tls_key: str = ""
    secure_phones: tuple[str, ...] = ()  # seats/duty phones that must use TLS + SRTP; "*" for all of them
    # This Asterisk's systemname (asterisk.conf): the prefix of its channels' unique ids, so two nodes' call ids
    # never collide and a call id names its node. Empty on the single box (ids as before); a node's name with
    # several nodes ([[nodes]]).
    systemname: str = ""

    @property
    def ari_url(self) -> str:
        """Where the controller reaches ARI: always the loopback management address, never the SIP one."""
        return f"http://{self.manager_address}:{self.http_port}"


@dataclass
class CallHandlingSettings:
    emergency_numbers: tuple[str, ...] = ("112", "110", "113", "118", "119")
    country_code: str = "62"  # "+62112" and "62112" reach 112
    seat_count: int = 6
    seat_prefix: str = "seat"
    ring_timeout_s: float = 15.0
    wrap_up_s: float = 10.0
    position_announce_s: float = 30.0
    auto_ready_on_register: bool = True  # until the console's sign-in exists, a registered seat is ready
    seat_retry_s: float = 5.0  # a seat whose phone refused a call (busy, declined...) rests this long
    seat_failures_to_pause: int = 3  # refused or dropped calls in a row that pause a seat (phone_failing)
    min_talk_s: float = 2.0  # a seat hanging up sooner after answering dropped the call: the caller goes back
    fallback_queue: str = "padang112-fallback"
    duty_prefix: str = "duty-"  # agency duty phones are PJSIP endpoints duty-damkar, duty-bpbd, ...
    duty_retry_s: float = 30.0  # a duty phone that did not press 1 is called again after this long
    duty_ring_s: float = 25.0
    callback_deadline_s: float = 300.0  # an abandoned caller should be called back within this time
    callback_daily_cap: int = 3  # call-back attempts per number within 24 h (toll-fraud guard)


@dataclass
class WebSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    live_recheck_s: float = 10.0  # each /ws re-checks its sign-in session this often (closed when it ended)
    # Reverse proxies whose X-Forwarded-For is believed (their own address, as the console sees it); empty: none,
    # every request's address is the TCP peer's. See docs/SECURITY.md.
    trusted_proxies: tuple[str, ...] = ()
    tls_cert: str = ""  # the console's certificate (PEM); with tls_key the console serves HTTPS (web/tls.py)
    tls_key: str = ""
    insecure_http: bool = False  # plain HTTP without Secure cookies: allowed on a loopback host only
    require_totp: bool = False  # admins and supervisors without a second factor (TOTP) cannot sign in


@dataclass
class CameraSettings:
    """CCTV cameras (see :mod:`padang112.cameras`)."""

    probe_interval_s: float = 30.0  # each camera's stream is checked this often
    probe_timeout_s: float = 5.0
    near_radius_m: float = 1500.0  # cameras listed for an incident lie within this distance
    near_limit: int = 6
    restream_idle_s: float = 30.0  # an RTSP restream nobody fetched for this long is stopped
    wall_reload_h: float = 4.0  # the wall page reloads itself this often (Chromium's media memory; 0: never)
    ffmpeg: str = "ffmpeg"
    # camera networks (CIDR): private addresses are fetched from only inside these (cameras/addresses.py)
    allowed_networks: tuple[str, ...] = ()


@dataclass
class RetentionSettings:
    """How long personal data is kept (UU 27/2022: no longer than its purpose needs); 0 keeps it for ever."""

    recordings_days: int = 365
    call_records_days: int = 730
    audit_log_days: int = 730
    run_at: str = "02:30"  # WIB, daily


@dataclass
class OperationsSettings:
    """Backups and the go-live checks of ``padang112 doctor``."""

    backup_dir: Path = Path("/var/backups/padang112")
    backup_max_age_h: float = 26.0  # doctor fails when the newest backup is older
    tls_certificates: tuple[str, ...] = ()  # PEM files doctor checks for expiry
    min_disk_free_pct: float = 15.0


@dataclass
class MetricsSettings:
    """``GET /metrics`` (see :mod:`padang112.metrics`)."""

    # Prometheus servers may scrape from these networks without a console session; anyone else needs a
    # supervisor's or admin's session. Loopback only by default.
    scrape_addresses: tuple[str, ...] = ("127.0.0.0/8", "::1/128")
    heartbeat_s: float = 5.0  # ARI and AMI are sent a round trip this often (their last-event age)
    loop_lag_interval_s: float = 0.5  # the event loop's lag is measured this often


@dataclass
class EdgeSettings:
    """The SIP edge (Kamailio, issue 13): off by default, when the one Asterisk takes SIP itself (padang112.edge)."""

    enabled: bool = False
    address: str = "127.0.0.1"  # Kamailio's SIP address: carriers' trunks and phones point here
    port: int = 5060
    # Asterisk nodes it dispatches carriers' calls to ("host:port"); empty: this box's [asterisk] SIP address
    nodes: tuple[str, ...] = ()
    phones: tuple[str, ...] = ("*",)  # seats/duty phones that register at the edge ("*": all; TLS phones stay direct)
    probe_interval_s: int = 1  # OPTIONS to every node this often; a silent or failing node gets no new calls
    node_timeout_ms: int = 1500  # no answer (not even 100 Trying) from a node this long: the next node is tried
    pike_requests: int = 40  # more requests than this in 2 s from one address (never a carrier's) block it
    run_dir: Path = Path("/run/padang112-edge")  # pid file and control socket
    kamailio: str = "/usr/sbin/kamailio"


@dataclass
class ClusterSettings:
    """The local cluster of ``padang112 cluster up`` (issue 13; ``padang112/cluster/local.py``): a PostgreSQL server,
    one Asterisk instance per ``[[nodes]]``, the SIP edge and two controllers, all on this machine's loopback, to
    see the redundant room work (the demo, the tests). Off: the commands refuse; nothing else reads it but the
    database's address (:attr:`Settings.db_url`)."""

    enabled: bool = False
    postgres_port: int = 5440  # the cluster's own PostgreSQL server, on 127.0.0.1 only
    postgres_dir: Path = Path("/var/lib/postgresql/padang112-cluster")  # its data (owned by the postgres account)
    standby_web_port: int = 8181  # the second controller's console; the first one's is [web] port


@dataclass(frozen=True)
class Node:
    """One Asterisk node the controller works (issue 13). ``name`` is that Asterisk's ``systemname``: every call id
    it makes starts with ``<name>-``, which is how the controller knows a call's node (``padang112.nodes``)."""

    name: str
    ari_url: str  # http://<management address>:<http port>
    ami_host: str
    ami_port: int
    sip: str  # host:port the edge dispatches carriers' calls to


@dataclass
class Settings:
    state_dir: Path = Path("/var/lib/padang112")
    recordings_dir: Path = PROJECT_ROOT / "recordings"
    database_url: str = ""  # empty: sqlite file in state_dir
    log_level: str = "INFO"
    log_format: str = "text"  # "json": one JSON object per line (for a log shipper)
    asterisk: AsteriskSettings = field(default_factory=AsteriskSettings)
    calls: CallHandlingSettings = field(default_factory=CallHandlingSettings)
    web: WebSettings = field(default_factory=WebSettings)
    cameras: CameraSettings = field(default_factory=CameraSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    operations: OperationsSettings = field(default_factory=OperationsSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    edge: EdgeSettings = field(default_factory=EdgeSettings)
    cluster: ClusterSettings = field(default_factory=ClusterSettings)
    carriers: list[Carrier] = field(default_factory=_default_carriers)
    nodes: list[Node] = field(default_factory=list)  # [[nodes]]; empty: the one [asterisk] of this box
    config_path: Path | None = None

    @property
    def db_url(self) -> str:
        """``database_url``; else the local cluster's PostgreSQL (its password from the secrets file, so no
        configuration file holds one); else the SQLite file in ``state_dir``."""
        if self.database_url:
            return self.database_url
        if self.cluster.enabled:
            password = self.secrets().database_password
            return (
                f"postgresql+asyncpg://{CLUSTER_ROLE}:{password}@127.0.0.1:{self.cluster.postgres_port}/{CLUSTER_ROLE}"
            )
        return f"sqlite+aiosqlite:///{self.state_dir / 'padang112.db'}"

    @property
    def seats(self) -> list[str]:
        c = self.calls
        return [f"{c.seat_prefix}{i:02d}" for i in range(1, c.seat_count + 1)]

    @property
    def duty_phones(self) -> dict[str, str]:
        """Agency -> its duty phone's SIP endpoint (escalation calls and warm hand-offs go only there)."""
        from padang112.incidents.model import AGENCIES  # the agencies are domain data, not settings

        return {agency: f"{self.calls.duty_prefix}{agency}" for agency in AGENCIES}

    @property
    def secrets_path(self) -> Path:
        return self.state_dir / "secrets.toml"

    def secrets(self) -> Secrets:
        return load_or_create_secrets(self.secrets_path, self.seats, list(self.duty_phones.values()))


@dataclass(frozen=True)
class Secrets:
    ami_password: str
    ari_password: str
    session_key: str
    seat_passwords: dict[str, str]
    duty_passwords: dict[str, str] = field(default_factory=dict)
    metrics_password: str = ""  # Basic auth of Asterisk's own /metrics (res_prometheus)
    database_password: str = ""  # the local cluster's PostgreSQL role ([cluster])


def _coerce(value: str, current: Any) -> Any:
    if isinstance(current, bool):
        return value.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(current, int):
        return int(value)
    if isinstance(current, float):
        return float(value)
    if isinstance(current, Path):
        return Path(value)
    if isinstance(current, tuple):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    return value


def _apply(obj: Any, data: dict[str, Any], where: str) -> None:
    names = {f.name for f in dataclasses.fields(obj)}
    for key, value in data.items():
        if key not in names:
            raise ValueError(f"unknown setting {where}{key}")
        current = getattr(obj, key)
        if dataclasses.is_dataclass(current):
            if not isinstance(value, dict):
                raise ValueError(f"setting {where}{key} must be a table")
            _apply(current, value, f"{where}{key}.")
        elif key == "carriers":
            setattr(obj, key, [Carrier(str(c["name"]), str(c["address"])) for c in value])
        elif key == "nodes":
            setattr(obj, key, [_node(n) for n in value])
        elif isinstance(value, str):
            setattr(obj, key, _coerce(value, current))
        elif isinstance(current, tuple):
            setattr(obj, key, tuple(str(v) for v in value))
        elif isinstance(current, Path):
            setattr(obj, key, Path(value))
        else:
            setattr(obj, key, value)


def _node(table: dict[str, Any]) -> Node:
    unknown = set(table) - {f.name for f in dataclasses.fields(Node)}
    if unknown:
        raise ValueError(f"unknown setting nodes.{sorted(unknown)[0]}")
    return Node(
        str(table["name"]), str(table["ari_url"]), str(table["ami_host"]), int(table["ami_port"]), str(table["sip"])
    )


def _env_overrides(environ: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith("PADANG112_") or name == "PADANG112_CONFIG":
            continue
        path = name[len("PADANG112_") :].lower().split("__")
        node = out
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return out


def load(path: str | os.PathLike[str] | None = None, environ: dict[str, str] | None = None) -> Settings:
    environ = dict(os.environ if environ is None else environ)
    settings = Settings()
    chosen = path or environ.get("PADANG112_CONFIG")
    if not chosen and Path("padang112.toml").exists():
        chosen = "padang112.toml"
    if chosen:
        file = Path(chosen)
        with file.open("rb") as fh:
            _apply(settings, tomllib.load(fh), "")
        settings.config_path = file.resolve()
    _apply(settings, _env_overrides(environ), "")
    database_engine(settings.db_url.partition("://")[0])
    return settings


def database_engine(scheme: str) -> str:
    """The engine of a database URL's scheme (``sqlite`` or ``postgresql``); ValueError naming what is supported."""
    if scheme not in DATABASE_SCHEMES:
        raise ValueError(
            f"database_url {scheme!r} tidak didukung / is not supported: {DATABASE_FORMS} "
            "(padang112 berjalan di SQLite dan PostgreSQL 15 / runs on SQLite and PostgreSQL 15)"
        )
    return DATABASE_SCHEMES[scheme]


def _token(n: int = 24) -> str:
    return _secrets.token_urlsafe(n)


def write_private(path: Path, text: str, mode: int = 0o600) -> None:
    """Write ``text`` atomically into a file created with ``mode`` (never readable by others on the way)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


KEYS = ("ami_password", "ari_password", "session_key", "metrics_password", "database_password")


def load_or_create_secrets(path: Path, seats: list[str], duty_phones: list[str] | None = None) -> Secrets:
    """Read the secrets file, adding whatever is missing (a new seat, a new key) and saving it 0600."""
    data: dict[str, Any] = {}
    if path.exists():
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    changed = False
    for key in KEYS:
        if not data.get(key):
            data[key] = _token(32 if key == "session_key" else 18)
            changed = True
    tables = {"seat_passwords": seats, "duty_passwords": duty_phones or []}
    for table, names in tables.items():
        passwords = dict(data.get(table, {}))
        for name in names:
            if not passwords.get(name):
                passwords[name] = _token(12)
                changed = True
        data[table] = passwords
    if changed:
        lines = [f'{k} = "{data[k]}"' for k in KEYS]
        for table in tables:
            lines += ["", f"[{table}]"] + [f'"{name}" = "{pw}"' for name, pw in sorted(data[table].items())]
        write_private(path, "# padang112 secrets: generated at install, never commit\n" + "\n".join(lines) + "\n")
    return Secrets(
        ami_password=data["ami_password"],
        ari_password=data["ari_password"],
        session_key=data["session_key"],
        seat_passwords={s: data["seat_passwords"][s] for s in seats},
        duty_passwords={d: data["duty_passwords"][d] for d in duty_phones or []},
        metrics_password=data["metrics_password"],
        database_password=data["database_password"],
    )
