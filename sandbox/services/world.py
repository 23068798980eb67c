"""A full snapshot of a tenant's world, for debugging and assertions (`GET /_sandbox/tenants/{tenant}/state`)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any, TypeVar

from sandbox.clock import to_rfc3339
from sandbox.context import Tenant
from sandbox.domain.connection_status import LABELS, connection_status
from sandbox.domain.template import state_fields
from sandbox.services import messaging_limits
from sandbox.services.decisions import pending_decisions
from sandbox.services.phone_numbers import channel_eligibility
from sandbox.services.pricing import ledger_document

T = TypeVar("T")


# Every list in the state document shows at most this many rows; `pages` gives each list's total.
STATE_LIST_LIMIT = 100


def snapshot(tenant: Tenant, *, limit: int = STATE_LIST_LIMIT) -> dict[str, Any]:
    """The tenant's world with every list bounded by `limit` and `pages[name] = {"total", "shown"}` beside it: a
    tenant that reached a million people still gets a document of a few hundred kilobytes."""
    store = tenant.store
    now = tenant.clock.now()
    length = store.windows.length
    windows = itertools.islice(reversed(store.windows.last_inbound.items()), limit)
    pending = pending_decisions(tenant)
    lists: dict[str, tuple[list[dict[str, Any]], int]] = {
        "businesses": ([b.graph_fields() for b in _first(store.businesses, limit)], len(store.businesses)),
        "wabas": (
            [
                w.graph_fields(store.businesses.get(w.business_id)) | {"account_mode": w.account_mode}
                for w in _first(store.wabas, limit)
            ],
            len(store.wabas),
        ),
        "phone_numbers": (
            [
                p.graph_fields(tenant.webhook.url, messaging_limit=messaging_limits.phone_tier(tenant, p))
                for p in _first(store.phone_numbers, limit)
            ],
            len(store.phone_numbers),
        ),
        "templates": ([state_fields(t) for t in _first(store.templates, limit)], len(store.templates)),
        # In `wa_id` order, as `GET .../customers` pages them, so its `after` cursor continues this list.
        "customers": ([c.snapshot() for c in store.customers.page(limit)], len(store.customers)),
        # Newest first: the windows most recently opened or reset.
        "windows": (
            [
                {
                    "phone_number_id": phone_number_id,
                    "wa_id": wa_id,
                    "last_inbound_at": to_rfc3339(last),
                    "closes_at": to_rfc3339(last + length),
                    "open": now < last + length,
                }
                for (phone_number_id, wa_id), last in windows
            ],
            len(store.windows.last_inbound),
        ),
        "messages": ([m.snapshot() for m in store.messages.newest(limit)], len(store.messages)),
        "reviews": ([decision.document() for decision in pending[:limit]], len(pending)),
        "incidents": (store.incidents.newest(limit), len(store.incidents)),
        "media": (
            [{"id": m.id, "mime_type": m.mime_type, "file_size": m.file_size} for m in _first(store.media, limit)],
            len(store.media),
        ),
    }
    document: dict[str, Any] = {
        "tenant": tenant.document(),
        "policy": tenant.policy.snapshot(),
        "channel_eligibility": channel_eligibility(tenant),
        "trial": store.trial.snapshot() if store.trial else None,
        "provider": provider_view(tenant),
        "messaging_limit": messaging_limits.document(tenant) if tenant.business_id in store.businesses else None,
        "ledger": ledger_document(tenant, limit=limit),
        "message_count": len(store.messages),
    }
    document |= {name: rows for name, (rows, _) in lists.items()}
    document["pages"] = {name: {"total": total, "shown": len(rows)} for name, (rows, total) in lists.items()}
    return document


def _first(rows: Iterable[T], limit: int) -> list[T]:
    return list(itertools.islice(rows, limit))


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
