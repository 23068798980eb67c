"""Pricing on the send path and charging at delivery: the era, CBP conversations, the ledger (docs/pricing.md).

`price_send` fixes a message's `pricing` when it is accepted (its `sent` webhook carries it); `delivered` charges
it at its first `delivered` (or `read`, which implies delivery) into the tenant's ledger. A failed message is
never delivered, so never charged; a refused send (a paused template, 132015) never reaches pricing at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sandbox.context import Tenant
from sandbox.domain.conversation import new_pricing
from sandbox.domain.errors import Invalid
from sandbox.domain.message import Message, Pricing
from sandbox.domain.phone_number import PhoneNumber
from sandbox.domain.pricing import Era, cbp_price, charge_of, era, pmp_entry_point

VIEWS = ("usd", "credits")


def price_send(
    tenant: Tenant,
    phone: PhoneNumber,
    wa_id: str,
    message_type: str,
    template_category: str | None,
    window_open: bool,
    now: datetime,
) -> Pricing:
    """The `pricing` of a message accepted now, by the era of `pricing.model` (O(1), amortised under CBP)."""
    policy = tenant.policy.pricing
    current = era(policy.model, now)
    if current is Era.PMP:
        entry = pmp_entry_point(
            tenant.store.open_conversations,
            phone_number_id=phone.id,
            waba_id=phone.waba_id,
            wa_id=wa_id,
            now=now,
            new_id=tenant.ids.conversation_id,
        )
        if entry is not None:
            return entry
        return new_pricing(message_type, template_category, window_open, tenant.ids.conversation_id(), now)
    return cbp_price(
        tenant.store.open_conversations,
        current,
        phone_number_id=phone.id,
        waba_id=phone.waba_id,
        wa_id=wa_id,
        message_type=message_type,
        template_category=template_category,
        window_open=window_open,
        now=now,
        new_id=tenant.ids.conversation_id,
        free_tier=policy.free_tier_conversations,
    )


def customer_wrote(tenant: Tenant, phone_number_id: str, wa_id: str, content: Any, at: datetime) -> None:
    """An inbound message carrying a `referral` (Click-to-WhatsApp ad, Page call to action) makes the business's
    reply within 24 h open a free entry point (72 h)."""
    if isinstance(content, dict) and "referral" in content:
        tenant.store.open_conversations.referred(phone_number_id, wa_id, at)


def delivered(tenant: Tenant, message: Message) -> None:
    """Charge `message` (or its CBP conversation, once) at its first delivery; later calls change nothing."""
    pricing = message.pricing
    if pricing is None or pricing.charged:
        return
    charge = charge_of(
        pricing,
        wamid=message.wamid,
        phone_number_id=message.phone_number_id,
        wa_id=message.wa_id,
        at=tenant.clock.now(),
    )
    if charge is not None:
        tenant.store.ledger.record(charge)


def view_of(view: str | None) -> str:
    if view is None:
        return "usd"
    if view not in VIEWS:
        raise Invalid(f"view must be one of {', '.join(VIEWS)}; got {view!r}")
    return view


def ledger_document(tenant: Tenant, *, view: str = "usd", limit: int = 100) -> dict[str, Any]:
    """The ledger's totals and newest entries; `view="credits"` shows provider credits (SEED-MSG-4) instead of USD."""
    credit_usd = tenant.policy.pricing.credit_usd if view_of(view) == "credits" else None
    document = tenant.store.ledger.document(limit=limit, credit_usd=credit_usd)
    document["open_conversations"] = tenant.store.open_conversations.open_count()
    return document
