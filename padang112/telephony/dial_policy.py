"""The only way a call leaves the switch: agency duty phones, and call-backs to numbers that called in.

Nothing a carrier or a phone sends can make Asterisk dial out (the dialplan has no route out, see
``dialplans/extensions.conf.j2``); the controller is the only one that places calls, and every call it places to
something other than a call-taker seat gets its endpoint from here. Anything else raises ``DialRefused``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from padang112.domain.callbacks import NUMBER_RE


class DialRefused(Exception):
    """A call out that the policy does not allow; ``code`` is stable for the API."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class DialPolicy:
    def __init__(
        self, duty_phones: dict[str, str], carriers: set[str], called_in: Callable[[str, str], Awaitable[bool]]
    ) -> None:
        """``called_in(number, carrier)``: did a call from ``number`` arrive over ``carrier``'s trunk?"""
        self._duty_phones = dict(duty_phones)
        self._carriers = set(carriers)
        self._called_in = called_in

    def duty_phone(self, agency: str) -> str:
        endpoint = self._duty_phones.get(agency)
        if endpoint is None:
            raise DialRefused("unknown_agency", f"no duty phone for agency {agency!r}")
        return f"PJSIP/{endpoint}"

    async def callback(self, number: str, carrier: str) -> str:
        """The dial string for calling ``number`` back over the carrier it called from."""
        if not NUMBER_RE.match(number):
            raise DialRefused("bad_number", f"{number!r} is not a number that can be called back")
        if carrier not in self._carriers:
            raise DialRefused("unknown_carrier", f"no carrier trunk {carrier!r}")
        if not await self._called_in(number, carrier):
            raise DialRefused("never_called", f"{number} never called in over {carrier}: not dialled")
        return f"PJSIP/{number}@{carrier}"
