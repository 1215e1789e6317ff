"""The management plane (ARI, AMI) stays on loopback whatever the SIP bind is, and the AMI account has the least
rights the fallback-queue sync and the fallback-note import need. Checked on the rendered configuration."""

from __future__ import annotations

import pytest

from padang112 import config
from padang112.pbx import confparse, render
from padang112.telephony.ami import OUR_ACTIONS, parse_db_tree
from tests.unit.test_pbx_render import ROUTE_OUT, _reachable, _secrets


def _render(**asterisk: str) -> dict[str, str]:
    settings = config.load(environ={f"PADANG112_ASTERISK__{k.upper()}": v for k, v in asterisk.items()})
    return render.render_all(settings, _secrets(settings))


def test_sip_on_the_carrier_interface_leaves_ari_and_ami_on_loopback() -> None:
    files = _render(bind_address="10.20.0.5")
    transports = confparse.by_type(confparse.parse(files["pjsip.conf"]), "transport")
    assert [t.get("bind") for t in transports.values()] == ["10.20.0.5:5060"]
    http = confparse.one(confparse.parse(files["http.conf"]), "general")
    assert (http.get("bindaddr"), http.get("bindport")) == ("127.0.0.1", "8088")
    manager = confparse.parse(files["manager.conf"])
    assert confparse.one(manager, "general").get("bindaddr") == "127.0.0.1"
    user = confparse.one(manager, "padang112")
    assert user.all("permit") == ["127.0.0.1/255.255.255.255"] and user.get("deny") == "0.0.0.0/0.0.0.0"


def test_the_controller_reaches_ari_and_ami_on_the_management_address() -> None:
    settings = config.load(
        environ={"PADANG112_ASTERISK__BIND_ADDRESS": "10.20.0.5", "PADANG112_ASTERISK__MANAGER_ADDRESS": "127.0.0.2"}
    )
    assert settings.asterisk.ari_url == "http://127.0.0.2:8088"
    files = render.render_all(settings, _secrets(settings))
    assert confparse.one(confparse.parse(files["http.conf"]), "general").get("bindaddr") == "127.0.0.2"


@pytest.mark.parametrize("address", ["10.20.0.5", "0.0.0.0", "192.168.1.10", "::"])
def test_a_management_address_off_loopback_is_refused(address: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        _render(manager_address=address)


def test_the_ami_account_has_only_queue_and_read_rights() -> None:
    user = confparse.one(confparse.parse(_render()["manager.conf"]), "padang112")
    assert set((user.get("read") or "").split(",")) == {"agent"}
    assert set((user.get("write") or "").split(",")) == {"agent", "reporting"}
    # what the controller sends is what those classes allow (QueueAdd/Remove/Pause: agent; DBGetTree: reporting)
    assert set(OUR_ACTIONS) == {
        "ping",
        "login",
        "logoff",
        "queueadd",
        "queueremove",
        "queuepause",
        "dbgettree",
        "queuestatus",
    }


def test_the_fallback_notes_are_forgotten_by_a_context_nothing_outside_can_reach() -> None:
    plan = confparse.dialplan(_render()["extensions.conf"])
    forget = plan["p112-fallback-forget"]
    assert not {s.app for s in forget} & ROUTE_OUT
    assert {s.app for s in forget} == {"GotoIf", "NoOp", "Hangup"}
    assert "DB_DELETE(p112fb/${EXTEN})" in forget[1].args
    for start in ("from-carrier", "seats", "from-duty"):
        assert "p112-fallback-forget" not in _reachable(plan, start)


def test_func_curl_is_not_loaded() -> None:
    """No HTTP requests from the dialplan or from AMI Getvar (a second SSRF path next to the cameras')."""
    assert "noload => func_curl.so" in _render()["modules.conf"]


def test_db_tree_events_become_keys_and_values() -> None:
    events = [
        {"Response": "Success", "EventList": "start"},
        {"Event": "DBGetTreeResponse", "Key": "/p112fb/1733150000.45", "Val": "1|telkomsel|KzYy|TmFtZQ==|112|x"},
        {"Event": "DBGetTreeResponse", "Key": "/p112fb_end/1.2", "Val": "other family"},
        {"Event": "DBGetTreeComplete", "EventList": "Complete", "ListItems": "1"},
    ]
    assert parse_db_tree(events, "p112fb") == {"1733150000.45": "1|telkomsel|KzYy|TmFtZQ==|112|x"}
