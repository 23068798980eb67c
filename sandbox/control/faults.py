"""Fault injection: `POST|GET|DELETE /_sandbox/tenants/{tenant}/faults` (control-plane.md "Policy and faults")."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.control.common import SandboxError, json_body, respond, tenant_of
from sandbox.services import faults


async def create_fault(request: Request) -> Response:
    tenant = tenant_of(request)
    fault = faults.create_fault(tenant, await json_body(request, required=True))
    return respond(fault.snapshot(), 201)


async def list_faults(request: Request) -> Response:
    return respond({"data": [fault.snapshot() for fault in tenant_of(request).faults.faults.values()]})


async def get_fault(request: Request) -> Response:
    fault = tenant_of(request).faults.faults.get(request.path_params["fault_id"])
    if fault is None:
        raise SandboxError(404, f"no fault {request.path_params['fault_id']!r}")
    return respond(fault.snapshot())


async def delete_fault(request: Request) -> Response:
    if tenant_of(request).faults.remove(request.path_params["fault_id"]) is None:
        raise SandboxError(404, f"no fault {request.path_params['fault_id']!r}")
    return respond({"success": True})


async def delete_faults(request: Request) -> Response:
    return respond({"success": True, "removed": tenant_of(request).faults.clear()})


routes = [
    Route("/_sandbox/tenants/{tenant}/faults", create_fault, methods=["POST"]),
    Route("/_sandbox/tenants/{tenant}/faults", list_faults, methods=["GET"]),
    Route("/_sandbox/tenants/{tenant}/faults", delete_faults, methods=["DELETE"]),
    Route("/_sandbox/tenants/{tenant}/faults/{fault_id}", get_fault, methods=["GET"]),
    Route("/_sandbox/tenants/{tenant}/faults/{fault_id}", delete_fault, methods=["DELETE"]),
]
