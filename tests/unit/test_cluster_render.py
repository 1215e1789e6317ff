"""``padang112 cluster render``: what docker-compose.yml's profile "cluster" mounts, written without starting anything
(the nodes' Asterisk configuration, the edge's, the PostgreSQL role's password file), on the cluster's settings
file with its directories moved into the test's own."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from padang112 import cli, config
from padang112.cluster import local
from padang112.edge import render as edge_render
from padang112.edge import topology
from padang112.pbx import chroot, confparse, render
from padang112.pbx.layout import layout

CLUSTER_TOML = config.PROJECT_ROOT / "ops" / "cluster" / "padang112.toml"


@pytest.fixture
def moved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    environ = {
        "PADANG112_STATE_DIR": str(tmp_path / "state"),
        "PADANG112_RECORDINGS_DIR": str(tmp_path / "state" / "recordings"),
        "PADANG112_ASTERISK__ROOT": str(tmp_path / "asterisk-root"),
    }
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return environ


def test_render_writes_what_the_containers_mount(moved: dict[str, str], tmp_path: Path) -> None:
    assert cli.main(["--config", str(CLUSTER_TOML), "cluster", "render"]) == 0
    settings = config.load(CLUSTER_TOML, environ=moved)
    secrets = settings.secrets()  # the ones the render made in the state directory
    for node in settings.nodes:
        node_settings = local.node_settings(settings, node)
        etc = layout(node_settings).etc_dir
        assert etc.is_relative_to(tmp_path / "asterisk-root") and etc.parent.name == f"cluster-{node.name}"
        written = {path.name: path.read_text() for path in etc.iterdir()}
        assert written == render.render_all(node_settings, secrets)  # what `cluster up` would start the node on
        transport = next(iter(confparse.by_type(confparse.parse(written["pjsip.conf"]), "transport").values()))
        assert transport.get("bind") == node.sip
        assert not chroot.is_running(node_settings)  # nothing started
    kamailio = edge_render.config_dir(settings) / "kamailio.cfg"
    assert kamailio.read_text() == edge_render.render_all(settings, secrets)["kamailio.cfg"]
    assert stat.S_IMODE(kamailio.stat().st_mode) == 0o600  # the phones' passwords
    dispatched = (edge_render.config_dir(settings) / "dispatcher.list").read_text()
    for node in settings.nodes:
        host, _, port = node.sip.rpartition(":")
        assert topology.node_uri(host, int(port)) in dispatched
    password = local.database_password_file(settings)
    assert password.read_text() == secrets.database_password and secrets.database_password in settings.db_url
    assert stat.S_IMODE(password.stat().st_mode) == 0o640  # the postgres container reads it by group, nobody else
    assert Path(settings.recordings_dir).is_dir()


def test_render_refuses_settings_that_describe_no_cluster(
    moved: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    single_box = tmp_path / "padang112.toml"
    single_box.write_text("[web]\nport = 8180\n")
    assert cli.main(["--config", str(single_box), "cluster", "render"]) == 1
    assert "[cluster] enabled = false" in capsys.readouterr().err
    assert not (tmp_path / "asterisk-root").exists() and not (tmp_path / "state" / "cluster").exists()
