"""The app dashboard: webhook callback settings."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from sandbox.control.common import json_body, respond, tenant_of
from sandbox.control.parse import Fields
from sandbox.control.routing import ControlRoute as Route
from sandbox.domain.commands import ConfigureWebhook
from sandbox.domain.errors import Invalid
from sandbox.services import webhook_settings

# Browsers and proxies stop at about 2,000 characters of URL; a verify token is a short shared secret.
URL_LENGTH = 2048
TOKEN_LENGTH = 256


def parse_configure_webhook(body: Fields) -> ConfigureWebhook:
    url = body.text("url", max_length=URL_LENGTH, min_length=0, what="a string (or null to remove the callback)")
    verify = body.flag("verify", default=True)
    if url is not None and verify:
        # The handshake needs somewhere to send its GET; without it any string is kept, as the dashboard does.
        try:
            parts = urlsplit(url)
        except ValueError:  # an unclosed IPv6 bracket, a port out of range
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise Invalid("url must be an absolute http(s) URL")
    return ConfigureWebhook(
        url=url, verify_token=body.text("verify_token", max_length=TOKEN_LENGTH, min_length=0), verify=bool(verify)
    )


async def put_webhook(request: Request) -> Response:
    tenant = tenant_of(request)
    command = parse_configure_webhook(Fields(await json_body(request, required=True)))
    settings = await webhook_settings.configure_webhook(tenant, request.app.state.transport, command)
    return respond(settings.snapshot())


async def get_webhook(request: Request) -> Response:
    return respond(tenant_of(request).webhook.snapshot())


routes = [
    Route(
        "/_sandbox/tenants/{tenant}/webhook",
        put_webhook,
        methods=["PUT"],
        body=parse_configure_webhook,
        body_required=True,
        answer="Webhook",
    ),
    Route("/_sandbox/tenants/{tenant}/webhook", get_webhook, methods=["GET"], answer="Webhook"),
]
