"""Meta's limits on a tenant's calls: throughput and pair rate on sends, hourly counters on management calls,
and the throughput level of each business number (docs/limits-and-faults.md)."""

from __future__ import annotations

import json
from datetime import timedelta
from functools import partial
from typing import Any

from sandbox.context import Tenant
from sandbox.domain.commands import SetThroughput
from sandbox.domain.errors import NotFound
from sandbox.domain.events import PhoneNumberQualityChanged
from sandbox.domain.limits import SlidingWindow, Usage, usage
from sandbox.domain.phone_number import PhoneNumber
from sandbox.errors import GraphError, GraphErrorCode
from sandbox.services import messaging_limits

# Edges of a phone number that belong to the messaging API (`whatsapp_business_messaging`), not management.
MESSAGING_EDGES = frozenset({"messages", "media"})
# Graph's business-use-case type for WhatsApp management calls (unverified: meta-messaging.md §5.3).
BUSINESS_USE_CASE = "whatsapp_business_management"


def messages_per_second(tenant: Tenant, phone: PhoneNumber) -> int:
    return tenant.policy.limits.throughput_mps[phone.throughput_class]


def check_send(tenant: Tenant, phone: PhoneNumber, wa_id: str) -> None:
    """Admit one outbound message or raise what Meta answers: 131057 while the number's throughput is being
    upgraded, 130429 when all the number's slots of the second are held, 131056 over the pair rate to `wa_id`.
    A rejected message uses up nothing."""
    now = tenant.clock.now()
    limits = tenant.limits
    if limits.in_maintenance(phone.id, now):
        raise GraphError(
            GraphErrorCode.ACCOUNT_IN_MAINTENANCE,
            "Business Account is in maintenance mode while its throughput is upgraded. Retry in a minute.",
        )
    policy = tenant.policy
    slots, mps = limits.number_slots(phone.id), messages_per_second(tenant, phone)
    if slots.count(now) >= mps:
        raise GraphError(GraphErrorCode.RATE_LIMIT_HIT)
    bucket = limits.pair_bucket(
        phone.id, wa_id, policy.limits.pair_rate_burst, policy.limits.pair_rate_refill_seconds, now
    )
    if not bucket.allows(now):
        raise GraphError(GraphErrorCode.PAIR_RATE_LIMIT_HIT)
    slots.take(now, mps, _catch_up(tenant))
    bucket.take(now)


def record_inbound(tenant: Tenant, phone: PhoneNumber) -> None:
    """META-TP: "throughput is inclusive of inbound and outbound messages" — an inbound message takes a free slot
    (it is never refused: with none free it uses nothing)."""
    if tenant.policy.limits.throughput_counts_inbound:
        slots = tenant.limits.number_slots(phone.id)
        slots.take(tenant.clock.now(), messages_per_second(tenant, phone), _catch_up(tenant))


def _catch_up(tenant: Tenant) -> timedelta:
    return timedelta(seconds=tenant.policy.limits.throughput_catch_up_seconds)


def is_management_call(kind: str, edge: str | None) -> bool:
    """Sends, mark-read, media and the download URL are the messaging API, governed by throughput instead."""
    return not (kind == "media" or (kind == "phone_number" and edge in MESSAGING_EDGES))


def _waba_limit(tenant: Tenant, waba_id: str) -> int:
    active = any(phone.waba_id == waba_id and phone.registered for phone in tenant.store.phone_numbers)
    return tenant.policy.limits.active_waba_calls_per_hour if active else tenant.policy.limits.waba_calls_per_hour


def management_call(tenant: Tenant, kind: str, node_id: str, edge: str | None) -> dict[str, str]:
    """Count one management call against the app's and (for a WABA's node and edges) the WABA's hourly limit,
    and return the usage headers; over a limit, raise 4 (app) or 80007 (WABA) carrying the same headers."""
    now = tenant.clock.now()
    limits = tenant.limits
    app = limits.hourly(limits.app_calls, tenant.credentials.app_id)
    app_limit = tenant.policy.limits.app_calls_per_hour
    waba: SlidingWindow | None = None
    waba_limit = 0
    if kind == "waba":
        waba = limits.hourly(limits.waba_calls, node_id)
        waba_limit = _waba_limit(tenant, node_id)
    if not app.allows(now, app_limit):
        raise throttled(GraphErrorCode.TOO_MANY_CALLS, _headers(tenant, node_id, app, app_limit, waba, waba_limit))
    if waba is not None and not waba.allows(now, waba_limit):
        raise throttled(GraphErrorCode.WABA_RATE_LIMIT, _headers(tenant, node_id, app, app_limit, waba, waba_limit))
    app.record(now)
    if waba is not None:
        waba.record(now)
    return _headers(tenant, node_id, app, app_limit, waba, waba_limit)


def throttled(code: GraphErrorCode, headers: dict[str, str] | None = None) -> GraphError:
    """4 is Graph's own throttling error (no `error_data`, `is_transient`); 80007 is a WhatsApp error."""
    if code == GraphErrorCode.TOO_MANY_CALLS:
        return GraphError(code, None, is_transient=True, headers=headers)
    return GraphError(code, headers=headers)


def exhausted_usage(code: GraphErrorCode, waba_id: str | None) -> dict[str, str]:
    """Usage headers of an injected throttling error: the counter that refused the call is full (regain time:
    the sandbox cannot know it, one minute is reported)."""
    full = {"call_count": 100, "total_cputime": 0, "total_time": 0}
    if code == GraphErrorCode.TOO_MANY_CALLS:
        return {"X-App-Usage": _compact(full)}
    if code == GraphErrorCode.WABA_RATE_LIMIT and waba_id is not None:
        entry = {"type": BUSINESS_USE_CASE, **full, "estimated_time_to_regain_access": 1}
        return {"X-Business-Use-Case-Usage": _compact({waba_id: [entry]})}
    return {}


def _headers(
    tenant: Tenant, node_id: str, app: SlidingWindow, app_limit: int, waba: SlidingWindow | None, waba_limit: int
) -> dict[str, str]:
    now = tenant.clock.now()
    headers = {"X-App-Usage": _compact(_usage_doc(usage(app, app_limit, now)))}
    if waba is not None:
        waba_usage = usage(waba, waba_limit, now)
        headers["X-Business-Use-Case-Usage"] = _compact(
            {
                node_id: [
                    {
                        "type": BUSINESS_USE_CASE,
                        **_usage_doc(waba_usage),
                        "estimated_time_to_regain_access": waba_usage.minutes_to_regain(now),
                    }
                ]
            }
        )
    return headers


def _usage_doc(counted: Usage) -> dict[str, int]:
    # Graph reports percentages of the limit; the sandbox spends no CPU time worth reporting.
    return {"call_count": counted.percent, "total_cputime": 0, "total_time": 0}


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def snapshot(tenant: Tenant) -> dict[str, Any]:
    """Every counter as it stands now (control plane `GET .../limits`)."""
    now = tenant.clock.now()
    policy = tenant.policy
    limits = tenant.limits
    numbers = []
    for phone in tenant.store.phone_numbers:
        mps = messages_per_second(tenant, phone)
        slots = limits.number_slots(phone.id)
        numbers.append(
            {
                "phone_number_id": phone.id,
                "throughput": {"level": phone.throughput_level},
                "is_on_biz_app": phone.is_on_biz_app,
                "messages_per_second": mps,
                "used_last_second": slots.count(now),
                "maintenance_until": limits.maintenance_until.get(phone.id),
            }
        )
    pairs = [
        {"phone_number_id": phone_id, "wa_id": wa_id, "tokens": round(bucket.tokens, 3), "free_at": bucket.free_at(now)}
        for (phone_id, wa_id), bucket in limits.pairs.items()
        if not bucket.is_full(now)
    ]
    app = usage(limits.hourly(limits.app_calls, tenant.credentials.app_id), policy.limits.app_calls_per_hour, now)
    wabas = [
        {"waba_id": waba.id, "calls_last_hour": counted.calls, "limit": counted.limit, "regain_at": counted.regain_at}
        for waba in tenant.store.wabas
        for counted in [usage(limits.hourly(limits.waba_calls, waba.id), _waba_limit(tenant, waba.id), now)]
    ]
    return {
        "phone_numbers": numbers,
        "pairs": pairs,
        "app": {
            "app_id": tenant.credentials.app_id,
            "calls_last_hour": app.calls,
            "limit": app.limit,
            "regain_at": app.regain_at,
        },
        "wabas": wabas,
    }


def phone_number(tenant: Tenant, phone_number_id: str) -> PhoneNumber:
    """The tenant's business number with this id; `NotFound` otherwise."""
    phone = tenant.store.phone_numbers.get(phone_number_id)
    if phone is None:
        raise NotFound(f"no phone number {phone_number_id} in this tenant")
    return phone


def set_throughput(tenant: Tenant, command: SetThroughput) -> dict[str, Any]:
    """Change a number's throughput level (control plane). An upgrade to `HIGH` with `maintenance_seconds`
    plays Meta's upgrade: 131057 on sends meanwhile, then the level and a `THROUGHPUT_UPGRADE` webhook."""
    phone = phone_number(tenant, command.phone_number_id)
    level = command.level or phone.throughput_level
    if command.is_on_biz_app is not None:
        phone.is_on_biz_app = command.is_on_biz_app
    upgrade = level == "HIGH" and phone.throughput_level != "HIGH"
    if upgrade and command.maintenance_seconds > 0:
        until = tenant.clock.now() + timedelta(seconds=command.maintenance_seconds)
        tenant.limits.maintenance_until[phone.id] = until
        tenant.clock.call_at(until, partial(_upgraded, tenant, phone))
    else:
        phone.throughput_level = level
        if upgrade:
            _upgraded(tenant, phone)
    tenant.clock.run_due()
    return throughput_document(tenant, phone)


def _upgraded(tenant: Tenant, phone: PhoneNumber) -> None:
    tenant.limits.maintenance_until.pop(phone.id, None)
    phone.throughput_level = "HIGH"
    event = PhoneNumberQualityChanged(
        tenant.clock.now(),
        phone=phone,
        event="THROUGHPUT_UPGRADE",
        max_daily_conversations_per_business=messaging_limits.phone_tier(tenant, phone),
    )
    tenant.publish([event])


def throughput_document(tenant: Tenant, phone: PhoneNumber) -> dict[str, Any]:
    return {
        "id": phone.id,
        "throughput": {"level": phone.throughput_level},
        "is_on_biz_app": phone.is_on_biz_app,
        "messages_per_second": messages_per_second(tenant, phone),
        "maintenance_until": tenant.limits.maintenance_until.get(phone.id),
    }
