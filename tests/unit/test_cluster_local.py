"""The local cluster's plan (``padang112.cluster.local``): what runs where, from the settings alone; and the shipped
``ops/cluster/padang112.toml`` is one that ``padang112 cluster up`` accepts."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from padang112 import config
from padang112.cluster import command, local

SHIPPED = config.PROJECT_ROOT / "ops" / "cluster" / "padang112.toml"


@pytest.fixture
def shipped(tmp_path: Path) -> config.Settings:
    settings = config.load(SHIPPED, environ={})
    return dataclasses.replace(settings, state_dir=tmp_path)  # its secrets (the database password) in tmp


def _node(settings: config.Settings, i: int, **changes: object) -> config.Settings:
    nodes = list(settings.nodes)
    nodes[i] = dataclasses.replace(nodes[i], **changes)  # type: ignore[arg-type]
    return dataclasses.replace(settings, nodes=nodes)


def test_the_shipped_cluster_file_is_accepted_and_every_port_is_its_own(shipped: config.Settings) -> None:
    local.check(shipped)
    ports = [shipped.cluster.postgres_port, shipped.web.port, shipped.cluster.standby_web_port]
    for node in shipped.nodes:
        ours = local.node_settings(shipped, node).asterisk
        ports += [ours.sip_port, ours.http_port, ours.ami_port]
    assert len(set(ports)) == len(ports), ports
    assert (shipped.edge.address, shipped.edge.port) not in [("127.0.0.1", p) for p in ports]


def test_each_node_is_an_instance_of_its_own_with_its_share_of_the_rtp_range(shipped: config.Settings) -> None:
    n1, n2 = (local.node_settings(shipped, node).asterisk for node in shipped.nodes)
    assert (n1.instance, n1.systemname, n1.sip_port, n1.http_port, n1.ami_port) == (
        "cluster-n1",
        "n1",
        5160,
        8188,
        5138,
    )
    assert (n2.instance, n2.systemname, n2.sip_port, n2.http_port, n2.ami_port) == (
        "cluster-n2",
        "n2",
        5162,
        8189,
        5139,
    )
    assert (n1.rtp_start, n1.rtp_end, n2.rtp_start, n2.rtp_end) == (20000, 20999, 21000, 21999)
    assert n1.ari_url == shipped.nodes[0].ari_url  # the node's Asterisk listens where the controller looks


def test_the_two_controllers_differ_only_in_their_console_port(shipped: config.Settings) -> None:
    a, b = local.controllers(shipped)
    assert (a.name, a.web_port, b.name, b.web_port) == ("a", 8180, "b", 8181)
    assert b.environment == {"PADANG112_WEB__PORT": "8181"}


def test_the_database_is_the_clusters_own_server_with_the_generated_password(shipped: config.Settings) -> None:
    password = shipped.secrets().database_password
    assert len(password) >= 16
    assert shipped.db_url == f"postgresql+asyncpg://padang112:{password}@127.0.0.1:5440/padang112"
    assert password not in SHIPPED.read_text()


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        (lambda s: dataclasses.replace(s, cluster=dataclasses.replace(s.cluster, enabled=False)), "enabled = false"),
        (lambda s: dataclasses.replace(s, config_path=None), "settings file"),
        (lambda s: dataclasses.replace(s, nodes=s.nodes[:1]), "two Asterisk nodes"),
        (lambda s: dataclasses.replace(s, edge=dataclasses.replace(s.edge, enabled=False)), "SIP edge"),
        (lambda s: dataclasses.replace(s, database_url="postgresql+asyncpg://u:p@db/x"), "database_url"),
        (lambda s: dataclasses.replace(s, edge=dataclasses.replace(s.edge, address="10.0.0.5")), "loopback"),
        (lambda s: dataclasses.replace(s, web=dataclasses.replace(s.web, host="0.0.0.0")), "loopback"),
        (lambda s: _node(s, 1, sip="192.168.1.7:5060"), "loopback"),
        (lambda s: _node(s, 1, ami_host="127.0.0.9"), "same address"),
        (lambda s: _node(s, 1, name="n1"), "repeat"),
        (
            lambda s: dataclasses.replace(s, cluster=dataclasses.replace(s.cluster, standby_web_port=s.web.port)),
            "standby_web_port",
        ),
        (
            lambda s: dataclasses.replace(
                s, asterisk=dataclasses.replace(s.asterisk, rtp_end=s.asterisk.rtp_start + 99)
            ),
            "100 ports",
        ),
    ],
)
def test_settings_that_are_no_local_cluster_are_refused_saying_what_to_change(
    shipped: config.Settings, change, refusal: str
) -> None:
    with pytest.raises(ValueError, match=refusal):
        local.check(change(shipped))


@pytest.mark.parametrize(
    ("answer", "role"),
    [
        ({"ready": True, "role": "leader", "epoch": 3}, "leader"),
        ({"ready": False, "role": "standby"}, "standby"),
        ({"ready": False, "role": "leader", "epoch": 3}, None),  # leading, not ready yet (or suspended)
        (None, None),  # not answering
    ],
)
def test_a_controllers_role_is_read_from_its_readyz(answer: dict[str, object] | None, role: str | None) -> None:
    assert command._role(answer) == role


def test_the_commands_refuse_a_file_that_is_no_cluster_with_one_line_and_exit_code_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = config.load(None, environ={"PADANG112_STATE_DIR": str(tmp_path)})
    for action in ("up", "down", "status"):
        assert command.run(plain, action) == 1
    assert capsys.readouterr().err.count("[cluster] error: [cluster] enabled = false") == 3
