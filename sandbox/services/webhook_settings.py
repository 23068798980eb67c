"""The app dashboard's webhook settings: Meta's verification handshake before a callback URL is saved."""

from __future__ import annotations

from urllib.parse import urlsplit

from sandbox.context import Tenant, WebhookSettings
from sandbox.errors import SandboxError
from sandbox.webhooks.transport import WebhookTransport


async def verify_callback(tenant: Tenant, transport: WebhookTransport, url: str, verify_token: str) -> None:
    """`GET url?hub.mode=subscribe&hub.challenge=…&hub.verify_token=…`; the receiver must echo the challenge."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SandboxError(400, "url must be an absolute http(s) URL")
    challenge = str(tenant.behaviour.randrange(10**9, 10**10))
    params = {"hub.mode": "subscribe", "hub.challenge": challenge, "hub.verify_token": verify_token}
    try:
        answer = await transport.get(url, params, tenant.policy.webhooks.timeout_seconds)
    except Exception as error:
        raise SandboxError(400, f"verification GET to {url} failed: {type(error).__name__}: {error}") from error
    if answer.status != 200 or answer.body.strip() != challenge:
        raise SandboxError(
            400,
            f"verification failed: expected HTTP 200 with body {challenge!r}, got HTTP {answer.status} with body "
            f"{answer.body[:200]!r}",
        )


async def configure_webhook(
    tenant: Tenant, transport: WebhookTransport, url: str | None, verify_token: str | None, *, verify: bool = True
) -> WebhookSettings:
    token = verify_token if verify_token is not None else tenant.webhook.verify_token
    if url is not None and verify:
        await verify_callback(tenant, transport, url, token)
    tenant.webhook = WebhookSettings(url=url, verify_token=token)
    return tenant.webhook
