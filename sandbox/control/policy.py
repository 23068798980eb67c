"""`GET|PATCH /_sandbox/tenants/{tenant}/policy`: every knob of the tenant's simulated behaviour."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.control.common import SandboxError, json_body, respond, tenant_of


async def get_policy(request: Request) -> Response:
    return respond(tenant_of(request).policy.snapshot())


async def patch_policy(request: Request) -> Response:
    tenant = tenant_of(request)
    try:
        tenant.policy.patch(await json_body(request, required=True))
    except ValueError as error:
        raise SandboxError(400, str(error)) from error
    tenant.store.requests.resize(tenant.policy.journal_requests)
    tenant.store.messages.max_size = tenant.policy.journal_messages
    return respond(tenant.policy.snapshot())


routes = [
    Route("/_sandbox/tenants/{tenant}/policy", get_policy, methods=["GET"]),
    Route("/_sandbox/tenants/{tenant}/policy", patch_policy, methods=["PATCH"]),
]
