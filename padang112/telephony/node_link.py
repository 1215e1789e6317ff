"""The controller's links to one Asterisk node: ARI (client and event listener), AMI, and the heartbeat.

The controller has one :class:`NodeLink` per node (``padang112.nodes``). Each link resyncs its own node on every
(re)connection and writes its own node's heartbeat, so a node whose link is down sends its new callers to its own
fallback queue while the others keep taking calls through the controller.

A link that drops is not yet a dead node: the controller asks the node's ARI once more (:meth:`NodeLink.answers`);
only a node that does not answer (refused, or silent for ``PROBE_TIMEOUT_S``) has lost its calls. A link that
dropped while the node lives (a restart of the WebSocket, a deaf connection) keeps its calls: they are rebuilt
from the node at the reconnection, and meanwhile the node's dialplan watchdogs look after its waiting callers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from padang112.cluster.fence import UNFENCED, Fence
from padang112.config import Node
from padang112.telephony.ami import AmiLink
from padang112.telephony.ari import AriClient, AriListener
from padang112.telephony.heartbeat import HeartbeatWriter

log = logging.getLogger("padang112.calls")

USER = "padang112"  # the ARI and AMI account (pbx/render.py ARI_USER, AMI_USER)
PROBE_TIMEOUT_S = 1.0


class NodeLink:
    def __init__(
        self,
        node: Node,
        app: str,
        passwords: tuple[str, str],
        fallback_queue: str,
        on_event: Callable[[NodeLink, dict[str, Any]], None],
        on_connect: Callable[[NodeLink], Awaitable[None]],
        on_disconnect: Callable[[NodeLink], None],
        fence: Fence = UNFENCED,
    ) -> None:
        """``passwords``: ARI's and AMI's (every node has the same accounts, from the shared secrets)."""
        ari_password, ami_password = passwords
        self.node = node
        self.name = node.name
        self.ari = AriClient(node.ari_url, USER, ari_password, app, fence)
        self.ami = AmiLink(node.ami_host, node.ami_port, USER, ami_password, fallback_queue, fence)
        self.listener = AriListener(
            self.ari, lambda event: on_event(self, event), lambda: on_connect(self), lambda: on_disconnect(self)
        )
        self.reconciled = False  # the room holds this node's calls as the node has them, since its last connection
        self.switch_started: datetime | None = None  # the node's Asterisk start, read at each (re)connection
        # a suspended leader (its lease not renewed: the database is away) writes no heartbeat: callers go to the
        # node's fallback queue rather than to a room that decides nothing meanwhile
        self.heartbeat = HeartbeatWriter(self.ari, lambda: fence.valid() and self.linked)

    @property
    def linked(self) -> bool:
        """Events flow from the node and the room has been rebuilt from it: its new callers come to the room."""
        return self.listener.hearing and self.reconciled

    async def answers(self) -> bool:
        """Whether the node's ARI answers a request now (a link that dropped on a live node, or a dead node)."""
        try:
            await asyncio.wait_for(self.ari.get("/asterisk/info"), PROBE_TIMEOUT_S)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # refused, timed out, or an error page: not a node that serves calls
            log.warning("node %s does not answer: %s", self.name, exc)
            return False
        return True
