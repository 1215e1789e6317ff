"""Browser-facing hardening shared by every response: security headers, and a strict JSON body reader.

Headers (set in ``on_response_prepare``, so static files, errors and the WebSocket upgrade get them too):

- ``Content-Security-Policy``: scripts, styles, images, media and connections from this origin only (no inline
  script or style attribute anywhere in ``web/``; the JSON data blocks ``<script type="application/json">`` are not
  run), ``blob:`` for the camera player's MediaSource and worker, no framing (``frame-ancestors 'none'``), forms
  post only here, no ``<base>``.
- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` (a console URL never leaves the room),
  ``X-Frame-Options: DENY`` for browsers without CSP level 2, ``Cross-Origin-Opener-Policy: same-origin``.
- ``Server: padang112``: no library name or version to look vulnerabilities up by. aiohttp's own answers to
  requests it cannot parse (before any application runs) take the same name through ``SERVER_SOFTWARE``.

JSON bodies: Python's parser accepts ``NaN``, ``Infinity`` and ``1e400`` (which becomes ``inf``) and raises
``RecursionError`` on a deeply nested document; :func:`parse_json` refuses all of them with ``ValueError``, so
a handler answers 400 instead of storing an infinity or failing with 500.
"""

from __future__ import annotations

import json
import math
from typing import Any

from aiohttp import web, web_response

SERVER_NAME = "padang112"
MAX_DEPTH = 32  # nesting of arrays and objects in a request body; the console's deepest is 3

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


async def _add_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers["Server"] = SERVER_NAME


def setup(app: web.Application) -> None:
    web_response.SERVER_SOFTWARE = SERVER_NAME  # aiohttp's default for the answers it makes itself
    app.on_response_prepare.append(_add_headers)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number out of range: {text[:20]}")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _depth(value: Any) -> int:
    """Nesting depth, iteratively (a recursive walk would fail on exactly the documents it must measure)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:
                break
            stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def parse_json(text: str) -> Any:
    """A JSON document with finite numbers only, at most :data:`MAX_DEPTH` deep; ``ValueError`` otherwise."""
    try:
        value = json.loads(text, parse_float=_finite, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    if _depth(value) > MAX_DEPTH:
        raise ValueError("JSON nested too deeply")
    return value
