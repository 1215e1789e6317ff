"""The OpenAPI document is generated from the real application's router (no controller, no Asterisk).

``create_app`` only registers routes and ``cleanup_ctx``; the controller starts in ``cleanup_ctx`` when the app
starts, which these tests never do.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiohttp import web
from openapi_spec_validator import validate

from padang112 import config
from padang112.accounts import ROLES
from padang112.web import api, auth, openapi
from padang112.web.app import create_app


@pytest.fixture
def app(tmp_path: Path) -> web.Application:
    toml = tmp_path / "padang112.toml"
    toml.write_text(f'state_dir = "{tmp_path / "state"}"\n')
    return create_app(config.load(toml, environ={}))


def _routes(app: web.Application, prefix: str) -> list[web.AbstractRoute]:
    return [
        r
        for r in app.router.routes()
        if r.method != "HEAD" and r.resource is not None and r.resource.canonical.startswith(prefix)
    ]


def test_the_document_is_openapi_3_1_json_and_valid(app: web.Application):
    doc = json.loads(json.dumps(openapi.document(app)))  # plain JSON: nothing that json cannot carry
    assert doc["openapi"] == "3.1.0"
    validate(doc)  # openapi-spec-validator: the OpenAPI 3.1 schema, and every $ref resolves
    assert openapi.DOC_PATH in doc["paths"]


def test_every_api_v1_route_is_documented_with_its_roles(app: web.Application):
    doc = openapi.document(app)
    routes = _routes(app, "/api/v1/")
    assert len(routes) >= 7
    for route in routes:
        path, method = route.resource.canonical, route.method.lower()
        assert method in doc["paths"].get(path, {}), f"{route.method} {path} is missing from the document"
        op = doc["paths"][path][method]
        roles = auth.allowed_roles(path, route.handler)
        assert roles is not None
        assert op["x-roles"] == [r for r in ROLES if r in roles], f"{route.method} {path}"
        assert f"Roles: {', '.join(op['x-roles'])}." in op["description"]
        assert op["operationId"] and op["summary"]
        assert op["responses"]["401"] == {"$ref": "#/components/responses/Unauthenticated"}
        unsafe = route.method in openapi.UNSAFE_METHODS
        assert op["security"] == [{"session": [], "csrf": []} if unsafe else {"session": []}]
    documented = {(p, m) for p, ops in doc["paths"].items() for m in ops}
    assert documented == {
        (r.resource.canonical, r.method.lower())
        for r in _routes(app, "/api/v1/") + _routes(app, "/ws") + _routes(app, openapi.MEDIA_PREFIX)
    }, "the document lists a route the router does not have"


def test_roles_are_the_ones_require_declared(app: web.Application):
    ops = {(m.upper(), p): op for p, by_method in openapi.document(app)["paths"].items() for m, op in by_method.items()}
    assert ops["GET", "/api/v1/room"]["x-roles"] == ["supervisor", "admin"]
    assert ops["GET", "/api/v1/me"]["x-roles"] == list(ROLES)
    assert ops["POST", "/api/v1/seat/sign-in"]["x-roles"] == ["call_taker"]
    assert ops["POST", "/api/v1/seats/{seat}/{verb}"]["x-roles"] == ["supervisor", "admin"]
    assert ops["POST", "/api/v1/calls/{call_id}/disposition"]["x-roles"] == ["call_taker", "supervisor", "admin"]
    assert ops["GET", openapi.DOC_PATH]["x-roles"] == list(ROLES)
    ws = ops["GET", "/ws"]
    assert ws["x-roles"] == list(ROLES) and ws["x-websocket"] is True and "101" in ws["responses"]


def test_path_parameters_come_from_the_route_patterns(app: web.Application):
    paths = openapi.document(app)["paths"]
    own = paths["/api/v1/seat/{verb}"]["post"]["parameters"]
    assert own == [
        {
            "name": "verb",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "enum": ["ready", "pause", "sign-out"]},
        }
    ]
    seat, verb = paths["/api/v1/seats/{seat}/{verb}"]["post"]["parameters"]
    assert seat == {"name": "seat", "in": "path", "required": True, "schema": {"type": "string"}}
    assert verb["schema"]["enum"] == ["pause", "sign-out"]
    (call_id,) = paths["/api/v1/calls/{call_id}/disposition"]["post"]["parameters"]
    assert call_id["name"] == "call_id" and call_id["schema"] == {"type": "string"}
    assert "parameters" not in paths["/api/v1/me"]["get"]


def test_request_bodies_of_the_post_routes(app: web.Application):
    paths = openapi.document(app)["paths"]

    def schema(path: str) -> dict:
        return paths[path]["post"]["requestBody"]["content"]["application/json"]["schema"]

    assert schema("/api/v1/seat/sign-in")["required"] == ["seat"]
    assert schema("/api/v1/seat/sign-in")["properties"]["seat"]["type"] == "string"
    for path in ("/api/v1/seat/{verb}", "/api/v1/seats/{seat}/{verb}"):
        assert schema(path)["properties"]["reason"]["enum"] == ["break", "training", "technical"]
        assert paths[path]["post"]["requestBody"]["required"] is False  # ready and sign-out send none
    disposition = schema("/api/v1/calls/{call_id}/disposition")
    assert disposition["required"] == ["disposition"]
    assert disposition["properties"]["disposition"]["enum"] == list(api.DISPOSITIONS)
    # The hand-written table must follow the router: every POST or PATCH under /api/v1 has an entry, and every
    # entry names a handler that is routed.
    posts = {openapi.handler_name(r.handler) for r in _routes(app, "/api/v1/") if r.method in ("POST", "PATCH")}
    assert posts == set(openapi.REQUEST_BODIES), "openapi.REQUEST_BODIES does not match the POST/PATCH routes"


def test_error_schema_and_security_schemes(app: web.Application):
    components = openapi.document(app)["components"]
    error = components["schemas"]["Error"]
    assert set(error["properties"]) == {"error", "message", "message_en"}
    assert {"unauthenticated", "forbidden", "csrf", "bad_json", "no_seat"} <= set(
        error["properties"]["error"]["examples"]
    )
    assert components["securitySchemes"] == {
        "session": {
            "type": "apiKey",
            "in": "cookie",
            "name": "padang112_session",
            "description": components["securitySchemes"]["session"]["description"],
        },
        "csrf": {
            "type": "apiKey",
            "in": "header",
            "name": "X-CSRF-Token",
            "description": components["securitySchemes"]["csrf"]["description"],
        },
    }


def test_the_document_follows_routes_added_later(app: web.Application):
    """Generated on each call: a route registered after setup shows up, with a regex parameter and public roles."""

    @auth.require("admin")
    async def purge(request: web.Request) -> web.Response:
        """Remove old recordings.

        Longer text goes to the description."""
        return web.json_response({})

    async def pong(request: web.Request) -> web.Response:
        return web.json_response({})

    app.router.add_post(r"/api/v1/recordings/{day:\d{4}-\d{2}-\d{2}}/purge", purge)
    app.router.add_get("/api/v1/ping", pong)
    paths = openapi.document(app)["paths"]
    op = paths["/api/v1/recordings/{day}/purge"]["post"]
    assert op["summary"] == "Remove old recordings."
    assert op["description"] == "Roles: admin.\n\nLonger text goes to the description."
    assert op["x-roles"] == ["admin"]
    assert op["parameters"][0]["schema"] == {"type": "string", "pattern": r"^(?:\d{4}-\d{2}-\d{2})$"}
    assert "requestBody" not in op  # not in REQUEST_BODIES
    assert paths["/api/v1/ping"]["get"]["x-roles"] == list(ROLES)
    assert paths["/api/v1/ping"]["get"]["summary"] == "Pong"
