"""The Asterisk nodes the controller works (issue 13, "no single machine").

By default there is one: this box's ``[asterisk]``, and everything reads as before. With ``[[nodes]]`` the controller
links to each of them (``telephony/node_link.py``) and the edge dispatches carriers' calls over them. Each node's
Asterisk renders its name as ``systemname``, so Asterisk starts every unique id it makes with ``<name>-``: a call's id
(its inbound channel's unique id) says which node it is on, and so do its seat legs, bridge and recordings, which
carry the call id. That is the one rule by which effects reach the right node (:func:`node_of`), also after a
controller restart, with no table to keep. The calls the controller places itself (its lines: duty phones,
call-backs) go on a node that is linked (:func:`line_node`), and their ids start with its name in the same way
(``domain/line_ids.py``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Sequence

from padang112 import config

NAME = re.compile(r"^[A-Za-z0-9_]{1,32}$")  # no "-": a call id's node is what comes before its first "-"


def nodes(settings: config.Settings) -> list[config.Node]:
    """The configured nodes, or the one ``[asterisk]`` of this box (named by its systemname, else its instance)."""
    if settings.nodes:
        return list(settings.nodes)
    ast = settings.asterisk
    return [
        config.Node(
            ast.systemname or ast.instance,
            ast.ari_url,
            ast.manager_address,
            ast.ami_port,
            f"{ast.bind_address}:{ast.sip_port}",
        )
    ]


def check(settings: config.Settings) -> None:
    """Refuse nodes whose call ids could not be told apart (raises ValueError)."""
    names = [node.name for node in settings.nodes]
    bad = [name for name in names if not NAME.match(name)]
    if bad:
        raise ValueError(f"[[nodes]] name {bad[0]!r}: letters, digits and _ only (it is the node's systemname)")
    if len(set(names)) != len(names):
        raise ValueError(f"[[nodes]] names repeat: {names}")
    if settings.asterisk.systemname and not NAME.match(settings.asterisk.systemname):
        raise ValueError(f"[asterisk] systemname {settings.asterisk.systemname!r}: letters, digits and _ only")


def node_of(call_id: str, names: Sequence[str]) -> str:
    """The node a call (or a channel id that starts with its call id) is on: the prefix Asterisk gave it, or the one
    a line named its call by; an id without a known prefix (the single box) is the first node's."""
    prefix = call_id.partition("-")[0]
    return prefix if prefix in names else names[0]


def line_node(names: Sequence[str], linked: Collection[str]) -> str:
    """The node a line places its next call on: "" on the single box (its ids stay as they were); else the first
    node when it is linked, the next linked one when not, and the first again when none is (the attempt then fails
    as on the single box with ARI away, and the line tries again later as it does then)."""
    if len(names) == 1:
        return ""
    return next((name for name in names if name in linked), names[0])


def entity_id(systemname: str) -> str:
    """A stable, locally administered MAC-form ``entityid`` per systemname (Asterisk takes the first NIC's by
    default, the same for every instance on one machine)."""
    digest = hashlib.sha256(systemname.encode()).digest()
    return ":".join(f"{b:02x}" for b in (0x02, *digest[:5]))
