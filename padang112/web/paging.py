"""``?limit=&offset=`` on the API's lists: parsed once, refused with the API's one error shape when wrong."""

from __future__ import annotations

import re
from collections.abc import Mapping

from aiohttp import web

from padang112.storage.paging import MAX_LIMIT, Window
from padang112.web.api import json_error

_INT = re.compile(r"\d{1,7}")


def window_of(query: Mapping[str, str], default_limit: int) -> Window:
    """The requested window of a list; 400 ``bad_page`` for a limit outside 1..MAX_LIMIT or a bad offset."""
    try:
        return Window(_int(query.get("limit"), default_limit), _int(query.get("offset"), 0))
    except ValueError:
        raise bad_page() from None


def bad_page() -> web.HTTPException:
    return json_error(
        400,
        "bad_page",
        f"limit harus 1..{MAX_LIMIT} dan offset bilangan bulat ≥ 0.",
        f"limit must be 1..{MAX_LIMIT} and offset an integer ≥ 0.",
    )


def _int(raw: str | None, default: int) -> int:
    if raw in (None, ""):
        return default
    if not _INT.fullmatch(raw or ""):
        raise ValueError(raw)
    return int(raw or 0)
