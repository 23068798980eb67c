"""The control plane's OpenAPI 3.1 description, generated from its routes (`GET /_sandbox/openapi.json`).

Paths, methods and path parameters come from the `ControlRoute`s themselves; request bodies from the parsers the
handlers read them with (`parse.describe`) or, for the policy, from the knobs' declarations; the answer of a
success from the component its route names. Every answer the code can give is listed: the success, and the
SandboxError envelope for 400, 401 (the admin token), 404, 409 and, where a body is read, 413. An answer this
module has no schema for is described as what it is, a JSON object.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterable
from typing import Any

from starlette.routing import BaseRoute

from sandbox.clock import EARLIEST, LATEST, to_rfc3339
from sandbox.control.parse import choices_of, describe
from sandbox.control.routing import ControlRoute
from sandbox.domain.customer import Delivery, Reads
from sandbox.domain.message import MessageStatus
from sandbox.settings import Profile
from sandbox.version import __version__

OPENAPI_VERSION = "3.1.0"
ERROR_STATUSES = {
    400: "the request is refused: a field, parameter or body the control plane does not accept",
    401: "the server has an admin token and the request does not carry it",
    404: "no such tenant, or no such object in it",
    409: "the object is in a state that does not allow this",
}
TOO_LARGE = "the body is larger than the control plane reads (1 MiB)"
TIME = {"type": "string", "format": "date-time"}
OBJECT = {"type": "object"}
NON_EMPTY = {"type": "string", "minLength": 1}
_TIME_RANGE = f"from {to_rfc3339(EARLIEST)} to {to_rfc3339(LATEST)}"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _data(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": {"data": {"type": "array", "items": items}}, "required": ["data"]}


def _strings(*names: str) -> dict[str, Any]:
    return {name: {"type": "string"} for name in names}


SCHEMAS: dict[str, dict[str, Any]] = {
    "SandboxError": {
        "type": "object",
        "description": "Every refusal of the control plane (Graph's envelope, with the HTTP status as code).",
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "message": {"type": "string"},
                    "type": {"const": "SandboxError"},
                    "code": {"type": "integer", "minimum": 400, "maximum": 599},
                    "fbtrace_id": {"type": "string"},
                },
                "required": ["message", "type", "code", "fbtrace_id"],
            }
        },
        "required": ["error"],
    },
    "Clock": {
        "type": "object",
        "description": f"A tenant's clock; it runs {_TIME_RANGE}.",
        "properties": {
            "now": TIME,
            "mode": {"enum": ["realtime", "frozen"]},
            "rate": {"type": "number", "exclusiveMinimum": 0},
            "pending_events": {"type": "integer", "minimum": 0},
        },
        "required": ["now", "mode", "rate", "pending_events"],
    },
    "Advanced": {
        "type": "object",
        "properties": {"now": TIME, "fired": {"type": "integer", "minimum": 0}},
        "required": ["now", "fired"],
    },
    "Webhook": {
        "type": "object",
        "properties": {"url": {"type": ["string", "null"]}, "verify_token": {"type": ["string", "null"]}},
        "required": ["url", "verify_token"],
    },
    "Tenant": {
        "type": "object",
        "description": "A tenant: its credentials, ids, webhook settings and clock.",
        "properties": {
            **_strings("id", "name", "access_token", "app_id", "app_secret", "verify_token", "business_id"),
            **_strings("waba_id", "graph_version", "phone_number_id", "display_phone_number"),
            "profile": {"enum": list(choices_of(Profile))},
            "seed": {"type": "integer"},
            "webhook": _ref("Webhook"),
            "clock": _ref("Clock"),
        },
        "required": [
            *("id", "name", "profile", "seed", "access_token", "app_id", "app_secret", "verify_token"),
            *("business_id", "waba_id", "graph_version", "webhook", "clock"),
        ],
    },
    "Tenants": _data(_ref("Tenant")),
    "Message": {
        "type": "object",
        "description": "A message either way, with its status history; its content sits under its `type`.",
        "properties": {
            **_strings("id", "phone_number_id", "wa_id", "type"),
            "direction": {"enum": ["inbound", "outbound"]},
            "status": {"enum": list(choices_of(MessageStatus))},
            "created_at": TIME,
            "history": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"status": {"type": "string"}, "timestamp": TIME},
                    "required": ["status", "timestamp"],
                },
            },
            "context": {"type": ["object", "null"]},
            "biz_opaque_callback_data": {"type": ["string", "null"]},
            "errors": {"type": ["array", "null"]},
        },
        "required": ["id", "direction", "wa_id", "type", "status", "created_at", "history"],
    },
    "Messages": _data(_ref("Message")),
    "Customer": {
        "type": "object",
        "properties": {"wa_id": {"type": "string"}, "delivery": {"enum": list(choices_of(Delivery))}}
        | {"reads": {"enum": list(choices_of(Reads))}},
        "required": ["wa_id"],
    },
    "List": _data(OBJECT),
    "Index": {
        "type": "object",
        "description": "Where to go: the docs, this description, health, tenants; and the areas of the control plane.",
        "properties": {
            "name": {"type": "string"},
            "version": {"type": "string"},
            "tenants": {"type": "integer", "minimum": 0},
            "links": {"type": "object", "additionalProperties": {"type": "string"}},
            "areas": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "description": {"type": "string"},
                        "operations": {"type": "integer", "minimum": 1},
                    },
                    "required": ["name", "description", "operations"],
                },
            },
        },
        "required": ["name", "version", "tenants", "links", "areas"],
    },
    "Success": {
        "type": "object",
        "properties": {"success": {"const": True}, "removed": {"type": "integer", "minimum": 0}},
        "required": ["success"],
    },
    "Health": {
        "type": "object",
        "description": "The shared machinery: 200 when the ticker and every outbox worker run, else 503.",
        "properties": {
            "status": {"enum": ["ok", "degraded"]},
            "version": {"type": "string"},
            "tenants": {"type": "integer", "minimum": 0},
            "ticker": {"type": "object", "properties": {"running": {"type": "boolean"}}, "required": ["running"]},
            "outbox": {"type": "object", "properties": {"running": {"type": "boolean"}}, "required": ["running"]},
            "incidents": {"type": "object", "additionalProperties": {"type": "integer"}},
            "process": {
                "type": "object",
                "description": "this process: pid, CPU seconds used so far, peak RSS in MB",
                "properties": {
                    "pid": {"type": "integer"},
                    "cpu_seconds": {"type": "number", "minimum": 0},
                    "max_rss_mb": {"type": "number", "minimum": 0},
                },
                "required": ["pid", "cpu_seconds", "max_rss_mb"],
            },
        },
        "required": ["status", "version", "tenants", "ticker", "outbox", "incidents", "process"],
    },
}


def _summary(route: ControlRoute) -> tuple[str, str | None]:
    doc = inspect.getdoc(route.endpoint)
    name = route.endpoint.__name__.replace("_", " ")
    return name[:1].upper() + name[1:], doc


def _tag(route: ControlRoute) -> str:
    return route.endpoint.__module__.rsplit(".", 1)[-1]


def _content(media_types: Iterable[str], schema: dict[str, Any]) -> dict[str, Any]:
    return {media: {"schema": schema if media == "application/json" else {}} for media in media_types}


def _body(route: ControlRoute) -> dict[str, Any] | None:
    if route.body is not None:
        schema = describe(route.body)
    elif route.body_schema is not None:
        schema = route.body_schema()
    else:
        return None
    return {"required": route.body_required, "content": {route.body_media: {"schema": schema}}}


def operation(route: ControlRoute, method: str) -> dict[str, Any]:
    summary, doc = _summary(route)
    answer = _ref(route.answer) if route.answer else OBJECT
    responses: dict[str, Any] = {
        str(route.status): {"description": "the answer", "content": _content(route.media_types, answer)}
    }
    if route.answer == "Health":
        responses["503"] = {"description": "the ticker or an outbox worker is not running", "content": _json(answer)}
    errors = {status: text for status, text in ERROR_STATUSES.items() if not route.public}
    if route.public and route.param_convertors:
        errors[404] = ERROR_STATUSES[404]
    body = _body(route)
    if body is not None:
        errors[413] = TOO_LARGE
    for status, text in sorted(errors.items()):
        responses[str(status)] = {"description": text, "content": _json(_ref("SandboxError"))}
    described: dict[str, Any] = {
        "operationId": f"{_tag(route)}.{route.endpoint.__name__}",
        "summary": summary,
        "tags": [_tag(route)],
        "responses": responses,
    }
    if doc:
        described["description"] = doc
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": route.parameters.get(name, NON_EMPTY)}
        for name in route.param_convertors
    ] + [
        {"name": name, "in": "query", "required": name in route.query_required, "schema": schema}
        for name, schema in route.query.items()
    ]
    if parameters:
        described["parameters"] = parameters
    if body is not None:
        described["requestBody"] = body
    if route.public:
        described["security"] = []
    return described


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def description(routes: Iterable[BaseRoute]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every `ControlRoute` in `routes` (HEAD, which Starlette adds to GET, aside)."""
    paths: dict[str, dict[str, Any]] = {}
    tags: dict[str, str] = {}
    for route in routes:
        if not isinstance(route, ControlRoute):
            continue
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                paths.setdefault(route.path, {})[method.lower()] = operation(route, method)
        module = sys.modules[route.endpoint.__module__]
        tags.setdefault(_tag(route), (inspect.getdoc(module) or "").split("\n\n", 1)[0])
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "wa-sandbox control plane",
            "version": __version__,
            "description": (
                "The sandbox's own surface under `/_sandbox/`: tenants, their clocks, customers, faults, policy and "
                "journals. Generated from the routes and the parsers that read their bodies. JSON `null` counts as "
                "an absent field everywhere. A parser's checks across fields (one of two fields, an order between "
                "two numbers) are not expressed here; such bodies get a 400 SandboxError."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"adminToken": []}],
        "tags": [{"name": name, "description": text} for name, text in sorted(tags.items())],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "adminToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The server's admin token (`--admin-token`); without one, no token is asked.",
                }
            },
        },
    }
