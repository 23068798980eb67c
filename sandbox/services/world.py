"""A full snapshot of a tenant's world, for debugging and assertions (`GET /_sandbox/tenants/{tenant}/state`)."""

from __future__ import annotations

from typing import Any

from sandbox.clock import to_rfc3339
from sandbox.context import Tenant
from sandbox.domain.connection_status import LABELS, connection_status
from sandbox.domain.template import state_fields
from sandbox.services import messaging_limits
from sandbox.services.decisions import pending_decisions
from sandbox.services.phone_numbers import channel_eligibility
from sandbox.services.pricing import ledger_document


def snapshot(tenant: Tenant, *, message_limit: int = 1000) -> dict[str, Any]:
    store = tenant.store
    now = tenant.clock.now()
    return {
        "tenant": tenant.document(),
        "policy": tenant.policy.snapshot(),
        "businesses": [b.graph_fields() for b in store.businesses],
        "wabas": [
            w.graph_fields(store.businesses.get(w.business_id)) | {"account_mode": w.account_mode} for w in store.wabas
        ],
        "phone_numbers": [
            p.graph_fields(tenant.webhook.url, messaging_limit=messaging_limits.phone_tier(tenant, p))
            for p in store.phone_numbers
        ],
        "channel_eligibility": channel_eligibility(tenant),
        "templates": [state_fields(t) for t in store.templates],
        "customers": [c.snapshot() for c in store.customers],
        "windows": [
            {
                "phone_number_id": phone_number_id,
                "wa_id": wa_id,
                "last_inbound_at": to_rfc3339(last),
                "closes_at": to_rfc3339(last + store.windows.length),
                "open": now < last + store.windows.length,
            }
            for (phone_number_id, wa_id), last in store.windows.last_inbound.items()
        ],
        "trial": store.trial.snapshot() if store.trial else None,
        "provider": provider_view(tenant),
        "messaging_limit": messaging_limits.document(tenant) if tenant.business_id in store.businesses else None,
        "ledger": ledger_document(tenant, limit=100),
        "messages": [m.snapshot() for m in store.messages.newest(message_limit)],
        "message_count": len(store.messages),
        "reviews": [pending.document() for pending in pending_decisions(tenant)],
        "incidents": store.incidents.newest(100),
        "media": [{"id": m.id, "mime_type": m.mime_type, "file_size": m.file_size} for m in store.media],
    }


def provider_view(tenant: Tenant) -> dict[str, Any]:
    """What a Solution Provider displays for this business (SEED-VERIFY-4), computed from the machines on every
    read."""
    store = tenant.store
    business = store.businesses.get(tenant.business_id)
    wabas = [waba for waba in store.wabas if waba.business_id == tenant.business_id]
    waba_ids = {waba.id for waba in wabas}
    numbers = [phone for phone in store.phone_numbers if phone.waba_id in waba_ids]
    status = connection_status(
        business.verification_status if business is not None else "not_verified",
        [waba.account_review_status for waba in wabas],
        any_number_registered=any(phone.registered for phone in numbers),
        registration_failed=any(phone.registration_failed for phone in numbers),
    )
    return {"connection_status": status.value, "label": LABELS[status]}
