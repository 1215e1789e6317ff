"""docker-compose.yml (no Docker engine here) is kept honest against the configuration `render` produces."""

from __future__ import annotations

import re
import secrets as pysecrets
from pathlib import Path, PurePosixPath

import pytest
import yaml

from padang112 import config
from padang112.edge import topology
from padang112.pbx import bootstrap, confparse, render, users
from padang112.pbx.layout import layout

REPO = config.PROJECT_ROOT


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def settings() -> config.Settings:
    return config.load(environ={})  # compose runs the default ("main") instance


@pytest.fixture(scope="module")
def rendered(settings: config.Settings) -> dict[str, str]:
    secrets = config.Secrets(
        "a" * 24,
        "b" * 24,
        "c" * 43,
        {s: pysecrets.token_urlsafe(12) for s in settings.seats},
        {d: pysecrets.token_urlsafe(12) for d in settings.duty_phones.values()},
        "d" * 24,
    )
    return render.render_all(settings, secrets)


def _mounts(service: dict) -> list[tuple[str, str]]:
    out = []
    for volume in service.get("volumes", []):
        source, target, *_ = volume.split(":")
        out.append((source, target))
    return out


def _ports(rendered: dict[str, str]) -> dict[str, str]:
    transport = next(iter(confparse.by_type(confparse.parse(rendered["pjsip.conf"]), "transport").values()))
    address, sip = transport.get("bind").rsplit(":", 1)
    http = confparse.one(confparse.parse(rendered["http.conf"]), "general")
    ami = confparse.one(confparse.parse(rendered["manager.conf"]), "general")
    assert http.get("bindaddr") == ami.get("bindaddr")
    return {
        "address": address,
        "manager": http.get("bindaddr"),
        "sip": sip,
        "http": http.get("bindport"),
        "ami": ami.get("port"),
    }


def test_both_services_are_built_from_files_in_the_repository(compose: dict) -> None:
    assert set(compose["services"]) == {"asterisk", "controller", "edge"}
    assert {name for name, service in compose["services"].items() if "profiles" in service} == {"edge"}
    for service in compose["services"].values():
        build = service["build"]
        assert (REPO / build["context"] / build["dockerfile"]).is_file()
        assert service["network_mode"] == "host"  # SIP and RTP need the host's addresses


def test_asterisk_mounts_the_rendered_instance_and_starts_from_its_config(
    compose: dict, settings: config.Settings, rendered: dict[str, str]
) -> None:
    service = compose["services"]["asterisk"]
    lay = layout(settings)
    mounts = dict((target, source) for source, target in _mounts(service))
    # the rendered etc dir, read-only, at the same inner path as in the chroot
    assert mounts[str(lay.etc)] == str(lay.etc_dir)
    assert f"{mounts[str(lay.etc)]}:{lay.etc}:ro" in service["volumes"]
    started = " ".join(service["command"])
    conf = re.search(r"-C (\S+)", started).group(1)  # type: ignore[union-attr]
    assert PurePosixPath(conf).parent == lay.etc and PurePosixPath(conf).name in rendered
    assert service["healthcheck"]["test"][service["healthcheck"]["test"].index("-C") + 1] == conf
    # recordings: the project's directory, where the rendered dialplan and ARI write
    assert mounts[str(lay.recording)] == "./recordings"
    assert str(lay.recording) in rendered["extensions.conf"]
    directories = dict(confparse.one(confparse.parse(rendered["asterisk.conf"]), "directories").options)
    assert directories["astspooldir"] == str(lay.spool)
    assert mounts[directories["astdbdir"]] in compose["volumes"]
    assert mounts[directories["astlogdir"]] in compose["volumes"]


def test_every_mount_source_exists_in_the_repository_or_the_rendered_set(
    compose: dict, settings: config.Settings, rendered: dict[str, str]
) -> None:
    named = set(compose.get("volumes") or {})
    rendered_etc = str(layout(settings).etc_dir)
    for name, service in compose["services"].items():
        for source, target in _mounts(service):
            if source.startswith("./"):
                assert (REPO / source).exists(), f"{name}: {source} is not in the repository"
            elif source == rendered_etc:
                assert {"asterisk.conf", "extensions.conf", "pjsip.conf"} <= set(rendered)
            elif source.startswith("/"):
                assert source == str(settings.state_dir), f"{name}: unexpected host path {source}"
            else:
                assert source in named, f"{name}: volume {source} is not declared"


def test_controller_talks_to_the_ports_the_switch_listens_on(
    compose: dict, settings: config.Settings, rendered: dict[str, str]
) -> None:
    env = compose["services"]["controller"]["environment"]
    ports = _ports(rendered)
    assert env["PADANG112_ASTERISK__BIND_ADDRESS"] == ports["address"]
    assert env["PADANG112_ASTERISK__MANAGER_ADDRESS"] == ports["manager"]
    assert env["PADANG112_ASTERISK__SIP_PORT"] == ports["sip"]
    assert env["PADANG112_ASTERISK__HTTP_PORT"] == ports["http"]
    assert env["PADANG112_ASTERISK__AMI_PORT"] == ports["ami"]
    assert env["PADANG112_ASTERISK__INSTANCE"] == settings.asterisk.instance
    assert env["PADANG112_STATE_DIR"] == str(settings.state_dir)  # secrets.toml the render used
    # the controller sees the same recordings the switch writes
    controller_mounts = dict((t, s) for s, t in _mounts(compose["services"]["controller"]))
    asterisk_mounts = dict((t, s) for s, t in _mounts(compose["services"]["asterisk"]))
    assert controller_mounts[env["PADANG112_RECORDINGS_DIR"]] == asterisk_mounts[str(layout(settings).recording)]
    # environment overrides are valid settings
    overrides = {k: str(v) for k, v in env.items() if k.startswith("PADANG112_")}
    loaded = config.load(environ=overrides)
    assert loaded.asterisk.http_port == int(ports["http"])


def test_the_image_uses_the_same_instance_layout(settings: config.Settings) -> None:
    dockerfile = (REPO / "asterisk" / "Dockerfile").read_text()
    assert "/srv/padang112/${INSTANCE}" in dockerfile and "ARG INSTANCE=main" in dockerfile
    assert f"ARG ASTERISK_UID={users.PREFERRED_ID}" in dockerfile  # the chroot's id: one owner for recordings
    assert str(layout(settings).inner) == "/srv/padang112/main"
    for package in bootstrap.PACKAGES:
        assert f" {package}" in dockerfile
    assert Path(REPO / "padang112" / "pbx" / "prompts.py").is_file()


def test_both_services_always_come_back(compose: dict) -> None:
    for name, service in compose["services"].items():
        assert service["restart"] == "always", name


def test_the_controller_runs_as_its_own_account_in_asterisks_group(compose: dict) -> None:
    service = compose["services"]["controller"]
    dockerfile = (REPO / "Dockerfile").read_text()
    assert service["user"] not in ("root", "0") and f"USER {service['user']}" in dockerfile
    assert "useradd --system --uid 1120 --gid padang112 --groups asterisk" in dockerfile
    assert f"groupadd --system --gid {users.PREFERRED_ID} asterisk" in dockerfile
    assert service["group_add"] == [str(users.PREFERRED_ID)]  # owner group of the recordings Asterisk writes


def test_no_service_runs_as_root(compose: dict) -> None:
    """Root is for installing only: both containers run as their own accounts, without capabilities."""
    asterisk, controller = compose["services"]["asterisk"], compose["services"]["controller"]
    assert asterisk["user"] == f"{users.PREFERRED_ID}:{users.PREFERRED_ID}"  # the image's (and chroot's) asterisk
    assert "-U" not in " ".join(asterisk["command"]) and "umask 027" in " ".join(asterisk["command"])
    edge = compose["services"]["edge"]
    assert edge["user"] == controller["user"]
    for service in (asterisk, controller, edge):
        assert service["cap_drop"] == ["ALL"] and "no-new-privileges:true" in service["security_opt"]


def test_the_cluster_profile_runs_the_sip_edge_in_front_of_the_switch(compose: dict, rendered: dict[str, str]) -> None:
    """The edge (profile "cluster") runs `padang112 edge run` from the controller's image, on settings that pass
    the edge's own checks, dispatching to the port the switch listens on, with its run dir on a tmpfs."""
    edge = compose["services"]["edge"]
    assert edge["profiles"] == ["cluster"] and edge["command"] == ["padang112", "edge", "run"]
    assert edge["image"] == compose["services"]["controller"]["image"]
    assert "kamailio" in (REPO / "Dockerfile").read_text() and "COPY ops/kamailio" in (REPO / "Dockerfile").read_text()
    loaded = config.load(environ={k: str(v) for k, v in edge["environment"].items()})
    topology.check(loaded)
    assert topology.enabled(loaded) and str(loaded.edge.run_dir) in edge["tmpfs"]
    assert topology.nodes(loaded) == [(_ports(rendered)["address"], int(_ports(rendered)["sip"]))]
    assert str(loaded.state_dir) == compose["services"]["controller"]["environment"]["PADANG112_STATE_DIR"]
