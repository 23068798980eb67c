"""The portfolio's messaging limit as a service: what counts, the review of a scaling path, automatic scaling."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from sandbox.context import Sandbox, Tenant
from sandbox.domain.commands import (
    ConfigureClock,
    CreateTenant,
    ForceDecision,
    ReceiveMessage,
    SendMessage,
    SetMessagingLimitTier,
)
from sandbox.domain.errors import Invalid
from sandbox.domain.message import Message
from sandbox.services import decisions, messaging, messaging_limits
from sandbox.services.customers import customer_for
from sandbox.services.tenants import create_tenant
from sandbox.settings import Settings

TEMPLATE = {"name": "hello_world", "language": {"code": "en_US"}}
HOUR = 3600.0


def tenant_at(tier: str, profile: str = "live", **knobs: Any) -> Tenant:
    tenant = create_tenant(
        Sandbox(Settings(seed=11)), CreateTenant(name="t", profile=profile, clock=ConfigureClock(mode="frozen"))
    )
    tenant.policy.patch(
        {
            "messages": {"progression": "immediate"},
            "limits": {"throughput_mps": {"STANDARD": 100_000}, "pair_rate_burst": 1_000_000},
            "trial_enabled": False,
            "messaging_limits": knobs,
        }
    )
    messaging_limits.set_tier(tenant, SetMessagingLimitTier(tier))
    return tenant


def phone_id(tenant: Tenant) -> str:
    return tenant.document()["phone_number_id"]


def template(tenant: Tenant, wa_id: str) -> Message:
    return messaging.send_message(tenant, SendMessage(phone_id(tenant), wa_id, "template", TEMPLATE))


def text(tenant: Tenant, wa_id: str) -> Message:
    return messaging.send_message(tenant, SendMessage(phone_id(tenant), wa_id, "text", {"body": "Thanks!"}))


def writes(tenant: Tenant, wa_id: str) -> None:
    messaging.receive_message(tenant, ReceiveMessage(wa_id, "text", {"body": "Hi"}, phone_id(tenant)))


def failure_code(message: Message) -> int | None:
    return int(message.failure[0]) if message.failure else None


def values(tenant: Tenant, field: str) -> list[dict[str, Any]]:
    return [
        json.loads(d.body)["entry"][0]["changes"][0]["value"] for d in tenant.outbox.log(tenant.id) if d.field == field
    ]


def tier(tenant: Tenant) -> str:
    return messaging_limits.document(tenant)["tier"]


def user(n: int) -> str:
    return f"1555700{n:04d}"


def test_templates_outside_windows_count_once_per_user_and_the_next_one_fails_131048() -> None:
    tenant = tenant_at("TIER_250", tier_sizes={"TIER_250": 3})
    for n in [1, 2, 3, 1, 2]:
        assert failure_code(template(tenant, user(n))) is None
    over = template(tenant, user(4))
    assert over.status == "failed" and failure_code(over) == 131048
    assert "messaging limit (TIER_250: 3 unique users" in over.failure[1]  # type: ignore[index]
    document = messaging_limits.document(tenant)
    assert (document["unique_users_24h"], document["refused"], document["limit"]) == (3, 1, 3)
    tenant.clock.advance(24 * HOUR)
    assert failure_code(template(tenant, user(4))) is None, "the moving 24 h have let the first three go"


def test_replies_inside_a_window_and_failed_messages_never_count() -> None:
    tenant = tenant_at("TIER_250", tier_sizes={"TIER_250": 1})
    writes(tenant, user(1))
    assert failure_code(template(tenant, user(1))) is None, "a template inside the window is no business-initiated"
    assert failure_code(text(tenant, user(1))) is None
    assert failure_code(text(tenant, user(2))) == 131047, "free-form outside the window fails, uncounted"
    customer_for(tenant, user(3)).on_whatsapp = False
    assert failure_code(template(tenant, user(3))) == 131026
    assert messaging_limits.document(tenant)["unique_users_24h"] == 0
    assert failure_code(template(tenant, user(4))) is None
    assert failure_code(template(tenant, user(5))) == 131048


@pytest.mark.parametrize("code", ["131049", "131056"])
def test_the_failure_code_is_a_knob(code: str) -> None:
    tenant = tenant_at("TIER_250", tier_sizes={"TIER_250": 1}, failure_code=code)
    template(tenant, user(1))
    assert failure_code(template(tenant, user(2))) == int(code)


def test_off_nothing_counts_and_nothing_fails() -> None:
    tenant = tenant_at("TIER_250", tier_sizes={"TIER_250": 1}, enabled=False)
    assert all(failure_code(template(tenant, user(n))) is None for n in range(5))
    assert messaging_limits.document(tenant)["unique_users_24h"] == 0


def test_an_unlimited_portfolio_counts_nothing() -> None:
    tenant = tenant_at("TIER_UNLIMITED")
    assert all(failure_code(template(tenant, user(n))) is None for n in range(50))
    assert not tenant.store.messaging_limits or messaging_limits.document(tenant)["unique_users_24h"] == 0


def test_business_verified_schedules_the_review_that_lifts_the_portfolio_to_2k() -> None:
    tenant = tenant_at("TIER_250", profile="trial")
    pending = messaging_limits.business_verified(tenant)
    assert pending is not None and pending.kind == "messaging_limit" and pending.target == tenant.business_id
    assert HOUR <= (pending.due_at - pending.submitted_at).total_seconds() <= 6 * HOUR
    assert messaging_limits.business_verified(tenant) is pending, "one pending review per portfolio"
    tenant.clock.advance(6 * HOUR)
    assert tier(tenant) == "TIER_2K"
    assert values(tenant, "business_capability_update") == [
        {"max_daily_conversations_per_business": "TIER_2K", "max_phone_numbers_per_waba": 25}
    ]
    assert messaging_limits.business_verified(tenant) is None, "past TIER_250 there is nothing to review"


@pytest.mark.parametrize(
    ("decision", "alert_type"),
    [
        ("defer", "INCREASED_CAPABILITIES_ELIGIBILITY_DEFERRED"),
        ("fail", "INCREASED_CAPABILITIES_ELIGIBILITY_FAILED"),
        ("need_more_info", "INCREASED_CAPABILITIES_ELIGIBILITY_NEED_MORE_INFO"),
    ],
)
def test_a_refused_review_keeps_the_tier_and_sends_account_alerts(decision: str, alert_type: str) -> None:
    tenant = tenant_at("TIER_250", profile="trial")
    messaging_limits.business_verified(tenant)
    decisions.force(tenant, ForceDecision("messaging_limit", tenant.business_id, decision))
    assert tier(tenant) == "TIER_250"
    [alert] = values(tenant, "account_alerts")
    assert alert["entity_type"] == "BUSINESS" and alert["entity_id"] == tenant.business_id
    assert alert["alert_info"]["alert_type"] == alert_type
    assert not values(tenant, "business_capability_update")


def test_the_review_decides_only_its_four_decisions() -> None:
    tenant = tenant_at("TIER_250", profile="trial")
    messaging_limits.business_verified(tenant)
    with pytest.raises(Invalid, match="approve, defer, fail, need_more_info"):
        decisions.force(tenant, ForceDecision("messaging_limit", tenant.business_id, "MAYBE"))


def test_the_scaling_path_of_unique_users_in_30_days_starts_the_review_once_per_crossing() -> None:
    tenant = tenant_at("TIER_250", tier_sizes={"TIER_250": 2}, scaling_path_users=5, review_decision="defer")
    for day in range(2):
        template(tenant, user(2 * day))
        template(tenant, user(2 * day + 1))
        tenant.clock.advance(24 * HOUR)
    assert decisions.pending_decisions(tenant) == []
    template(tenant, user(4))
    [pending] = decisions.pending_decisions(tenant)
    assert (pending.kind, pending.decision) == ("messaging_limit", "defer")
    tenant.clock.advance(6 * HOUR)
    assert len(values(tenant, "account_alerts")) == 1 and tier(tenant) == "TIER_250"
    template(tenant, user(5))
    assert decisions.pending_decisions(tenant) == [], "still over the threshold: the same crossing"
    tenant.clock.advance(31 * 24 * HOUR)
    for n in range(6, 11):
        template(tenant, user(n))
        tenant.clock.advance(24 * HOUR)
    assert len(decisions.pending_decisions(tenant)) + len(values(tenant, "account_alerts")) == 2, "a new crossing"


def test_automatic_scaling_upgrades_within_six_hours_when_half_the_limit_was_used_in_7_days() -> None:
    tenant = tenant_at("TIER_2K", tier_sizes={"TIER_2K": 4, "TIER_10K": 10})
    template(tenant, user(1))
    assert messaging_limits.document(tenant)["upgrade_due_at"] is None
    template(tenant, user(2))
    due = messaging_limits.document(tenant)["upgrade_due_at"]
    assert due is not None and due - tenant.clock.now() <= timedelta(hours=6)
    tenant.clock.advance(6 * HOUR)
    assert tier(tenant) == "TIER_10K"
    [update] = values(tenant, "business_capability_update")
    assert update["max_daily_conversations_per_business"] == "TIER_10K"


def test_automatic_scaling_checks_again_when_due_and_a_red_number_stops_it() -> None:
    tenant = tenant_at("TIER_2K", tier_sizes={"TIER_2K": 2}, upgrade_delay=[HOUR, HOUR])
    template(tenant, user(1))
    next(iter(tenant.store.phone_numbers)).quality_rating = "RED"
    tenant.clock.advance(HOUR)
    assert tier(tenant) == "TIER_2K" and messaging_limits.document(tenant)["upgrade_due_at"] is None
    next(iter(tenant.store.phone_numbers)).quality_rating = "GREEN"
    template(tenant, user(2))
    tenant.clock.advance(HOUR)
    assert tier(tenant) == "TIER_10K"


def test_automatic_scaling_drops_an_upgrade_whose_usage_expired_meanwhile() -> None:
    tenant = tenant_at("TIER_2K", tier_sizes={"TIER_2K": 2}, upgrade_delay=[8 * 24 * HOUR, 8 * 24 * HOUR])
    template(tenant, user(1))
    tenant.clock.advance(8 * 24 * HOUR)
    assert tier(tenant) == "TIER_2K"


def test_unlimited_is_the_top_and_the_tier_never_goes_down_on_its_own() -> None:
    tenant = tenant_at("TIER_100K", tier_sizes={"TIER_100K": 2}, upgrade_delay=[0, 0])
    template(tenant, user(1))
    assert tier(tenant) == "TIER_UNLIMITED"
    next(iter(tenant.store.phone_numbers)).quality_rating = "RED"
    tenant.clock.advance(30 * 24 * HOUR)
    assert tier(tenant) == "TIER_UNLIMITED"
    business = tenant.store.businesses.get(tenant.business_id)
    assert business is not None and not messaging_limits.upgrade(tenant, business)


def test_numbers_and_the_throughput_upgrade_show_the_portfolio_tier() -> None:
    tenant = tenant_at("TIER_10K")
    phone = next(iter(tenant.store.phone_numbers))
    assert messaging_limits.phone_tier(tenant, phone) == "TIER_10K"
    state = messaging_limits.document(tenant)
    assert state["tier"] == "TIER_10K" and state["limit"] == 10_000
