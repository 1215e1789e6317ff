"""Who receives which live notice on ``/ws``: one table, by the notice's ``type``.

Notices come from the runtime (incident service, information desk, call-back dialer, camera probes) and from the
warm hand-off (an agency joined a call), already shaped for the browser; the live hub sends each one to the clients
this table lets see it. The room's own events (calls, seats) follow ``Hub._sees``: all of them for ``WATCH_ALL``,
a call taker those of their seat.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from padang112.accounts.users import UserRecord

WATCH_ALL = frozenset({"supervisor", "admin"})  # every call, seat event and incident of the room
SEES_CALLBACKS = frozenset({"call_taker", "supervisor", "admin"})
WALL_ROLES = ("supervisor", "admin", "wall")  # the video wall's pages, which take camera_status notices

Notice = dict[str, Any]


def sees_incident(user: UserRecord, incident: dict[str, Any]) -> bool:
    """Supervisors and admins: every incident; an agency: those with a task for it; a call taker: their own."""
    if user.role in WATCH_ALL:
        return True
    if user.role == "agency":
        return any(task["agency"] == user.agency for task in incident.get("tasks", []))
    return user.role == "call_taker" and incident.get("created_by") == user.username


def _agency_alert(user: UserRecord, notice: Notice) -> bool:
    return user.role in WATCH_ALL or user.agency == notice.get("agency")


def _info_request(user: UserRecord, notice: Notice) -> bool:
    if user.role == "agency":  # one agency's thread
        return bool(user.agency == notice["request"]["agency"])
    return _incident(user, notice)


def _incident(user: UserRecord, notice: Notice) -> bool:
    return sees_incident(user, notice.get("incident") or {})


AUDIENCE: dict[str, Callable[[UserRecord, Notice], bool]] = {
    "incident": _incident,
    "escalation": _agency_alert,
    "duty_call": _agency_alert,
    "info_request": _info_request,
    "callback": lambda user, _: user.role in SEES_CALLBACKS,
    "camera_status": lambda user, _: user.role in WALL_ROLES,
    "handoff": lambda user, notice: user.role == "agency" and user.agency == notice.get("agency"),  # joined a call
}


def receives(user: UserRecord, notice: Notice) -> bool:
    rule = AUDIENCE.get(str(notice.get("type")))
    return rule is not None and rule(user, notice)


WALL_NOTICE: Notice = {"type": "incidents_changed"}  # all the wall is told of an incident: it reloads the count


def notice_for(user: UserRecord, notice: Notice) -> Notice | None:
    """What ``user`` gets of ``notice``: the notice itself, or None; the wall's kiosk account gets only
    :data:`WALL_NOTICE` for an incident change (it shows a count, and must not hold callers' details)."""
    if user.role == "wall" and notice.get("type") == "incident":
        return WALL_NOTICE
    return notice if receives(user, notice) else None
