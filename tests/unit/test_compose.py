"""docker-compose.yml (no Docker engine here) is kept honest against the configuration `render` produces."""

from __future__ import annotations

import json
import re
import secrets as pysecrets
import shutil
import subprocess
import tempfile
import time
import tomllib
from pathlib import Path, PurePosixPath
from urllib.parse import quote

import pytest
import yaml

from padang112 import config
from padang112.cluster import local
from padang112.cluster.postgres import Server, port_taken
from padang112.edge import render as edge_render
from padang112.edge import topology
from padang112.pbx import bootstrap, confparse, render, users
from padang112.pbx.layout import layout
from padang112.storage import migrate
from tests.fixtures import postgres as postgres_fixture

REPO = config.PROJECT_ROOT
CLUSTER_TOML = REPO / "ops" / "cluster" / "padang112.toml"
CLUSTER_PROFILE = ["cluster"]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def settings() -> config.Settings:
    return config.load(environ={})  # compose runs the default ("main") instance


def _secrets(settings: config.Settings) -> config.Secrets:
    return config.Secrets(
        "a" * 24,
        "b" * 24,
        "c" * 43,
        {s: pysecrets.token_urlsafe(12) for s in settings.seats},
        {d: pysecrets.token_urlsafe(12) for d in settings.duty_phones.values()},
        "d" * 24,
        "e" * 24,
    )


@pytest.fixture(scope="module")
def rendered(settings: config.Settings) -> dict[str, str]:
    return render.render_all(settings, _secrets(settings))


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("state")


def _load_cluster(environ: dict[str, str], scratch: Path) -> config.Settings:
    """ops/cluster/padang112.toml as a container with ``environ`` sees it. ``config.load`` reads ``Settings.db_url``,
    which writes the secrets file when it is missing: into ``scratch``, never the cluster's own state directory."""
    settings = config.load(CLUSTER_TOML, environ={**environ, "PADANG112_STATE_DIR": str(scratch)})
    own = tomllib.loads(CLUSTER_TOML.read_text())["state_dir"]
    settings.state_dir = Path(environ.get("PADANG112_STATE_DIR", own))
    return settings


@pytest.fixture(scope="module")
def cluster(scratch: Path) -> config.Settings:
    """The settings `padang112 --config ops/cluster/padang112.toml cluster render|up` runs on."""
    settings = _load_cluster({}, scratch)
    local.check(settings)
    return settings


def _cluster_services(compose: dict) -> dict[str, dict]:
    return {name: s for name, s in compose["services"].items() if s.get("profiles") == CLUSTER_PROFILE}


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


def test_every_service_is_built_from_files_in_the_repository(compose: dict) -> None:
    single_box = {name for name, service in compose["services"].items() if "profiles" not in service}
    assert single_box == {"asterisk", "controller"}  # `docker compose up -d`: the one box, as before
    for service in compose["services"].values():
        assert (REPO / _dockerfile(service)).is_file()
        assert service["network_mode"] == "host"  # SIP and RTP need the host's addresses


def _dockerfile(service: dict) -> Path:
    return Path(service["build"]["context"]) / service["build"]["dockerfile"]


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
    compose: dict, settings: config.Settings, cluster: config.Settings, rendered: dict[str, str]
) -> None:
    named = set(compose.get("volumes") or {})
    cluster_nodes = [local.node_settings(cluster, node) for node in cluster.nodes]
    rendered_etc = {str(layout(s).etc_dir) for s in (settings, *cluster_nodes)}  # `asterisk render`, `cluster render`
    states = {str(settings.state_dir), str(cluster.state_dir), str(cluster.recordings_dir)}
    for name, service in compose["services"].items():
        for source, target in _mounts(service):
            if source.startswith("./"):
                assert (REPO / source).exists(), f"{name}: {source} is not in the repository"
            elif source in rendered_etc:
                assert {"asterisk.conf", "extensions.conf", "pjsip.conf"} <= set(rendered)
            elif source.startswith("/"):
                assert source in states, f"{name}: unexpected host path {source}"
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
    """Root is for installing only: every container runs as its own account, without capabilities."""
    asterisk, controller = compose["services"]["asterisk"], compose["services"]["controller"]
    assert asterisk["user"] == f"{users.PREFERRED_ID}:{users.PREFERRED_ID}"  # the image's (and chroot's) asterisk
    assert "-U" not in " ".join(asterisk["command"]) and "umask 027" in " ".join(asterisk["command"])
    for name, service in compose["services"].items():
        assert service["user"] not in ("root", "0") and not service["user"].startswith("0:"), name
        assert service["cap_drop"] == ["ALL"] and "no-new-privileges:true" in service["security_opt"], name
    for name, service in _cluster_services(compose).items():  # the cluster's as the single box's of their kind
        like = asterisk if name.startswith("asterisk-") else controller if name != "postgres" else None
        assert like is None or service["user"] == like["user"], name
    assert "USER postgres" in (REPO / _dockerfile(compose["services"]["postgres"])).read_text()


# ---- the profile "cluster": the parts of `padang112 cluster up` as containers -----------------------------------


def _node_service(compose: dict, node: config.Node) -> dict:
    return compose["services"][f"asterisk-{node.name}"]


def _controller_service(compose: dict, controller: local.Controller) -> dict:
    return compose["services"][f"controller-{controller.name}"]


def _conf_of(command: list[str]) -> str:
    return re.search(r"-C (\S+)", " ".join(command)).group(1)  # type: ignore[union-attr]


def test_the_cluster_profile_runs_what_cluster_up_runs(compose: dict, cluster: config.Settings) -> None:
    expected = {"postgres", "edge"}
    expected |= {f"asterisk-{node.name}" for node in cluster.nodes}
    expected |= {f"controller-{c.name}" for c in local.controllers(cluster)}
    assert set(_cluster_services(compose)) == expected


def test_every_node_mounts_its_own_rendered_configuration(compose: dict, cluster: config.Settings) -> None:
    """Each node's container is the instance `cluster up` would start (local.node_settings), built with that
    instance's directories, its etc/ the one `padang112 cluster render` writes, its astdb and logs its own."""
    named: list[str] = []
    for node in cluster.nodes:
        lay = layout(local.node_settings(cluster, node))
        service = _node_service(compose, node)
        assert service["build"]["args"] == {"INSTANCE": lay.instance} and lay.instance.endswith(f"-{node.name}")
        assert service["build"]["dockerfile"] == compose["services"]["asterisk"]["build"]["dockerfile"]
        assert f"{lay.etc_dir}:{lay.etc}:ro" in service["volumes"]
        mounts = {target: source for source, target in _mounts(service)}
        assert mounts[str(lay.recording)] == str(cluster.recordings_dir)  # both nodes write the cluster's recordings
        assert mounts[str(lay.lib)] in compose["volumes"] and mounts[str(lay.log)] in compose["volumes"]
        named += [mounts[str(lay.lib)], mounts[str(lay.log)]]
        assert all(target.startswith(f"{lay.inner}/") for target in mounts)  # nothing of another instance
        assert _conf_of(service["command"]) == str(lay.conf)
        assert service["healthcheck"]["test"][service["healthcheck"]["test"].index("-C") + 1] == str(lay.conf)
        assert "-U" not in " ".join(service["command"]) and "umask 027" in " ".join(service["command"])
    assert len(set(named)) == len(named)  # no two nodes share an astdb
    images = [_node_service(compose, node)["image"] for node in cluster.nodes]
    assert len(set(images)) == len(images)  # one image per instance (the Dockerfile bakes INSTANCE in)


def _node_ports(files: dict[str, str]) -> dict[str, str]:
    ports = _ports(files)
    rtp = confparse.one(confparse.parse(files["rtp.conf"]), "general")
    options = confparse.one(confparse.parse(files["asterisk.conf"]), "options")
    return {
        **ports,
        "rtp_start": rtp.get("rtpstart"),
        "rtp_end": rtp.get("rtpend"),
        "system": options.get("systemname"),
    }


def test_every_port_matches_the_rendered_configuration(compose: dict, cluster: config.Settings, scratch: Path) -> None:
    """The nodes' rendered SIP, ARI and AMI ports are the ones in [[nodes]], their RTP ranges apart; the edge
    listens where the settings say and dispatches to the nodes' rendered SIP addresses; the consoles, PostgreSQL
    and their health checks use the cluster's ports; no other port is named in the cluster's services."""
    secrets = _secrets(cluster)
    known = set()
    ranges = []
    sips = []
    for node in cluster.nodes:
        files = render.render_all(local.node_settings(cluster, node), secrets)
        ports = _node_ports(files)
        assert f"{ports['address']}:{ports['sip']}" == node.sip
        assert f"http://{ports['manager']}:{ports['http']}" == node.ari_url and ports["manager"] == node.ami_host
        assert int(ports["ami"]) == node.ami_port and ports["system"] == node.name
        edge_ip = confparse.by_type(confparse.parse(files["pjsip.conf"]), "identify")[f"{topology.EDGE_ENDPOINT}-ip"]
        assert edge_ip.get("match") == cluster.edge.address  # the edge's calls are identified as such
        ranges.append(range(int(ports["rtp_start"]), int(ports["rtp_end"]) + 1))
        sips.append((ports["address"], int(ports["sip"])))
        known |= {int(ports["sip"]), int(ports["http"]), int(ports["ami"])}
    assert sum(len(r) for r in ranges) == len(set().union(*ranges))  # the nodes' RTP ranges do not overlap

    edge = compose["services"]["edge"]
    edge_settings = _load_cluster({k: str(v) for k, v in edge["environment"].items()}, scratch)
    kamailio = edge_render.render_all(edge_settings, secrets)
    assert f"listen=udp:{cluster.edge.address}:{cluster.edge.port}" in kamailio["kamailio.cfg"].splitlines()
    dispatched = [line.split()[1] for line in kamailio["dispatcher.list"].splitlines() if line.startswith("1 ")]
    assert dispatched == [topology.node_uri(host, port) for host, port in sips]
    known.add(cluster.edge.port)

    for controller in local.controllers(cluster):
        service = _controller_service(compose, controller)
        environment = {k: str(v) for k, v in service["environment"].items()}
        assert controller.environment.items() <= environment.items()
        assert _load_cluster(environment, scratch).web.port == controller.web_port
        assert f"http://{cluster.web.host}:{controller.web_port}/healthz" in " ".join(service["healthcheck"]["test"])
        known.add(controller.web_port)
    assert local.controllers(cluster)[1].web_port == cluster.cluster.standby_web_port

    postgres = compose["services"]["postgres"]
    health = postgres["healthcheck"]["test"]
    assert health[health.index("-p") + 1] == str(cluster.cluster.postgres_port)
    known.add(cluster.cluster.postgres_port)
    for name, service in _cluster_services(compose).items():
        named = json.dumps([service.get(k) for k in ("command", "environment", "healthcheck")])
        assert {int(n) for n in re.findall(r"\b\d{4,5}\b", named)} <= known, name


def _server(cluster: config.Settings) -> Server:
    """The server `cluster up` runs (a durable one, as compose's)."""
    return Server(cluster.cluster.postgres_dir, cluster.cluster.postgres_port)


def test_postgresql_is_the_cluster_servers_on_loopback_only(compose: dict, cluster: config.Settings) -> None:
    """The same server as `cluster up`'s (padang112/cluster/postgres.py), listening on 127.0.0.1 alone, its data
    in a named volume, the role `padang112` with the password `cluster render` writes from the cluster's secrets
    (a compose secret: a file outside the repository)."""
    service = compose["services"]["postgres"]
    server = _server(cluster)
    assert service["command"] == [word for option in server.options() for word in ("-c", option)]
    listen = [o for o in server.options() if o.startswith("listen_addresses=")]
    assert listen == ["listen_addresses=127.0.0.1"]
    entrypoint = (REPO / "ops" / "cluster" / "postgres" / "entrypoint.sh").read_text()
    assert "listen_addresses=''" in entrypoint  # the role is set while no TCP address is listened on
    assert service["environment"]["INITDB_OPTIONS"].split() == server.initdb_options()
    assert service["environment"]["ROLE"] == config.CLUSTER_ROLE
    mounts = {target: source for source, target in _mounts(service)}
    assert mounts[str(server.root)] in compose["volumes"]
    assert service["secrets"] == ["database_password"]
    assert service["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/database_password"
    password_file = compose["secrets"]["database_password"]["file"]
    assert password_file == str(local.database_password_file(cluster))
    assert not password_file.startswith(str(REPO))
    assert Path(password_file).is_relative_to(cluster.state_dir)  # the controllers' account owns it (group_add)
    controllers_gid = re.search(r"groupadd --system --gid (\d+) padang112", (REPO / "Dockerfile").read_text())
    assert controllers_gid and service["group_add"] == [controllers_gid.group(1)]


def test_the_controllers_wait_for_postgresql_and_the_nodes(compose: dict, cluster: config.Settings) -> None:
    needs = {"postgres"} | {f"asterisk-{node.name}" for node in cluster.nodes}
    first, second = (_controller_service(compose, c) for c in local.controllers(cluster))
    for service in (first, second):
        assert {name for name, d in service["depends_on"].items() if d["condition"] == "service_healthy"} >= needs
        for name in needs:
            assert "healthcheck" in compose["services"][name], name
    # b after a, as `cluster up` starts them: a takes the lease and leads, b waits as the standby
    assert second["depends_on"]["controller-a"] == {"condition": "service_healthy"}
    assert "controller-b" not in first["depends_on"]


def test_the_cluster_containers_read_the_clusters_settings_file(
    compose: dict, cluster: config.Settings, scratch: Path
) -> None:
    """The edge and the controllers get ops/cluster/padang112.toml (read-only) and the cluster's state directory;
    the image's defaults (PADANG112_STATE_DIR, PADANG112_RECORDINGS_DIR) give way to the file's values."""
    for name in ["edge", *(f"controller-{c.name}" for c in local.controllers(cluster))]:
        service = compose["services"][name]
        environment = {k: str(v) for k, v in service["environment"].items()}
        mounts = {target: source for source, target in _mounts(service)}
        assert mounts[environment["PADANG112_CONFIG"]] == "./ops/cluster/padang112.toml"
        assert f"./ops/cluster/padang112.toml:{environment['PADANG112_CONFIG']}:ro" in service["volumes"]
        assert mounts[str(cluster.state_dir)] == str(cluster.state_dir)
        seen = _load_cluster(environment, scratch)
        assert (seen.state_dir, seen.recordings_dir) == (cluster.state_dir, cluster.recordings_dir), name
        assert seen.db_url.startswith("postgresql+asyncpg://") and seen.nodes == cluster.nodes
        assert Path(seen.recordings_dir).is_relative_to(seen.state_dir)  # the controllers see the nodes' recordings
        assert service["read_only"] is True


def test_the_cluster_profile_runs_the_sip_edge_in_front_of_the_nodes(
    compose: dict, cluster: config.Settings, scratch: Path
) -> None:
    """The edge runs `padang112 edge run` from the controller's image, on settings that pass the edge's own checks,
    dispatching to every node's SIP address, with its run dir on a tmpfs, once the nodes are up."""
    edge = compose["services"]["edge"]
    assert edge["profiles"] == CLUSTER_PROFILE and edge["command"] == ["padang112", "edge", "run"]
    assert edge["image"] == compose["services"]["controller"]["image"]
    assert "kamailio" in (REPO / "Dockerfile").read_text() and "COPY ops/kamailio" in (REPO / "Dockerfile").read_text()
    loaded = _load_cluster({k: str(v) for k, v in edge["environment"].items()}, scratch)
    topology.check(loaded)
    assert topology.enabled(loaded) and str(loaded.edge.run_dir) in edge["tmpfs"]
    assert topology.nodes(loaded) == [(n.sip.rpartition(":")[0], int(n.sip.rpartition(":")[2])) for n in cluster.nodes]
    assert set(edge["depends_on"]) == {f"asterisk-{node.name}" for node in cluster.nodes}


def test_the_cluster_runs_beside_the_single_box(
    compose: dict, settings: config.Settings, cluster: config.Settings
) -> None:
    """`docker compose --profile cluster up` starts the single box too (its services have no profile): the two
    share no port, no instance and no state directory, as `cluster up` runs beside `make demo`."""

    def ports(ast: config.AsteriskSettings) -> set[int]:
        return {ast.sip_port, ast.http_port, ast.ami_port, *range(ast.rtp_start, ast.rtp_end + 1)}

    single = ports(settings.asterisk) | {settings.web.port}
    mine = {cluster.cluster.postgres_port, cluster.cluster.standby_web_port, cluster.web.port}
    for node in cluster.nodes:
        node_settings = local.node_settings(cluster, node)
        mine |= ports(node_settings.asterisk)
        assert node_settings.asterisk.instance != settings.asterisk.instance
    assert not single & mine
    assert cluster.edge.address != settings.asterisk.bind_address  # the edge's 5060 is another address's
    assert cluster.state_dir != settings.state_dir


def _listening(port: int) -> set[str]:
    """The addresses something listens on at TCP ``port`` (``/proc/net/tcp``, ``tcp6``), hex as the kernel has them."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local_address, state = line.split()[1], line.split()[3]
            address, _, hex_port = local_address.partition(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


def test_the_postgresql_image_sets_the_role_the_controllers_log_in_as(compose: dict, cluster: config.Settings) -> None:
    """ops/cluster/postgres/entrypoint.sh as the container runs it (the postgres account, compose's environment and
    server options), on this machine's Debian postgresql-15, the root and port moved to this test slot's: the role
    `padang112` logs in over TCP with the password file's password and migrates its database (what a controller
    does first), is no superuser, and the server listens on 127.0.0.1 alone. Started again with another password
    in the file, the role takes that one."""
    service = compose["services"]["postgres"]
    port = postgres_fixture.PORT + 7  # beside the slot's test server
    work = Path(tempfile.mkdtemp(prefix="p112-compose-pg-"))
    work.chmod(0o755)  # the postgres account reaches its root and the password file
    root = work / "root"
    root.mkdir(mode=0o700)
    shutil.chown(root, "postgres", "postgres")
    password_file = work / "database-password"
    server = Server(root, port)
    environment = {**service["environment"], "PGROOT": str(root), "POSTGRES_PASSWORD_FILE": str(password_file)}
    options = [word for option in server.options() for word in ("-c", option)]
    assert len(options) == len(service["command"])  # the same options, but root and port (the other test)
    health = list(service["healthcheck"]["test"][1:])
    health[health.index("-p") + 1] = str(port)

    def start(password: str) -> None:
        config.write_private(password_file, password, mode=0o640)
        shutil.chown(password_file, group="postgres")  # the container's group_add
        env = ["env", "-i", "PATH=/usr/bin:/bin", *(f"{k}={v}" for k, v in environment.items())]
        entrypoint = str(REPO / "ops" / "cluster" / "postgres" / "entrypoint.sh")
        subprocess.Popen(
            ["runuser", "-u", "postgres", "--", *env, entrypoint, *options],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while subprocess.run(["runuser", "-u", "postgres", "--", *health], capture_output=True).returncode != 0:
            assert time.monotonic() < deadline, "the server did not become ready (healthcheck)"
            time.sleep(0.2)

    def url(password: str) -> str:
        role = environment["ROLE"]
        return f"postgresql+asyncpg://{role}:{quote(password, safe='')}@127.0.0.1:{port}/{role}"

    first, second = "pw 'with\" $quotes", pysecrets.token_urlsafe(18)
    try:
        assert not port_taken(port)
        start(first)
        migrate.upgrade(url(first))
        assert migrate.current(url(first)) is not None
        superuser = server.sql(f"SELECT rolsuper FROM pg_roles WHERE rolname = '{environment['ROLE']}'").strip()
        assert superuser == "f"
        assert _listening(port) == {"0100007F"}  # 127.0.0.1, nothing else (no IPv6 either)
        server.stop()
        start(second)
        assert migrate.current(url(second)) is not None
        with pytest.raises(Exception, match="password authentication failed"):
            migrate.current(url(first))
    finally:
        server.stop("immediate")
        shutil.rmtree(work, ignore_errors=True)
