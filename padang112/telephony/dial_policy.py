"""The only way a call leaves the switch: agency duty phones, and call-backs to numbers that called in.

Nothing a carrier or a phone sends can make Asterisk dial out (the dialplan has no route out, see
``dialplans/extensions.conf.j2``); the controller is the only one that places calls, and every call it places to
something other than a call-taker seat gets its endpoint from here. Anything else raises ``DialRefused``.

A call-back goes only to an Indonesian subscriber number (:mod:`padang112.domain.numbering`: no international,
premium-rate, freephone or short-code number, whatever caller ID a call presented) that called in over that very
carrier, and at most ``daily_cap`` times a day per number (:func:`padang112.domain.callbacks.over_daily_cap`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from padang112.domain import numbering
from padang112.domain.callbacks import over_daily_cap


class DialRefused(Exception):
    """A call out that the policy does not allow; ``code`` is stable for the API."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class DialPolicy:
    def __init__(
        self,
        duty_phones: dict[str, str],
        carriers: set[str],
        called_in: Callable[[str, str], Awaitable[bool]],
        daily_cap: int = 3,
    ) -> None:
        """``called_in(number, carrier)``: did a call from ``number`` arrive over ``carrier``'s trunk?"""
        self._duty_phones = dict(duty_phones)
        self._carriers = set(carriers)
        self._called_in = called_in
        self.daily_cap = daily_cap

    def duty_phone(self, agency: str) -> str:
        endpoint = self._duty_phones.get(agency)
        if endpoint is None:
            raise DialRefused("unknown_agency", f"no duty phone for agency {agency!r}")
        return f"PJSIP/{endpoint}"

    async def callback(self, number: str, carrier: str, attempts_today: int = 0) -> str:
        """The dial string for calling ``number`` back over the carrier it called from.

        ``attempts_today``: call-back attempts to ``number`` already taken within the cap's window, not counting
        the one being asked for (the caller's leg of an attempt already taken passes 0: it was checked then).
        """
        classified = numbering.classify(number)
        if classified.refusal is not None:
            raise DialRefused(classified.refusal.value, f"{classified.refusal.name.lower()} number: not dialled")
        if carrier not in self._carriers:
            raise DialRefused("unknown_carrier", f"no carrier trunk {carrier!r}")
        if not await self._called_in(number, carrier):
            raise DialRefused("never_called", f"the number never called in over {carrier}: not dialled")
        if over_daily_cap(attempts_today, self.daily_cap):
            raise DialRefused("daily_cap", f"{attempts_today} call-back attempts to the number today: not dialled")
        return f"PJSIP/{number}@{carrier}"
