"""``GET /api/v1/openapi.json``: an OpenAPI 3.1 description of ``/api/v1`` and ``/ws``, built from the router.

The document is generated on every request from the application's routes, so it cannot fall behind them:
paths, methods and path parameters come from the aiohttp resources (a parameter declared as
``{verb:ready|pause|sign-out}`` becomes an enum), the roles from :func:`padang112.web.auth.allowed_roles`
(what :func:`~padang112.web.auth.require` recorded on the handler) and the summary from the handler's
docstring. Only request bodies cannot be read off a handler; they are described in :data:`REQUEST_BODIES`,
keyed by handler name (the unit tests fail when a ``POST`` under ``/api/v1`` is missing from that table).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from importlib import metadata
from typing import Any

from aiohttp import hdrs, web

from padang112.accounts import ROLES
from padang112.incidents.messages import MAX_TEXT
from padang112.incidents.model import AGENCIES
from padang112.incidents.validation import SOURCES
from padang112.web import api, auth

DOC_PATH = "/api/v1/openapi.json"
API_PREFIX = "/api/v1/"
WS_PATH = "/ws"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_JSON = "application/json"
_DEFAULT_PARAM_RE = "[^{}/]+"  # what aiohttp matches for a plain ``{name}``
_ALTERNATIVES = re.compile(r"[A-Za-z0-9_.~-]+(?:\|[A-Za-z0-9_.~-]+)*")


def _object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


_PAUSE_BODY = {
    "required": False,
    "description": "Only `pause` reads a body; `ready` and `sign-out` need none.",
    "content": {
        _JSON: {
            "schema": _object(
                {"reason": {"type": "string", "enum": list(api.PAUSE_REASONS), "description": "why the seat pauses"}},
                [],
            )
        }
    },
}

# Request bodies of the POST routes, keyed by handler name (the name of the function ``require`` wrapped).
REQUEST_BODIES: dict[str, dict[str, Any]] = {
    "seat_sign_in": {
        "required": True,
        "content": {
            _JSON: {
                "schema": _object(
                    {
                        "seat": {
                            "type": "string",
                            "description": "seat id, e.g. `seat01`; see `seats` in GET /api/v1/me",
                        }
                    },
                    ["seat"],
                )
            }
        },
    },
    "own_seat_verb": _PAUSE_BODY,
    "any_seat_verb": _PAUSE_BODY,
    "disposition": {
        "required": True,
        "content": {
            _JSON: {
                "schema": _object({"disposition": {"type": "string", "enum": list(api.DISPOSITIONS)}}, ["disposition"])
            }
        },
    },
    "create": {
        "required": True,
        "content": {
            _JSON: {
                "schema": _object(
                    {
                        "type_code": {"type": "string", "description": "a code of GET /api/v1/incident-catalog"},
                        "priority": {"type": "integer", "minimum": 1, "maximum": 4},
                        "kecamatan": {"type": "string"},
                        "kelurahan": {"type": "string"},
                        "location_text": {"type": "string", "maxLength": 500},
                        "latitude": {"type": "number"},
                        "longitude": {"type": "number"},
                        "description": {"type": "string", "maxLength": 4000},
                        "victims": {"type": "integer", "minimum": 0},
                        "caller_name": {"type": "string"},
                        "callback_number": {"type": "string"},
                        "notes": {"type": "string"},
                        "agencies": {
                            "type": "array",
                            "items": {"type": "string", "enum": list(AGENCIES)},
                            "description": "empty: the catalog's defaults for the type",
                        },
                        "call_id": {"type": "string"},
                        "source": {
                            "type": "string",
                            "enum": list(SOURCES),
                            "description": "`call` unless entered by hand",
                        },
                    },
                    ["type_code", "priority", "kecamatan", "description"],
                )
            }
        },
    },
    "update": {
        "required": True,
        "content": {
            _JSON: {
                "schema": _object(
                    {
                        "changes": {"type": "object", "description": "editable fields and their new values"},
                        "version": {
                            "type": "integer",
                            "description": "the version the editor saw (409 if it moved on)",
                        },
                    },
                    ["changes", "version"],
                )
            }
        },
    },
    "task_state": {
        "required": False,
        "content": {
            _JSON: {
                "schema": _object(
                    {
                        "note": {"type": "string", "maxLength": 2000},
                        "reason": {"type": "string", "description": "required to cancel"},
                    },
                    [],
                )
            }
        },
    },
}

_CAMERA_FIELDS = {
    "name": {"type": "string", "maxLength": 120},
    "kecamatan": {"type": "string", "description": "one of Padang's 11"},
    "location_text": {"type": "string", "maxLength": 500},
    "latitude": {"type": "number", "description": "inside Padang"},
    "longitude": {"type": "number"},
    "kind": {"type": "string", "enum": ["traffic", "public_facility", "flood_gauge", "other"]},
    "stream_type": {"type": "string", "enum": ["hls", "mjpeg", "snapshot", "rtsp"]},
    "stream_url": {"type": "string", "description": "may carry credentials; never shown back unmasked"},
}
REQUEST_BODIES.update(
    {
        "camera_create": {
            "required": True,
            "content": {
                _JSON: {
                    "schema": _object(
                        _CAMERA_FIELDS,
                        ["name", "kecamatan", "latitude", "longitude", "kind", "stream_type", "stream_url"],
                    )
                }
            },
        },
        "camera_update": {
            "required": True,
            "content": {_JSON: {"schema": _object({**_CAMERA_FIELDS, "enabled": {"type": "boolean"}}, [])}},
        },
        "wall_layout_save": {
            "required": True,
            "content": {
                _JSON: {
                    "schema": _object(
                        {
                            "grid": {"type": "integer", "enum": [1, 4, 9, 16]},
                            "tiles": {
                                "type": "array",
                                "items": {"type": ["integer", "null"]},
                                "description": "a camera id per tile",
                            },
                        },
                        ["grid"],
                    )
                }
            },
        },
    }
)

_MESSAGE = {
    "required": True,
    "content": {
        _JSON: {
            "schema": _object(
                {
                    "text": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": MAX_TEXT,
                        "description": "kept as typed, HTML too",
                    }
                },
                ["text"],
            )
        }
    },
}
_CALLER_NUMBER = {"type": "string", "maxLength": 64, "description": "the caller number exactly as received"}
REQUEST_BODIES.update(
    {  # requests for more information, a number's prank score and clearing it
        "ask_info": _MESSAGE,
        "answer_info": _MESSAGE,
        "clear_prank": {
            "required": True,
            "content": {
                _JSON: {
                    "schema": _object(
                        {
                            "number": _CALLER_NUMBER,
                            "call_id": {
                                "type": "string",
                                "description": "the call on screen when it was cleared (recorded)",
                            },
                        },
                        ["number"],
                    )
                }
            },
        },
        "prank_score": {
            "required": True,
            "content": {_JSON: {"schema": _object({"number": _CALLER_NUMBER}, ["number"])}},
        },
    }
)

REQUEST_BODIES["calls_search_api"] = {
    "required": True,
    "description": "The number goes here, never into a URL (GET /api/v1/calls refuses `?number=`).",
    "content": {
        _JSON: {
            "schema": _object(
                {
                    "number": {"type": "string", "maxLength": 64, "description": "digits the caller's number holds"},
                    "date": {"type": "string", "format": "date", "description": "WIB calendar day"},
                    "disposition": {"type": "string"},
                    "seat": {"type": "string"},
                    "limit": {"type": "integer", "minimum": 1},
                    "offset": {"type": "integer", "minimum": 0},
                },
                [],
            )
        }
    },
}

REQUEST_BODIES["add_mark"] = {
    "required": True,
    "content": {
        _JSON: {
            "schema": _object(
                {
                    "subject": {"type": "string", "enum": ["call", "incident"]},
                    "id": {"type": "string", "description": "the call id, or the incident's numeric id"},
                    "reason": {"type": "string", "minLength": 1, "maxLength": 500},
                },
                ["subject", "id", "reason"],
            )
        }
    },
}

REQUEST_BODIES["handoff"] = {
    "required": True,
    "content": {
        _JSON: {
            "schema": _object(
                {
                    "agency": {
                        "type": "string",
                        "enum": list(AGENCIES),
                        "description": "whose duty phone joins the call",
                    }
                },
                ["agency"],
            )
        }
    },
}
REQUEST_BODIES["leave"] = {
    "required": False,
    "description": "No body needed.",
    "content": {_JSON: {"schema": _object({}, [])}},
}
REQUEST_BODIES["call_back"] = {  # the callback list
    "required": False,
    "description": "No body needed: the call back rings the call taker's own seat.",
    "content": {_JSON: {"schema": _object({}, [])}},
}

WS_DESCRIPTION = (
    "WebSocket upgrade (`101 Switching Protocols`). Each message is a JSON object with a `type`: first "
    "`hello` (user, role, seat, and the whole room for supervisors and admins), then the domain events this "
    "user may see (`CallTransition`, `SeatTransition`, ...), `screen_pop` for a call taker whose seat is offered "
    "a call (`call`, and `history`: the number's earlier calls, prank count and score, as the `offered` event "
    "carries them), and `pong` in answer to the text message `ping`."
)


def _original(handler: Callable[..., Any]) -> Callable[..., Any]:
    return inspect.unwrap(handler)


def handler_name(handler: Callable[..., Any]) -> str:
    """The name of the function behind a (possibly ``require``-wrapped) handler."""
    original = _original(handler)
    return getattr(original, "__name__", type(original).__name__)


def _docstring(handler: Callable[..., Any]) -> tuple[str | None, str]:
    doc = inspect.getdoc(_original(handler)) or inspect.getdoc(handler)
    if not doc:
        return None, ""
    first, _, rest = doc.partition("\n")
    return first.strip(), rest.strip()


def _group_body(pattern: str, start: int) -> str:
    """The text of the group whose ``(`` is at ``start`` (escapes and nested groups and classes allowed)."""
    depth, i, in_class = 0, start, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return pattern[pattern.index(">", start) + 1 : i]
        i += 1
    raise ValueError(f"unbalanced group in route pattern {pattern!r}")


def path_parameters(resource: web.AbstractResource | None) -> list[tuple[str, list[str] | None, str]]:
    """``(name, enum or None, regex)`` of each dynamic part of ``resource``, in path order."""
    if resource is None:
        return []
    info = resource.get_info()
    pattern = info.get("pattern")
    if pattern is None:  # a plain path
        return []
    source = pattern.pattern
    params = []
    for name in re.findall(r"\{([^{}:]+)\}", info["formatter"]):
        start = source.index(f"(?P<{name}>")
        regex = _group_body(source, start)
        enum = regex.split("|") if regex != _DEFAULT_PARAM_RE and _ALTERNATIVES.fullmatch(regex) else None
        params.append((name, enum, regex))
    return params


def _parameter(name: str, enum: list[str] | None, regex: str) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if enum is not None:
        schema["enum"] = enum
    elif regex != _DEFAULT_PARAM_RE:
        schema["pattern"] = f"^(?:{regex})$"
    return {"name": name, "in": "path", "required": True, "schema": schema}


MEDIA_PREFIX = "/kamera/"  # the camera proxy: not JSON, but an API all the same


def documented(path: str) -> bool:
    return path == WS_PATH or path.startswith((API_PREFIX, MEDIA_PREFIX))


def _roles_in_order(roles: frozenset[str]) -> list[str]:
    return [r for r in ROLES if r in roles]


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {_JSON: {"schema": {"$ref": "#/components/schemas/Error"}}}}


# Shared refusals, referenced from each operation as ``#/components/responses/<name>``.
ERROR_RESPONSES = {
    "BadRequest": _error("The body is not a JSON object (`bad_json`) or a field's value is unknown."),
    "Unauthenticated": _error("No valid session (`unauthenticated`)."),
    "Forbidden": _error("This user's role may not use this route (`forbidden`)."),
    "ForbiddenOrCsrf": _error(
        "This user's role may not use this route (`forbidden`), or the CSRF token is missing or wrong (`csrf`)."
    ),
    "Refused": _error("Any other refusal (unknown seat or call, seat taken, ...): `error` names it."),
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{name}"}


def _operation(path: str, method: str, route: web.AbstractRoute, operation_id: str) -> dict[str, Any]:
    handler = route.handler
    name = handler_name(handler)
    roles = auth.allowed_roles(path, handler)
    summary, details = _docstring(handler)
    who = "Public: no sign-in needed." if roles is None else f"Roles: {', '.join(_roles_in_order(roles))}."
    parts = [who] + ([details] if details else [])
    unsafe = method in UNSAFE_METHODS
    op: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary or name.replace("_", " ").capitalize(),
        "description": "\n\n".join(parts),
        "x-roles": [] if roles is None else _roles_in_order(roles),
        "security": [] if roles is None else [{"session": [], "csrf": []} if unsafe else {"session": []}],
    }
    if roles is None:
        op["x-public"] = True
    params = [_parameter(*p) for p in path_parameters(route.resource)]
    if params:
        op["parameters"] = params
    body = REQUEST_BODIES.get(name) if unsafe else None
    if body is not None:
        op["requestBody"] = body
    if path == WS_PATH:
        op["description"] += "\n\n" + WS_DESCRIPTION
        op["x-websocket"] = True
        responses: dict[str, Any] = {"101": {"description": "Switching Protocols: the live WebSocket"}}
    else:
        responses = {"200": {"description": "OK", "content": {_JSON: {"schema": {"type": "object"}}}}}
    if body is not None:
        responses["400"] = _ref("BadRequest")
    if roles is not None:
        responses["401"] = _ref("Unauthenticated")
        responses["403"] = _ref("ForbiddenOrCsrf" if unsafe else "Forbidden")
    responses["4XX"] = _ref("Refused")
    op["responses"] = responses
    return op


def _components() -> dict[str, Any]:
    codes = list(auth.MESSAGES["en"]) + list(api.ERRORS)
    return {
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error", "message"],
                "properties": {
                    "error": {"type": "string", "description": "machine-readable code", "examples": codes},
                    "message": {"type": "string", "description": "Indonesian text for the user"},
                    "message_en": {"type": "string", "description": "English text for the user"},
                },
            }
        },
        "responses": ERROR_RESPONSES,
        "securitySchemes": {
            "session": {
                "type": "apiKey",
                "in": "cookie",
                "name": auth.SESSION_COOKIE,
                "description": "Server-side session set by signing in at `POST /masuk` (HttpOnly, SameSite=Strict).",
            },
            "csrf": {
                "type": "apiKey",
                "in": "header",
                "name": auth.CSRF_HEADER,
                "description": "The session's CSRF token, required on every POST/PUT/PATCH/DELETE; "
                'pages carry it in `<script type="application/json" id="csrf">`.',
            },
        },
    }


def _version() -> str:
    try:
        return metadata.version("padang112")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def document(app: web.Application) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``app``'s ``/api/v1`` and ``/ws`` routes, as they are registered now."""
    paths: dict[str, dict[str, Any]] = {}
    used_ids: set[str] = set()
    for route in app.router.routes():
        method = route.method.upper()
        path = route.resource.canonical if route.resource is not None else ""
        if method in (hdrs.METH_HEAD, hdrs.METH_ANY) or not documented(path):
            continue
        operation_id = base = handler_name(route.handler)
        n = 2
        while operation_id in used_ids:
            operation_id, n = f"{base}_{n}", n + 1
        used_ids.add(operation_id)
        paths.setdefault(path, {})[method.lower()] = _operation(path, method, route, operation_id)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "padang112 console API",
            "version": _version(),
            "description": "The JSON API and live WebSocket of the Padang 112 console, generated from the running "
            "application's router. Refusals are `{error, message, message_en}` JSON.",
        },
        "servers": [{"url": "/"}],
        "security": [{"session": []}],
        "paths": dict(sorted(paths.items())),
        "components": _components(),
    }


@auth.require()
async def openapi_json(request: web.Request) -> web.Response:
    """This API's OpenAPI 3.1 document, generated from the router on each request."""
    return web.json_response(document(request.app), headers={"Cache-Control": "no-store"})


def setup(app: web.Application) -> None:
    """Register ``GET /api/v1/openapi.json``; call it after every other route is added."""
    app.router.add_get(DOC_PATH, openapi_json)
