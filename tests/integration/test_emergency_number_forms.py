"""An emergency number in any form a carrier sends reaches the room; the same digits elsewhere do not.

Carriers send ``112``, ``+62112``, ``62112``, the RFC 3966 form ``112;phone-context=+62`` or a ``tel:`` URI.
SIPp plays the carrier; the call must be answered and stored with the dialed number ``112``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.asterisk import SIPP_DIR, run_sipp
from tests.fixtures.controller import eventually
from tests.integration.test_call_path import call_of

pytestmark = pytest.mark.live

CARRIER = "127.0.0.12"  # telkomsel


def tel_scenario(tmp_path: Path) -> Path:
    """carrier_invite.xml with a ``tel:`` Request-URI and To (no host part)."""
    text = (SIPP_DIR / "carrier_invite.xml").read_text()
    text = text.replace("INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0", "INVITE tel:[service] SIP/2.0")
    text = text.replace("To: <sip:[service]@[remote_ip]:[remote_port]>", "To: <tel:[service]>")
    path = tmp_path / "carrier_invite_tel.xml"
    path.write_text(text)
    return path


# (form, what SIPp dials, as a tel: URI): also sent through the SIP edge (test_edge.py)
FORMS = [
    ("plain", "112", False),
    ("international", "+62112", False),
    ("national-prefix", "62112", False),
    ("rfc3966", "112;phone-context=+62", False),
    ("tel-uri", "112", True),
]


@pytest.mark.parametrize(("form", "service", "tel"), FORMS)
async def test_every_form_of_112_is_answered_and_stored_as_112(
    asterisk, controller, repo, tmp_path: Path, form: str, service: str, tel: bool
) -> None:
    caller = f"08130000{abs(hash(form)) % 10000:04d}"
    scenario = str(tel_scenario(tmp_path)) if tel else "carrier_invite.xml"
    result = run_sipp(
        asterisk, scenario, tmp_path, CARRIER, service=service, keys={"caller": caller, "caller_name": form}
    )
    assert result.final == 200, (result.statuses, result.output[-500:])
    call = await eventually(lambda: call_of(repo, caller), 10, what=f"the {form} call stored")
    assert call.dialed == "112"


@pytest.mark.parametrize("service", ["+62751123456", "11a2", "+6211", "1;12"])
def test_near_misses_are_still_rejected_unanswered(asterisk, tmp_path: Path, service: str) -> None:
    result = run_sipp(
        asterisk, "carrier_invite.xml", tmp_path, CARRIER, service=service, keys={"caller": "0811", "caller_name": "x"}
    )
    assert result.final is not None and 400 <= result.final < 700, result.statuses
    assert 200 not in result.statuses
