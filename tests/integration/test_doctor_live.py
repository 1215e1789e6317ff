"""``padang112 doctor``'s port check against the real switch and controller: their ports are recognised as ours."""

from __future__ import annotations

import pytest

from padang112.ops import checks_network
from padang112.ops.checks_base import OK

pytestmark = pytest.mark.live


def test_the_running_switch_and_controller_hold_their_ports_as_padang112(asterisk, controller, live_settings):
    result = checks_network.ports(live_settings)
    assert result.status == OK, result.message["en"]
    ast = live_settings.asterisk
    assert checks_network.ours_on(
        ast.bind_address, ast.http_port, b"Server: Asterisk", b"GET /healthz HTTP/1.0\r\n\r\n"
    )
    assert not checks_network.port_free(live_settings.web.host, live_settings.web.port)
