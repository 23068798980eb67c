"""Tenants: create, list, get, delete, reset, state; the health check; the magic-number table; extra tokens."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.control.common import SandboxError, json_body, respond, sandbox_of, tenant_of
from sandbox.domain.customer import magic_table
from sandbox.services import tenants, world
from sandbox.version import __version__


async def health(request: Request) -> Response:
    sandbox = sandbox_of(request)
    return respond({"status": "ok", "version": __version__, "tenants": len(sandbox.tenants)})


async def create_tenant(request: Request) -> Response:
    body = await json_body(request)
    unknown = set(body) - {"name", "profile", "seed", "webhook", "clock"}
    if unknown:
        raise SandboxError(400, f"unknown field(s): {', '.join(sorted(unknown))}")
    webhook = body.get("webhook")
    clock = body.get("clock")
    if webhook is not None and not isinstance(webhook, dict):
        raise SandboxError(400, "webhook must be an object with url and verify_token")
    if clock is not None and not isinstance(clock, dict):
        raise SandboxError(400, "clock must be an object with mode and rate")
    tenant = tenants.create_tenant(
        sandbox_of(request),
        name=body.get("name"),
        profile=body.get("profile"),
        seed=body.get("seed"),
        webhook=webhook,
        clock=clock,
    )
    return respond(tenant.document(), 201)


async def list_tenants(request: Request) -> Response:
    return respond({"data": [tenant.document() for tenant in sandbox_of(request).tenants.values()]})


async def get_tenant(request: Request) -> Response:
    return respond(tenant_of(request).document())


async def delete_tenant(request: Request) -> Response:
    sandbox_of(request).remove(tenant_of(request).id)
    return respond({"success": True})


async def reset_tenant(request: Request) -> Response:
    body = await json_body(request)
    seed = _seed(body)
    return respond(tenants.reset_tenant(sandbox_of(request), tenant_of(request), seed).document())


async def reset_sandbox(request: Request) -> Response:
    body = await json_body(request)
    return respond(tenants.reset_sandbox(sandbox_of(request), _seed(body)).document())


def _seed(body: dict[str, object]) -> int | None:
    seed = body.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise SandboxError(400, "seed must be an integer")
    return seed


async def tenant_state(request: Request) -> Response:
    return respond(world.snapshot(tenant_of(request)))


async def magic(request: Request) -> Response:
    return respond({"data": magic_table()})


async def issue_token(request: Request) -> Response:
    body = await json_body(request)
    expires_in = body.get("expires_in")
    if expires_in is not None and (
        not isinstance(expires_in, int | float) or isinstance(expires_in, bool) or expires_in < 0
    ):
        raise SandboxError(400, "expires_in must be a non-negative number of seconds")
    return respond(tenants.issue_token(tenant_of(request), sandbox_of(request), expires_in), 201)


routes = [
    Route("/_sandbox/health", health, methods=["GET"]),
    Route("/_sandbox/magic", magic, methods=["GET"]),
    Route("/_sandbox/reset", reset_sandbox, methods=["POST"]),
    Route("/_sandbox/tenants", create_tenant, methods=["POST"]),
    Route("/_sandbox/tenants", list_tenants, methods=["GET"]),
    Route("/_sandbox/tenants/{tenant}", get_tenant, methods=["GET"]),
    Route("/_sandbox/tenants/{tenant}", delete_tenant, methods=["DELETE"]),
    Route("/_sandbox/tenants/{tenant}/reset", reset_tenant, methods=["POST"]),
    Route("/_sandbox/tenants/{tenant}/state", tenant_state, methods=["GET"]),
    Route("/_sandbox/tenants/{tenant}/tokens", issue_token, methods=["POST"]),
]
