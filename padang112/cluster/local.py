"""The local cluster (``padang112 cluster up``): what runs where, read from the settings alone (pure).

One configuration file describes it (``ops/cluster/padang112.toml``): ``[cluster] enabled``, two or more
``[[nodes]]`` on loopback, ``[edge] enabled``. From it:

- each node's Asterisk is an instance of the shared chroot named ``<[asterisk] instance>-<node>``, with the node's
  addresses and ports, its name as ``systemname``, and its share of ``[asterisk]``'s RTP range;
- the controllers are two ``padang112 serve`` processes on the same settings: ``a`` with the console on ``[web]
  port``, ``b`` on ``[cluster] standby_web_port``; whichever takes the lease in the database first leads;
- the store is the cluster's own PostgreSQL server (``padang112/cluster/postgres.py``) at ``Settings.db_url``.

docker-compose.yml's profile ``cluster`` runs the same parts as containers, from what ``padang112 cluster render``
writes: the nodes' configuration (``node_settings``), the edge's, and ``database_password_file``.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from padang112 import config
from padang112 import nodes as asterisk_nodes

CONTROLLERS = ("a", "b")


@dataclass(frozen=True)
class Controller:
    name: str
    web_port: int

    @property
    def environment(self) -> dict[str, str]:
        """What its ``serve`` gets on top of the settings file (the settings' own override form)."""
        return {"PADANG112_WEB__PORT": str(self.web_port)}


def _loopback(address: str, what: str) -> None:
    if not ipaddress.ip_address(address).is_loopback:
        raise ValueError(f"{what} {address} is not a loopback address: the local cluster runs on this machine only")


def check(settings: config.Settings) -> None:
    """Refuse settings that do not describe a local cluster (raises ValueError, saying what to change)."""
    if not settings.cluster.enabled:
        raise ValueError("[cluster] enabled = false: these settings describe no local cluster (ops/cluster/)")
    if settings.config_path is None:
        raise ValueError("the local cluster needs a settings file (--config): its processes read the same one")
    if len(settings.nodes) < 2:
        raise ValueError("[[nodes]]: a cluster has two Asterisk nodes or more")
    if not settings.edge.enabled:
        raise ValueError("[edge] enabled = false: the cluster's calls come in through the SIP edge")
    if settings.database_url:
        raise ValueError("database_url is set: the local cluster uses its own PostgreSQL server ([cluster])")
    asterisk_nodes.check(settings)
    _loopback(settings.edge.address, "[edge] address")
    _loopback(settings.web.host, "[web] host")
    for node in settings.nodes:
        ari = urlsplit(node.ari_url)
        if ari.hostname != node.ami_host or ari.port is None:
            raise ValueError(f"[[nodes]] {node.name}: ari_url and ami_host must name the same address, with a port")
        _loopback(node.ami_host, f"[[nodes]] {node.name} ami_host")
        _loopback(node.sip.rpartition(":")[0], f"[[nodes]] {node.name} sip")
    ports = [settings.web.port, settings.cluster.standby_web_port]
    if len(set(ports)) != len(ports):
        raise ValueError("[cluster] standby_web_port is [web] port: the two consoles need a port each")
    if rtp_share(settings) < 100:
        raise ValueError("[asterisk] rtp_start..rtp_end: at least 100 ports for each node")


def rtp_share(settings: config.Settings) -> int:
    ast = settings.asterisk
    return (ast.rtp_end - ast.rtp_start + 1) // len(settings.nodes)


def node_settings(settings: config.Settings, node: config.Node) -> config.Settings:
    """The settings node ``node``'s Asterisk is rendered and started from (an instance of the shared chroot)."""
    index = settings.nodes.index(node)
    host, _, sip_port = node.sip.rpartition(":")
    share = rtp_share(settings)
    ast = dataclasses.replace(
        settings.asterisk,
        instance=f"{settings.asterisk.instance}-{node.name}",
        systemname=node.name,
        bind_address=host,
        sip_port=int(sip_port),
        manager_address=node.ami_host,
        ami_port=node.ami_port,
        http_port=urlsplit(node.ari_url).port or 0,
        rtp_start=settings.asterisk.rtp_start + index * share,
        rtp_end=settings.asterisk.rtp_start + (index + 1) * share - 1,
    )
    return dataclasses.replace(settings, asterisk=ast)


def controllers(settings: config.Settings) -> list[Controller]:
    ports = (settings.web.port, settings.cluster.standby_web_port)
    return [Controller(name, port) for name, port in zip(CONTROLLERS, ports, strict=True)]


def base_dir(settings: config.Settings) -> Path:
    """The cluster's own files in the state directory: pids and logs (``cluster up``), the password file."""
    return settings.state_dir / "cluster"


def database_password_file(settings: config.Settings) -> Path:
    """The PostgreSQL role's password alone (secrets.toml's ``database_password``), for the compose server, which
    sets it on every start: the container reads this one secret, not the whole secrets file."""
    return base_dir(settings) / "database-password"
