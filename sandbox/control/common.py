"""What every control-plane handler shares: the error envelope, body parsing, tenant lookup, rendering."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from sandbox import json_bodies
from sandbox.clock import to_rfc3339
from sandbox.context import Sandbox, Tenant
from sandbox.control.parse import query_integer
from sandbox.domain.errors import Conflict, DomainError, Invalid, NotFound
from sandbox.errors import SandboxError

__all__ = [
    "SandboxError", "error_response", "json_body", "limit_of", "read_bytes", "respond", "sandbox_of", "tenant_of",
]  # fmt: skip

BODY_LIMIT = 1024 * 1024
MAX_PAGE = 100_000
# The query parameters of a page, as the OpenAPI description declares them (`limit_of` reads `limit`).
LIMIT_QUERY: dict[str, dict[str, Any]] = {"limit": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}}
TIME_QUERY: dict[str, Any] = {"type": "string", "format": "date-time"}
TEXT_QUERY: dict[str, Any] = {"type": "string"}


def sandbox_of(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


def tenant_of(request: Request) -> Tenant:
    sandbox = sandbox_of(request)
    tenant = sandbox.tenants.get(request.path_params["tenant"])
    if tenant is None:
        raise SandboxError(404, f"no tenant {request.path_params['tenant']!r}")
    if request.method != "GET":
        sandbox.dirty.add(tenant.id)
    return tenant


async def json_body(request: Request, *, required: bool = False) -> dict[str, Any]:
    raw = await read_bytes(request, BODY_LIMIT, "the control plane reads")
    if not raw.strip():
        if required:
            raise SandboxError(400, "a JSON object body is required")
        return {}
    try:
        body = json_bodies.loads(raw)
    except json_bodies.TooDeep as error:
        raise SandboxError(400, f"the body is {error}") from None
    except ValueError as error:
        raise SandboxError(400, f"the body is not valid JSON: {error}") from error
    if not isinstance(body, dict):
        raise SandboxError(400, "the body must be a JSON object")
    return body


async def read_bytes(request: Request, limit: int, what: str) -> bytes:
    """The raw body, read no further than `limit` bytes (413 past it, saying `what` the limit is)."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise SandboxError(413, f"the body is larger than {what} ({limit} bytes)")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise SandboxError(413, f"the body is larger than {what} ({limit} bytes)")
        chunks.append(chunk)
    return b"".join(chunks)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return to_rfc3339(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError


def respond(data: Any, status: int = 200) -> Response:
    try:
        # Without passthrough orjson writes datetimes itself (`+00:00`), not as the contract's RFC 3339 `Z`.
        content = orjson.dumps(data, default=_default, option=orjson.OPT_PASSTHROUGH_DATETIME)
    except TypeError:
        content = json.dumps(data, default=_default).encode()
    return Response(content, status_code=status, media_type="application/json")


# The control plane's answer to each kind of refusal the services raise (control-plane.md conventions).
DOMAIN_STATUS: dict[type[DomainError], int] = {Invalid: 400, NotFound: 404, Conflict: 409}


def domain_status(error: DomainError) -> int:
    for kind in type(error).__mro__:
        if kind in DOMAIN_STATUS:
            return DOMAIN_STATUS[kind]
    return 400


def error_response(sandbox: Sandbox, status: int, message: str) -> Response:
    return respond(
        {"error": {"message": message, "type": "SandboxError", "code": status, "fbtrace_id": sandbox.ids.fbtrace_id()}},
        status,
    )


def limit_of(request: Request, default: int = 100) -> int:
    """The `limit` of a journal page; a larger one is answered with the largest page (the journal is bounded)."""
    return query_integer(
        request.query_params, "limit", low=1, high=MAX_PAGE, default=default, what="a positive integer"
    )
