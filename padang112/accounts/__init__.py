"""Console accounts: roles, password hashing, the user store with lockout, sessions, the ``user`` command.

Roles: ``call_taker`` (signs in to one seat), ``supervisor``, ``agency`` (bound to one agency code),
``admin``, and ``wall``: the big screen's kiosk account, which may only show the video wall (its session lasts
for weeks instead of 12 hours, so the wall keeps running). Every sign-in, failed sign-in, lockout and account
change is written to ``audit_log``.
"""

from __future__ import annotations

from padang112.incidents.model import AGENCIES

__all__ = ["AGENCIES", "ROLES"]
ROLES = ("call_taker", "supervisor", "agency", "admin", "wall")
