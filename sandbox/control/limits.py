"""Meta's limits as the control plane sees them: the counters, and a number's throughput level."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.control.common import SandboxError, json_body, respond, tenant_of
from sandbox.services import limits


async def get_limits(request: Request) -> Response:
    return respond(limits.snapshot(tenant_of(request)))


async def get_throughput(request: Request) -> Response:
    tenant = tenant_of(request)
    phone = tenant.store.phone_numbers.get(request.path_params["phone_number_id"])
    if phone is None:
        raise SandboxError(404, f"no phone number {request.path_params['phone_number_id']} in this tenant")
    return respond(limits.throughput_document(tenant, phone))


async def put_throughput(request: Request) -> Response:
    tenant = tenant_of(request)
    body = await json_body(request, required=True)
    return respond(limits.set_throughput(tenant, request.path_params["phone_number_id"], body))


routes = [
    Route("/_sandbox/tenants/{tenant}/limits", get_limits, methods=["GET"]),
    Route("/_sandbox/tenants/{tenant}/phone_numbers/{phone_number_id}/throughput", get_throughput, methods=["GET"]),
    Route("/_sandbox/tenants/{tenant}/phone_numbers/{phone_number_id}/throughput", put_throughput, methods=["PUT"]),
]
