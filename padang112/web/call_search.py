"""The call history's search: its parameters, checked, and the rule that a caller's number never rides in a URL.

A number in a query string lands in access logs (of a reverse proxy, of the city's network), in browser history
and in proxies' caches. So the number is searched only through a body: ``POST /riwayat`` (the page's form, with
the session's CSRF token) and ``POST /api/v1/calls/search`` (JSON). ``GET`` keeps the other filters, and a
``number`` in its query string is refused (:data:`NUMBER_IN_URL`) rather than silently searched. The page's
language link leaves the number out (:meth:`Search.query`); paging posts it again (:meth:`Search.fields`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from padang112.stats import queries

MAX_NUMBER = 64
NUMBER_IN_URL = "number_in_url"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DISPOSITION = re.compile(r"[a-z_]{1,32}")
_SEAT = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_INT = re.compile(r"\d{1,7}")
FIELDS = ("number", "date", "disposition", "seat", "limit", "offset")

ERRORS = {
    "date": "Tanggal tidak valid, gunakan YYYY-MM-DD / Invalid date, use YYYY-MM-DD",
    "number": f"Nomor terlalu panjang (maks. {MAX_NUMBER}) / Number too long (max {MAX_NUMBER})",
    NUMBER_IN_URL: "Nomor telepon tidak boleh ada di alamat (URL): cari lewat formulir, atau POST /api/v1/calls/search"
    " / A phone number must not be in the address (URL): search with the form, or POST /api/v1/calls/search",
    "disposition": "Disposisi tidak valid / Invalid disposition",
    "seat": "Kursi tidak valid / Invalid seat",
    "limit": f"limit harus 1..{queries.MAX_LIMIT} / limit must be 1..{queries.MAX_LIMIT}",
    "offset": "offset harus bilangan bulat ≥ 0 / offset must be an integer ≥ 0",
    "window": "window harus today atau hour / window must be today or hour",
}


class BadParameter(ValueError):
    def __init__(self, what: str) -> None:
        super().__init__(ERRORS[what])
        self.what = what


@dataclass(frozen=True)
class Search:
    number: str | None = None
    day: date | None = None
    disposition: str | None = None
    seat: str | None = None
    limit: int = 100
    offset: int = 0

    def fields(self, **changes: Any) -> dict[str, str]:
        """The whole search (empty values left out), for a form that posts it again (paging)."""
        values = {
            "number": self.number,
            "date": self.day and self.day.isoformat(),
            "disposition": self.disposition,
            "seat": self.seat,
            "limit": self.limit,
            "offset": self.offset,
            **changes,
        }
        return {k: str(v) for k, v in values.items() if v not in (None, "", 0)}

    def query(self, **changes: Any) -> dict[str, str]:
        """The search as query parameters for a link: without the number, which never goes into a URL."""
        return {k: v for k, v in self.fields(**changes).items() if k != "number"}


def from_url(query: Mapping[str, str], default_limit: int) -> Search:
    """A search from a ``GET``'s query string: every filter but the number."""
    if "number" in query:
        raise BadParameter(NUMBER_IN_URL)
    return parse_search(query, default_limit)


def from_json(body: Mapping[str, Any], default_limit: int) -> Search:
    """A search from a JSON body; numbers (``limit``, ``offset``) may come as JSON integers."""
    params: dict[str, str] = {}
    for name in FIELDS:
        value = body.get(name)
        if value is None:
            continue
        integer_ok = name in ("limit", "offset") and isinstance(value, int) and not isinstance(value, bool)
        if not (isinstance(value, str) or integer_ok):
            raise BadParameter(name)
        params[name] = str(value)
    return parse_search(params, default_limit)


def parse_search(params: Mapping[str, Any], default_limit: int) -> Search:
    """Validate the search parameters (``number``, ``date``, ``disposition``, ``seat``, ``limit``, ``offset``)."""
    number = (params.get("number") or "").strip()
    if len(number) > MAX_NUMBER:
        raise BadParameter("number")
    day: date | None = None
    if raw := params.get("date", ""):
        if not _DATE.fullmatch(raw):
            raise BadParameter("date")
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise BadParameter("date") from None
    disposition = params.get("disposition") or None
    if disposition is not None and not _DISPOSITION.fullmatch(disposition):
        raise BadParameter("disposition")
    seat = params.get("seat") or None
    if seat is not None and not _SEAT.fullmatch(seat):
        raise BadParameter("seat")
    limit = _int(params.get("limit"), default_limit, "limit")
    if not 1 <= limit <= queries.MAX_LIMIT:
        raise BadParameter("limit")
    return Search(number or None, day, disposition, seat, limit, _int(params.get("offset"), 0, "offset"))


def _int(raw: str | None, default: int, what: str) -> int:
    if raw in (None, ""):
        return default
    if not isinstance(raw, str) or not _INT.fullmatch(raw):
        raise BadParameter(what)
    return int(raw)
