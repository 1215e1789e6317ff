"""Routing policy: which agencies (OPD) an incident type goes to by default, and how fast they must acknowledge.

The call taker may always change the agency list on the form; these are only the suggestions.
"""

from __future__ import annotations

from padang112.incidents.catalog import Catalog
from padang112.incidents.model import AGENCIES

# Acknowledge deadline per priority, in seconds: the policy to tune with the city. An agency task not
# acknowledged ("Terima") within this time is escalated to the supervisor.
ACK_DEADLINE_S: dict[int, int] = {1: 60, 2: 120, 3: 300, 4: 900}


def default_agencies(type_code: str, victims: int, catalog: Catalog) -> tuple[str, ...]:
    """The type's default agencies, plus its ``agencies_if_victims`` when ``victims > 0``, in AGENCIES order.

    ``KeyError`` for a type code the catalog does not have.
    """
    incident_type = catalog.get(type_code)
    chosen = set(incident_type.default_agencies)
    if victims > 0:
        chosen.update(incident_type.agencies_if_victims)
    return tuple(a for a in AGENCIES if a in chosen)


def ack_deadline_s(priority: int) -> int:
    """Seconds an agency has to acknowledge a task of this priority; ``ValueError`` outside 1–4."""
    if isinstance(priority, bool) or priority not in ACK_DEADLINE_S:
        raise ValueError(f"no acknowledge deadline for priority {priority!r}")
    return ACK_DEADLINE_S[priority]
