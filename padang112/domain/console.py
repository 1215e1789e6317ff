"""What the console asks of the controller besides the room's commands; all of it enters the one inbox.

A room command (``domain/commands.py``) is decided by the room; these are decided by the controller itself, in the
same order as everything else: a disposition is stored and published and moves the number's prank score, a prank
clearance (already stored by the console) makes the score forget the marks before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from padang112.domain import commands as c
from padang112.domain.events import CallAnnotated


@dataclass(frozen=True)
class Dispose:
    """A person's disposition of a call: stored and published; a prank/silent one counts in the number's score,
    any other takes the call out of it."""

    event: CallAnnotated
    number: str | None
    prank: bool


@dataclass(frozen=True)
class ClearPrank:
    """Forget a number's prank marks up to ``at`` (the clearance is already stored, so ``start`` applies it again)."""

    number: str
    at: datetime


Request = c.Command | Dispose | ClearPrank
