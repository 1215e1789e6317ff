"""Console accounts: roles, password hashing, the user store with lockout, sessions, the ``user`` command.

Roles: ``call_taker`` (signs in to one seat), ``supervisor``, ``agency`` (bound to one agency code) and
``admin``. Every sign-in, failed sign-in, lockout and account change is written to ``audit_log``.
"""

from __future__ import annotations

ROLES = ("call_taker", "supervisor", "agency", "admin")
AGENCIES = ("damkar", "bpbd", "satpolpp", "dishub", "dinkes", "dlh", "pupr")
