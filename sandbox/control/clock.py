"""A tenant's clock: read it, freeze or compress it, advance it (firing what falls due, in time order)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.clock import parse_rfc3339, to_rfc3339
from sandbox.control.common import SandboxError, json_body, respond, tenant_of
from sandbox.services import tenants


async def get_clock(request: Request) -> Response:
    return respond(tenant_of(request).clock.snapshot())


async def set_clock(request: Request) -> Response:
    tenant = tenant_of(request)
    tenants.configure_clock(tenant, await json_body(request, required=True))
    return respond(tenant.clock.snapshot())


async def advance_clock(request: Request) -> Response:
    tenant = tenant_of(request)
    body = await json_body(request, required=True)
    to = None
    if "to" in body:
        try:
            to = parse_rfc3339(str(body["to"]))
        except ValueError as error:
            raise SandboxError(400, "to must be an RFC 3339 time") from error
    outbox = tenant.outbox
    fired = await tenants.advance_clock_settling(
        tenant,
        lambda: outbox.settle(tenant.id, timeout=tenant.policy.webhooks.timeout_seconds + 1),
        seconds=body.get("seconds"),
        to=to,
    )
    return respond({"now": to_rfc3339(tenant.clock.now()), "fired": fired})


routes = [
    Route("/_sandbox/tenants/{tenant}/clock", get_clock, methods=["GET"]),
    Route("/_sandbox/tenants/{tenant}/clock", set_clock, methods=["POST"]),
    Route("/_sandbox/tenants/{tenant}/clock/advance", advance_clock, methods=["POST"]),
]
