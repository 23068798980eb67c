"""Several parties in one tenant (issue 14): partner apps beside the tenant's own, embedded sign-up creating a WABA
for one of them (`account_update` PARTNER_ADDED and PARTNER_APP_INSTALLED, meta-lifecycle.md §3.4, §5.2), and what
the old provider does before a migration: turn two-step verification off (SEED-MIGRATE-2)."""

from __future__ import annotations

from typing import Any

from sandbox.context import Sandbox, Tenant
from sandbox.domain.business import Business, BusinessVerificationStatus
from sandbox.domain.errors import Conflict, Invalid, NotFound
from sandbox.domain.events import AccountUpdated, PhoneNumberSecurityEvent
from sandbox.domain.partner_app import MAX_PARTNER_APPS, PartnerApp
from sandbox.domain.phone_number import PhoneNumber
from sandbox.domain.waba import SubscribedApp, WhatsAppBusinessAccount
from sandbox.services.webhook_settings import verify_callback
from sandbox.webhooks.transport import WebhookTransport

# A tenant cannot grow its WABAs or businesses without limit.
MAX_WABAS = 100
MAX_BUSINESSES = 20


async def add_verified_app(
    sandbox: Sandbox,
    tenant: Tenant,
    name: str | None,
    webhook: str | None,
    verify_token: str | None,
    transport: WebhookTransport | None,
) -> PartnerApp:
    """`add_app`; with a `transport`, the callback is kept only once it has answered Meta's verification handshake
    (as on the app dashboard, and as the tenant's own callback is). Nothing is created when it fails."""
    if len(tenant.partners) >= MAX_PARTNER_APPS:
        raise Conflict(f"a tenant has at most {MAX_PARTNER_APPS} partner apps")
    if webhook is not None and transport is not None:
        # The receiver must know the token it is asked to echo: the caller's, or one made now and kept.
        verify_token = verify_token or (tenant.credential_ids or tenant.ids).token(16)
        await verify_callback(tenant, transport, webhook, verify_token)
    return add_app(sandbox, tenant, name, webhook, verify_token)


def add_app(
    sandbox: Sandbox, tenant: Tenant, name: str | None, webhook: str | None, verify_token: str | None = None
) -> PartnerApp:
    """`POST /_sandbox/tenants/{tenant}/apps`: a partner app with its own token, secret and callback."""
    if len(tenant.partners) >= MAX_PARTNER_APPS:
        raise Conflict(f"a tenant has at most {MAX_PARTNER_APPS} partner apps")
    # Secrets from where the tenant's own came from (`secrets` off loopback), ids from the world's stream.
    credentials = tenant.credential_ids or tenant.ids
    verify_token = verify_token or credentials.token(16)
    app = PartnerApp(
        id=tenant.ids.node_id(),
        name=name or f"Partner app {len(tenant.partners) + 1}",
        secret=credentials.app_secret(),
        access_token=credentials.access_token(),
        verify_token=verify_token,
        webhook_url=webhook,
    )
    tenant.partners[app.id] = app
    sandbox.grant_app(tenant.id, app)
    return app


def _business(tenant: Tenant, business_id: str | None) -> Business:
    if business_id is None:
        found = tenant.store.businesses.get(tenant.business_id)
        assert found is not None
        return found
    found = tenant.store.businesses.get(business_id)
    if found is not None:
        return found
    # An unknown id is another business portfolio of the same owner (a different Business Manager, SEED-MIGRATE-3).
    if not (business_id.isascii() and business_id.isdigit() and len(business_id) <= 20):
        raise Invalid("business_id must be the digits of a business id (at most 20)")
    if len(tenant.store.businesses) >= MAX_BUSINESSES:
        raise Conflict(f"a tenant has at most {MAX_BUSINESSES} businesses")
    business = Business(business_id, f"{tenant.fake.company()} (portfolio {business_id})")
    business.verification_status = BusinessVerificationStatus.VERIFIED.value
    return tenant.store.businesses.add(business.id, business)


def add_waba(
    tenant: Tenant,
    business_id: str | None,
    name: str | None,
    partner: str | None,
    payment_method: bool = True,
) -> WhatsAppBusinessAccount:
    """`POST /_sandbox/tenants/{tenant}/wabas`: a new WABA in the business, as embedded sign-up creates one,
    granted to `partner` (an app id of the tenant; None: the tenant's own app). A partner's WABA is announced to
    it with `account_update` PARTNER_ADDED then PARTNER_APP_INSTALLED. The sandbox subscribes the granted app at
    sign-up, so those reach it (docs/fidelity-choices.md); `DELETE /{waba-id}/subscribed_apps` undoes it."""
    app = None
    if partner is not None and partner != tenant.credentials.app_id:
        app = tenant.partners.get(partner)
        if app is None:
            raise NotFound(f"no app {partner!r} in this tenant (POST /_sandbox/tenants/{{tenant}}/apps adds one)")
    if len(tenant.store.wabas) >= MAX_WABAS:
        raise Conflict(f"a tenant has at most {MAX_WABAS} WhatsApp Business Accounts")
    business = _business(tenant, business_id)
    waba = WhatsAppBusinessAccount(
        tenant.ids.node_id(),
        name or f"{business.name} WhatsApp {len(tenant.store.wabas) + 1}",
        business.id,
        message_template_namespace=tenant.ids.token(8).lower() + "_" + tenant.ids.token(8).lower(),
        payment_method=payment_method,
    )
    tenant.store.wabas.add(waba.id, waba)
    if app is None:
        waba.subscribed_apps.append(SubscribedApp(tenant.credentials.app_id, name=f"{tenant.name} app"))
        return waba
    app.wabas.add(waba.id)
    waba.subscribed_apps.append(SubscribedApp(app.id, name=app.name))
    now = tenant.clock.now()
    info: dict[str, Any] = {
        "waba_id": waba.id,
        "owner_business_id": business.id,
        "solution_id": app.id,
        "solution_partner_business_ids": [business.id],
    }
    tenant.publish(
        [
            AccountUpdated(now, waba_id=waba.id, event="PARTNER_ADDED", waba_info=info),
            AccountUpdated(
                now,
                waba_id=waba.id,
                event="PARTNER_APP_INSTALLED",
                waba_info={"waba_id": waba.id, "owner_business_id": business.id, "partner_app_id": app.id},
            ),
        ]
    )
    return waba


def set_payment_method(tenant: Tenant, waba_id: str, attached: bool) -> WhatsAppBusinessAccount:
    waba = tenant.store.wabas.get(waba_id)
    if waba is None:
        raise NotFound(f"no WhatsApp Business Account {waba_id!r} in this tenant")
    waba.payment_method = attached
    return waba


def set_two_step(tenant: Tenant, phone_number_id: str, enabled: bool) -> PhoneNumber:
    """`POST /_sandbox/tenants/{tenant}/phone_numbers/{id}/two_step`: the WABA owner (the old provider) turns
    two-step verification off (or back on with the PIN the number had); a `security` webhook tells the WABA's apps."""
    phone = tenant.store.phone_numbers.get(phone_number_id)
    if phone is None:
        raise NotFound(f"no phone number {phone_number_id!r} in this tenant")
    if enabled and phone.pin is None:
        raise Conflict("the number has no PIN: set one with POST /{phone-number-id} pin=... first")
    if phone.is_pin_enabled == enabled:
        return phone
    phone.is_pin_enabled = enabled
    if not enabled:
        phone.pin = None
    tenant.publish([PhoneNumberSecurityEvent(tenant.clock.now(), phone, "PIN_CHANGED")])
    return phone


def document(tenant: Tenant, waba: WhatsAppBusinessAccount) -> dict[str, Any]:
    owner = tenant.partner_of(waba.id)
    return waba.graph_fields(tenant.store.businesses.get(waba.business_id)) | {
        "partner": owner.id if owner is not None else tenant.credentials.app_id,
        "payment_method": waba.payment_method,
        "subscribed_apps": [app.app_id for app in waba.subscribed_apps],
    }
