"""The app dashboard's webhook settings: Meta's verification handshake before a callback URL is saved."""

from __future__ import annotations

from sandbox.context import Tenant, WebhookSettings
from sandbox.domain.commands import ConfigureWebhook
from sandbox.domain.errors import Invalid
from sandbox.webhooks.transport import WebhookTransport


async def verify_callback(tenant: Tenant, transport: WebhookTransport, url: str, verify_token: str) -> None:
    """`GET url?hub.mode=subscribe&hub.challenge=…&hub.verify_token=…`; the receiver must echo the challenge."""
    challenge = str(tenant.behaviour.randrange(10**9, 10**10))
    params = {"hub.mode": "subscribe", "hub.challenge": challenge, "hub.verify_token": verify_token}
    try:
        answer = await transport.get(url, params, tenant.policy.webhooks.timeout_seconds)
    except Exception as error:
        raise Invalid(f"verification GET to {url} failed: {type(error).__name__}: {error}") from error
    if answer.status != 200 or answer.body.strip() != challenge:
        raise Invalid(
            f"verification failed: expected HTTP 200 with body {challenge!r}, got HTTP {answer.status} with body "
            f"{answer.body[:200]!r}"
        )


async def configure_webhook(tenant: Tenant, transport: WebhookTransport, command: ConfigureWebhook) -> WebhookSettings:
    """Save the callback settings; with `verify`, only once the receiver has answered Meta's handshake."""
    token = command.verify_token if command.verify_token is not None else tenant.webhook.verify_token
    if command.url is not None and command.verify:
        await verify_callback(tenant, transport, command.url, token)
    tenant.webhook = WebhookSettings(url=command.url, verify_token=token)
    return tenant.webhook
