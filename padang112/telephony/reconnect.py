"""When the ARI event listener connects again (pure: ``tests/unit/test_reconnect.py`` checks the rule without a
switch).

Two ways a try ends, two rules:

- an attempt that did not connect (refused, timed out, an error page): attempts start at most once per step, the
  step doubling from ``FIRST_S`` to ``MAX_S``. A refused attempt waits the whole step, so a dead switch is not
  hammered; one that timed out has already waited longer than the step (``ari.CONNECT_TIMEOUT_S``), so the next
  one starts at once. While a link is silent an attempt is always under way, and the one under way when the link
  comes back goes through: after a timeout the listener used to sleep another 0.5 s, and a thaw that fell in that
  sleep waited for it (chaos test of the frozen link: ready 0.49 s after the thaw, 0.37 s of it asleep).
- a connection that ended (the switch closed it, another socket took the app, it was deaf): the switch answered a
  moment ago, so the first such loss is tried again at once; losses in a row of connections that did not last
  ``STEADY_S``, with no failed attempt between them, back off by the same steps, so two sockets taking the app from
  each other never spin; a switch that accepts and drops each connection still waits a failed attempt's step
  between two (the steps start again only after a connection that lasted). The thaw of a
  frozen link lets Asterisk finish the attempts given up during the freeze, and one of them can take the app from
  the connection that just came up: that connection waited 0.5 s (the step the freeze had grown) before taking the
  app back.
"""

from __future__ import annotations

FIRST_S = 0.2
MAX_S = 0.5  # /readyz must turn green within 2 s of the link coming back
STEADY_S = 5.0  # a connection that lasted this long worked: its loss starts the steps again


class Reconnect:
    def __init__(self, first_s: float = FIRST_S, max_s: float = MAX_S, steady_s: float = STEADY_S) -> None:
        self.first_s = first_s
        self.max_s = max_s
        self.steady_s = steady_s
        self._step = first_s  # the next failed attempt's share of time
        self._losses = 0  # connections in a row that ended before ``steady_s``, no failed attempt between them

    def failed(self, tried_s: float) -> float:
        """The wait after an attempt that did not connect and took ``tried_s``."""
        wait = max(0.0, self._step - tried_s)
        self._step = min(self._step * 2, self.max_s)
        self._losses = 0
        return wait

    def lost(self, held_s: float) -> float:
        """The wait after a connection that ended ``held_s`` after it opened."""
        if held_s >= self.steady_s:  # it worked: a later unreachable spell starts from the first step
            self._step = self.first_s
            self._losses = 0
        wait = 0.0 if self._losses == 0 else min(self.first_s * 2 ** (self._losses - 1), self.max_s)
        self._losses += 1
        return wait
