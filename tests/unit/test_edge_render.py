"""The SIP edge's rendered configuration: Kamailio's own check passes, and both sides agree on the contract."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
from pathlib import Path

import pytest

from padang112 import config
from padang112.edge import process, render, topology
from padang112.pbx import confparse
from padang112.pbx import render as pbx_render
from tests.unit.test_pbx_render import ROUTE_OUT, _reachable, _secrets


def _settings(tmp_path: Path, **edge: object) -> config.Settings:
    settings = config.load(environ={})
    settings.state_dir = tmp_path
    wanted: dict[str, object] = {"address": "127.0.2.9", "port": 5999, "run_dir": tmp_path / "run", **edge}
    settings.edge = dataclasses.replace(settings.edge, enabled=True, **wanted)
    return settings


def test_the_single_box_renders_as_before_without_the_edge() -> None:
    settings = config.load(environ={})
    files = pbx_render.render_all(settings, _secrets(settings))
    assert "from-edge" not in files["extensions.conf"] and "X-P112" not in files["extensions.conf"]
    pjsip = confparse.parse(files["pjsip.conf"])
    assert topology.EDGE_ENDPOINT not in {s.name for s in pjsip}
    aors = [s for s in pjsip if s.get("type") == "aor" and s.name in settings.seats]
    assert aors and all(s.get("contact") is None and s.get("max_contacts") == "1" for s in aors)
    with pytest.raises(ValueError, match="enabled = false"):
        render.render_all(settings, _secrets(settings))


def test_kamailio_accepts_the_rendered_configuration(tmp_path: Path) -> None:
    settings = _settings(tmp_path, phones=("seat01", "duty-bpbd"))
    cfg = render.write_all(settings, _secrets(settings))
    assert os.stat(cfg).st_mode & 0o777 == 0o600  # the phones' passwords
    done = subprocess.run(process.command(settings, cfg, check_only=True), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (cfg.parent / "dispatcher.list").read_text().splitlines()[-1] == "1 sip:127.0.0.1:5060;transport=udp 0 0"


def test_the_edge_names_carriers_by_address_and_never_rate_limits_them(tmp_path: Path) -> None:
    settings = _settings(tmp_path, nodes=("10.0.0.6:5060", "10.0.0.7:5060"))
    cfg = render.render_all(settings, _secrets(settings))["kamailio.cfg"]
    for carrier in settings.carriers:
        assert f'if ($si == "{carrier.address}") {{\n\t\t$var(carrier) = "{carrier.name}";' in cfg
    assert 'if ($var(carrier) == "" && $var(node) == 0 && !pike_check_req())' in cfg
    assert cfg.index('remove_hf_re("^[Xx]-[Pp]112-")') < cfg.index("append_hf(")
    secrets = _secrets(settings)
    token = render.route_token(secrets)
    assert token not in secrets.session_key and len(token) == 24
    routed = render.render_all(settings, secrets)["kamailio.cfg"]
    assert f'add_rr_param(";p112={token}")' in routed and f'check_route_param("p112={token}")' in routed
    numbers = "|".join(settings.calls.emergency_numbers)
    assert f'$var(number) =~ "^({numbers})$"' in cfg
    dispatched = render.render_all(settings, _secrets(settings))["dispatcher.list"].splitlines()
    assert dispatched[-2:] == ["1 sip:10.0.0.6:5060;transport=udp 0 0", "1 sip:10.0.0.7:5060;transport=udp 0 0"]


def test_asterisk_believes_the_carrier_header_only_from_the_edge(tmp_path: Path) -> None:
    settings = _settings(tmp_path, phones=("seat02",))
    files = pbx_render.render_all(settings, _secrets(settings))
    pjsip = confparse.parse(files["pjsip.conf"])
    identify = [s for s in pjsip if s.get("endpoint") == topology.EDGE_ENDPOINT]
    assert [(s.get("type"), s.get("match")) for s in identify] == [("identify", "127.0.2.9")]
    endpoint = next(s for s in pjsip if s.name == topology.EDGE_ENDPOINT and s.get("type") == "endpoint")
    assert endpoint.get("context") == "from-edge" and endpoint.get("identify_by") == "ip"
    aors = {s.name: s for s in pjsip if s.get("type") == "aor"}
    assert aors["seat02"].get("contact") == "sip:seat02@127.0.2.9:5999" and aors["seat02"].get("max_contacts") == "0"
    assert aors["seat01"].get("contact") is None  # not named in [edge] phones: registers at Asterisk
    plan = confparse.dialplan(files["extensions.conf"])
    edge = [s for s in plan["from-edge"] if s.exten == "_[0-9+]."]
    assert edge[0].args == f"P112_EDGE_CARRIER=${{PJSIP_HEADER(read,{topology.CARRIER_HEADER})}}"
    assert "?from-carrier,${EXTEN},1" in edge[-2].args and edge[-1].label == "reject"
    assert {s.exten for s in plan["p112-edge-carriers"]} == {c.name for c in settings.carriers}
    assert (
        'IF($["${CHANNEL(endpoint)}" = "edge"]?${P112_EDGE_CARRIER}:${CHANNEL(endpoint)})' in plan["emergency"][0].args
    )
    for ctx in _reachable(plan, "from-edge") - {"emergency"}:
        assert not {s.app for s in plan[ctx]} & ROUTE_OUT, ctx


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"address": "127.0.0.12"}, "carrier's"),
        ({"phones": ("seat99",)}, "no seat or duty phone"),
        ({"nodes": ("asterisk-a:5060",)}, "does not appear to be an IPv4"),
        ({"nodes": ("10.0.0.6",)}, "not host:port"),
        ({"nodes": ("127.0.2.9:5999",)}, "node's"),
    ],
)
def test_an_edge_the_two_sides_could_not_agree_on_is_refused(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    settings = _settings(tmp_path, **change)
    with pytest.raises(ValueError, match=re.escape(message)):
        render.render_all(settings, _secrets(settings))
