"""What Kamailio and Asterisk must agree on when the SIP edge is on (``[edge] enabled``).

- Carriers' calls reach Asterisk from the edge's address, identified there as the endpoint ``EDGE_ENDPOINT``; the
  edge names the carrier (found by the call's source address, ``settings.carriers``) in the header
  ``CARRIER_HEADER``, which it first removes from whatever arrived.
- Seats and duty phones named in ``[edge] phones`` register at the edge; Asterisk reaches them through it (a
  static contact ``sip:<phone>@<edge>`` that it qualifies). TLS phones (``secure_phones``) stay direct: the edge
  speaks UDP only.
- The edge dispatches to ``[edge] nodes`` (``host:port``), by default the controller's nodes' SIP addresses
  (``[[nodes]] sip``, or this box's Asterisk).
"""

from __future__ import annotations

import ipaddress

from padang112 import config
from padang112 import nodes as asterisk_nodes
from padang112.pbx import sip_tls

EDGE_ENDPOINT = "edge"
CARRIER_HEADER = "X-P112-Carrier"
ALL = "*"


def enabled(settings: config.Settings) -> bool:
    return settings.edge.enabled


def nodes(settings: config.Settings) -> list[tuple[str, int]]:
    """The Asterisk nodes' SIP addresses, in the configured order: ``[edge] nodes``, else those of the controller's
    nodes (``[[nodes]]`` or this box's ``[asterisk]``)."""
    out = []
    for node in settings.edge.nodes or [node.sip for node in asterisk_nodes.nodes(settings)]:
        host, sep, port = node.rpartition(":")
        if not sep or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"[edge] nodes: {node!r} is not host:port")
        ipaddress.ip_address(host)  # an address, not a name: the edge must not depend on DNS to place a 112 call
        out.append((host, int(port)))
    return out


def node_uri(host: str, port: int) -> str:
    """A node as the dispatcher names it. The transport is part of it: the edge recognises a node's own requests
    by exact address, port and protocol (``ds_is_from_list`` mode 0), and a URI without one matches no protocol."""
    return f"sip:{host}:{port};transport=udp"


def phones(settings: config.Settings) -> list[str]:
    """Seats and duty phones that register at the edge (none while it is off)."""
    if not enabled(settings):
        return []
    wanted = settings.edge.phones
    every = settings.seats + list(settings.duty_phones.values())
    return [p for p in every if (ALL in wanted or p in wanted) and not sip_tls.secure(settings, p)]


def check(settings: config.Settings) -> None:
    """Refuse an edge the two sides could not agree on (raises ValueError)."""
    if not enabled(settings):
        return
    edge = settings.edge
    ipaddress.ip_address(edge.address)
    if not 0 < edge.port < 65536:
        raise ValueError(f"[edge] port {edge.port}")
    carriers = {c.address for c in settings.carriers}
    if edge.address in carriers:
        raise ValueError(f"[edge] address {edge.address} is a carrier's: Asterisk could not tell them apart")
    every = set(settings.seats) | set(settings.duty_phones.values())
    unknown = set(edge.phones) - every - {ALL}
    if unknown:
        raise ValueError(f"[edge] phones names no seat or duty phone: {sorted(unknown)}")
    if EDGE_ENDPOINT in every | {c.name for c in settings.carriers}:
        raise ValueError(f"the name {EDGE_ENDPOINT!r} is the edge's endpoint: no carrier or phone may use it")
    if (edge.address, edge.port) in nodes(settings):
        raise ValueError("[edge] address:port is an Asterisk node's")
    if edge.probe_interval_s < 1 or edge.node_timeout_ms < 100 or edge.pike_requests < 1:
        raise ValueError("[edge] probe_interval_s >= 1, node_timeout_ms >= 100, pike_requests >= 1")
