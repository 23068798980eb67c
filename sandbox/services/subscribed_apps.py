"""Webhook wiring on the Graph surface: apps subscribed to a WABA, and callback overrides at WABA and number level.

Every override is verified first with Meta's GET (`hub.mode=subscribe`, `hub.challenge`, `hub.verify_token`)
through the app's webhook transport; a receiver that does not echo the challenge gets Graph's 2200.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sandbox.context import Tenant
from sandbox.domain.phone_number import PhoneNumber
from sandbox.domain.waba import SubscribedApp, WhatsAppBusinessAccount
from sandbox.errors import GraphError, GraphErrorCode, invalid_parameter
from sandbox.webhooks import dispatch
from sandbox.webhooks.outbox import Delivery
from sandbox.webhooks.transport import WebhookTransport

MAX_URI_LENGTH = 200


def _verification_failed(reason: str) -> GraphError:
    return GraphError(
        GraphErrorCode.CALLBACK_VERIFICATION_FAILED,
        None,
        message=f"(#2200) Callback verification failed with the following errors: {reason}",
    )


async def verify_override(tenant: Tenant, transport: WebhookTransport, url: str, verify_token: str) -> None:
    try:
        parts = urlsplit(url)
    except ValueError:  # an unclosed IPv6 bracket, a port out of range
        raise invalid_parameter("override_callback_uri must be an absolute https URL") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise invalid_parameter("override_callback_uri must be an absolute https URL")
    if len(url) > MAX_URI_LENGTH:
        raise invalid_parameter(f"override_callback_uri must be at most {MAX_URI_LENGTH} characters")
    challenge = str(tenant.behaviour.randrange(10**9, 10**10))
    params = {"hub.mode": "subscribe", "hub.challenge": challenge, "hub.verify_token": verify_token}
    try:
        answer = await transport.get(url, params, tenant.policy.webhooks.timeout_seconds)
    except TimeoutError as error:
        raise _verification_failed("curl_errno = 28; curl_error = Operation timed out") from error
    except Exception as error:  # any failure to reach the receiver fails the handshake
        raise _verification_failed(f"curl_errno = 7; curl_error = Couldn't connect to server ({error})") from error
    if answer.status != 200:
        raise _verification_failed(f"HTTP Status Code = {answer.status}; HTTP Message = {answer.body[:100]}")
    if answer.body.strip() != challenge:
        raise _verification_failed(
            f'The URL couldn\'t be validated. Response does not match challenge, expected value="{challenge}", '
            f'received="{answer.body.strip()[:100]}"'
        )


def _override_arguments(body: dict[str, Any]) -> tuple[str | None, str | None]:
    uri, token = body.get("override_callback_uri"), body.get("verify_token")
    if uri is not None and not isinstance(uri, str):
        raise invalid_parameter("override_callback_uri must be a string")
    if token is not None and not isinstance(token, str):
        raise invalid_parameter("verify_token must be a string")
    return uri, token


async def subscribe(
    tenant: Tenant,
    transport: WebhookTransport,
    waba: WhatsAppBusinessAccount,
    body: dict[str, Any],
    app_id: str | None = None,
) -> None:
    """`POST /{waba-id}/subscribed_apps`: subscribe the app; with `override_callback_uri` + `verify_token`, set the
    WABA-level override after verifying it; without a body, remove the override (as pywa does). `app_id` is the
    calling app (None: the tenant's own)."""
    uri, token = _override_arguments(body)
    if uri:
        if token is None:
            raise invalid_parameter("The parameter verify_token is required with override_callback_uri")
        await verify_override(tenant, transport, uri, token)
    app_id = app_id or tenant.credentials.app_id
    subscription = waba.subscription(app_id)
    if subscription is None:
        partner = tenant.partners.get(app_id)
        subscription = SubscribedApp(app_id, name=partner.name if partner is not None else f"{tenant.name} app")
        waba.subscribed_apps.append(subscription)
    subscription.override_callback_uri = uri or None


def unsubscribe(tenant: Tenant, waba: WhatsAppBusinessAccount, app_id: str | None = None) -> None:
    """`DELETE /{waba-id}/subscribed_apps`: no more webhooks about this WABA reach the app."""
    app_id = app_id or tenant.credentials.app_id
    waba.subscribed_apps = [app for app in waba.subscribed_apps if app.app_id != app_id]


def subscribed_apps(waba: WhatsAppBusinessAccount) -> list[dict[str, Any]]:
    return [app.graph_fields() for app in waba.subscribed_apps]


async def configure_phone_webhook(
    tenant: Tenant, transport: WebhookTransport, phone: PhoneNumber, configuration: Any
) -> None:
    """`POST /{phone-number-id}` with `webhook_configuration`: the number-level override (`""` removes it)."""
    if not isinstance(configuration, dict):
        raise invalid_parameter("webhook_configuration must be an object with override_callback_uri and verify_token")
    uri, token = _override_arguments(configuration)
    if uri is None:
        raise invalid_parameter("The parameter webhook_configuration.override_callback_uri is required")
    if uri == "":
        phone.webhook_override = None
        return
    if token is None:
        raise invalid_parameter("The parameter webhook_configuration.verify_token is required")
    await verify_override(tenant, transport, uri, token)
    phone.webhook_override = uri


def waba_override(tenant: Tenant, waba_id: str, app_id: str | None = None) -> str | None:
    waba = tenant.store.wabas.get(waba_id)
    subscription = waba.subscription(app_id or tenant.credentials.app_id) if waba is not None else None
    return subscription.override_callback_uri if subscription is not None else None


def redeliver(tenant: Tenant, delivery: Delivery) -> Delivery | None:
    return dispatch.redeliver(tenant, delivery)
