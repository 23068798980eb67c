"""The app dashboard: webhook callback settings."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.control.common import SandboxError, json_body, respond, tenant_of
from sandbox.services import webhook_settings


async def put_webhook(request: Request) -> Response:
    tenant = tenant_of(request)
    body = await json_body(request, required=True)
    url, token = body.get("url"), body.get("verify_token")
    if url is not None and not isinstance(url, str):
        raise SandboxError(400, "url must be a string (or null to remove the callback)")
    if token is not None and not isinstance(token, str):
        raise SandboxError(400, "verify_token must be a string")
    verify = body.get("verify", True)
    if not isinstance(verify, bool):
        raise SandboxError(400, "verify must be a boolean")
    settings = await webhook_settings.configure_webhook(tenant, request.app.state.transport, url, token, verify=verify)
    return respond(settings.snapshot())


async def get_webhook(request: Request) -> Response:
    return respond(tenant_of(request).webhook.snapshot())


routes = [
    Route("/_sandbox/tenants/{tenant}/webhook", put_webhook, methods=["PUT"]),
    Route("/_sandbox/tenants/{tenant}/webhook", get_webhook, methods=["GET"]),
]
