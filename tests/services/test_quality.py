"""A number's quality rating as a service: reactions, the rating and its webhooks per era, RESTRICTED and FLAGGED
on the send path, the automatic throughput upgrade, and the tier the number shows."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from sandbox.context import Sandbox, Tenant
from sandbox.domain.commands import ConfigureClock, CreateTenant, ReceiveMessage, SendMessage, SetMessagingLimitTier
from sandbox.domain.errors import Invalid, NotFound
from sandbox.errors import GraphError
from sandbox.services import messaging, messaging_limits, phone_numbers, quality
from sandbox.services.customers import customer_for
from sandbox.services.tenants import create_tenant
from sandbox.settings import Settings

TEMPLATE = {"name": "hello_world", "language": {"code": "en_US"}}
CUSTOMERS = [f"1555333{n:04d}" for n in range(40)]


def tenant_with(**knobs: Any) -> Tenant:
    tenant = create_tenant(
        Sandbox(Settings(seed=5)), CreateTenant(name="t", profile="live", clock=ConfigureClock(mode="frozen"))
    )
    tenant.policy.patch(
        {
            "messages": {"progression": "immediate"},
            "limits": {"throughput_mps": {"STANDARD": 100_000}, "pair_rate_burst": 1_000_000},
            "trial_enabled": False,
            "quality": {"min_sample": 10, **knobs},
        }
    )
    messaging_limits.set_tier(tenant, SetMessagingLimitTier("TIER_100K"))
    return tenant


def phone_id(tenant: Tenant) -> str:
    return tenant.document()["phone_number_id"]


def send_templates(tenant: Tenant, count: int) -> list[str]:
    return [
        messaging.send_message(tenant, SendMessage(phone_id(tenant), wa_id, "template", TEMPLATE)).wamid
        for wa_id in CUSTOMERS[:count]
    ]


def values(tenant: Tenant, field: str = "phone_number_quality_update") -> list[dict[str, Any]]:
    return [
        json.loads(d.body)["entry"][0]["changes"][0]["value"] for d in tenant.outbox.log(tenant.id) if d.field == field
    ]


def test_reports_over_the_thresholds_rate_yellow_then_red_with_one_webhook_each() -> None:
    tenant = tenant_with()
    send_templates(tenant, 20)
    before = len(values(tenant))
    quality.react(tenant, CUSTOMERS[0], "report", phone_id(tenant), None)  # 1/20 = 5 %: RED at once
    phone = tenant.store.phone_numbers.get(phone_id(tenant))
    assert phone is not None and phone.quality_rating == "RED"
    changes = values(tenant)[before:]
    assert changes == [
        {"display_phone_number": phone.display_phone_number, "event": "QUALITY_UPDATE", "current_limit": "TIER_100K"}
    ]
    assert phone.status == "CONNECTED"  # no FLAGGED since 2025-10-07


def test_yellow_between_the_thresholds_and_reads_count_for_nothing() -> None:
    tenant = tenant_with(yellow_rate=0.02, red_rate=0.1)
    send_templates(tenant, 40)
    quality.react(tenant, CUSTOMERS[1], "read", phone_id(tenant), None)
    assert quality.document(tenant, phone_id(tenant))["quality_rating"] == "GREEN"
    quality.react(tenant, CUSTOMERS[2], "report", phone_id(tenant), None)
    assert quality.document(tenant, phone_id(tenant))["quality_rating"] == "YELLOW"


def test_a_block_sets_blocked_business_and_records_the_template() -> None:
    tenant = tenant_with()
    wamids = send_templates(tenant, 20)
    reaction = quality.react(tenant, CUSTOMERS[0], "block", phone_id(tenant), wamids[0])
    assert customer_for(tenant, CUSTOMERS[0]).blocked_business
    assert reaction.template is not None and reaction.template[:2] == ("hello_world", "en_US")
    assert reaction.template[2]
    message = messaging.send_message(tenant, SendMessage(phone_id(tenant), CUSTOMERS[0], "template", TEMPLATE))
    assert message.failure is not None and int(message.failure[0]) == 131026


def test_a_reaction_names_a_message_of_the_number_to_that_customer() -> None:
    tenant = tenant_with()
    wamids = send_templates(tenant, 2)
    with pytest.raises(Invalid):
        quality.react(tenant, CUSTOMERS[1], "report", phone_id(tenant), wamids[0])
    with pytest.raises(NotFound):
        quality.react(tenant, CUSTOMERS[1], "report", phone_id(tenant), "wamid.nope")
    with pytest.raises(NotFound):
        quality.react(tenant, CUSTOMERS[1], "report", "123", None)


def test_too_small_a_sample_keeps_the_rating_and_the_rating_recovers_when_feedback_leaves_the_window() -> None:
    tenant = tenant_with(min_sample=100)
    send_templates(tenant, 20)
    quality.react(tenant, CUSTOMERS[0], "report", phone_id(tenant), None)
    assert quality.document(tenant, phone_id(tenant))["quality_rating"] == "GREEN"
    quality.force(tenant, phone_id(tenant), "RED")
    tenant.clock.advance(timedelta(days=8).total_seconds())
    assert quality.document(tenant, phone_id(tenant))["quality_rating"] == "GREEN"


def test_legacy_red_flags_the_number_then_downgrades_the_tier_after_seven_days() -> None:
    tenant = tenant_with(rule="legacy")
    quality.force(tenant, phone_id(tenant), "RED")
    phone = tenant.store.phone_numbers.get(phone_id(tenant))
    assert phone is not None and phone.status == "FLAGGED"
    assert values(tenant)[-1]["event"] == "FLAGGED"
    # FLAGGED is a warning: templates still go out.
    assert send_templates(tenant, 1)
    tenant.clock.advance(timedelta(days=7).total_seconds())
    assert phone.status == "CONNECTED"
    assert values(tenant)[-1] == {
        "display_phone_number": phone.display_phone_number,
        "event": "DOWNGRADE",
        "current_limit": "TIER_10K",
        "old_limit": "TIER_100K",
    }
    assert tenant.store.businesses.get(tenant.business_id).messaging_limit_tier == "TIER_10K"  # type: ignore[union-attr]


def test_legacy_recovered_within_seven_days_is_unflagged_with_the_limit_unchanged() -> None:
    tenant = tenant_with(rule="legacy")
    quality.force(tenant, phone_id(tenant), "RED")
    quality.force(tenant, phone_id(tenant), "YELLOW")
    tenant.clock.advance(timedelta(days=7).total_seconds())
    assert [value["event"] for value in values(tenant)[-3:]] == ["FLAGGED", "QUALITY_UPDATE", "UNFLAGGED"]
    assert values(tenant)[-1]["current_limit"] == "TIER_100K"


def test_today_red_never_flags_nor_downgrades() -> None:
    tenant = tenant_with(rule="current")
    quality.force(tenant, phone_id(tenant), "RED")
    tenant.clock.advance(timedelta(days=8).total_seconds())
    phone = tenant.store.phone_numbers.get(phone_id(tenant))
    assert phone is not None and phone.status == "CONNECTED"
    assert {value["event"] for value in values(tenant)} <= {"ONBOARDING", "QUALITY_UPDATE"}
    assert tenant.store.businesses.get(tenant.business_id).messaging_limit_tier == "TIER_100K"  # type: ignore[union-attr]


def test_a_restricted_number_sends_replies_in_a_window_only() -> None:
    tenant = tenant_with()
    phone_numbers.move_by_hand(tenant, phone_id(tenant), "restrict")
    with pytest.raises(GraphError) as refused:
        send_templates(tenant, 1)
    assert int(refused.value.code) == 131048
    messaging.receive_message(tenant, ReceiveMessage(CUSTOMERS[3], "text", {"body": "Hi"}, phone_id(tenant)))
    reply = messaging.send_message(tenant, SendMessage(phone_id(tenant), CUSTOMERS[3], "text", {"body": "Hello"}))
    assert reply.failure is None


def test_the_number_shows_its_portfolios_tier() -> None:
    tenant = tenant_with()
    phone = tenant.store.phone_numbers.get(phone_id(tenant))
    assert phone is not None
    for tier in ("TIER_250", "TIER_2K", "TIER_UNLIMITED"):
        messaging_limits.set_tier(tenant, SetMessagingLimitTier(tier))
        fields = phone.graph_fields(messaging_limit=messaging_limits.phone_tier(tenant, phone))
        assert fields["messaging_limit_tier"] == fields["whatsapp_business_manager_messaging_limit"] == tier
        assert quality.document(tenant, phone.id)["messaging_limit_tier"] == tier


def test_an_eligible_number_is_upgraded_after_a_maintenance_minute() -> None:
    tenant = tenant_with(throughput_upgrade_users=5, throughput_upgrade_delay=[10.0, 10.0], maintenance_seconds=60.0)
    messaging_limits.set_tier(tenant, SetMessagingLimitTier("TIER_UNLIMITED"))
    send_templates(tenant, 5)
    assert quality.document(tenant, phone_id(tenant))["throughput_upgrade_eligible"]
    tenant.clock.advance(10)
    with pytest.raises(GraphError) as maintenance:
        send_templates(tenant, 1)
    assert int(maintenance.value.code) == 131057
    tenant.clock.advance(60)
    phone = tenant.store.phone_numbers.get(phone_id(tenant))
    assert phone is not None and phone.throughput_level == "HIGH"
    assert values(tenant)[-1]["event"] == "THROUGHPUT_UPGRADE"
    assert values(tenant)[-1]["max_daily_conversations_per_business"] == "TIER_UNLIMITED"


def test_a_red_number_is_not_upgraded() -> None:
    tenant = tenant_with(throughput_upgrade_users=5, throughput_upgrade_delay=[10.0, 10.0])
    messaging_limits.set_tier(tenant, SetMessagingLimitTier("TIER_UNLIMITED"))
    send_templates(tenant, 5)
    quality.force(tenant, phone_id(tenant), "RED")
    tenant.clock.advance(3600)
    phone = tenant.store.phone_numbers.get(phone_id(tenant))
    assert phone is not None and phone.throughput_level == "STANDARD"


@pytest.mark.parametrize(("tier", "after"), [("TIER_2K", "TIER_250"), ("TIER_250", "TIER_250")])
def test_legacy_downgrade_is_one_step_and_never_below_tier_250(tier: str, after: str) -> None:
    tenant = tenant_with(rule="legacy")
    messaging_limits.set_tier(tenant, SetMessagingLimitTier(tier))
    quality.force(tenant, phone_id(tenant), "RED")
    tenant.clock.advance(timedelta(days=7).total_seconds())
    assert values(tenant)[-1]["event"] == "DOWNGRADE"
    assert (values(tenant)[-1]["old_limit"], values(tenant)[-1]["current_limit"]) == (tier, after)
    assert tenant.store.businesses.get(tenant.business_id).messaging_limit_tier == after  # type: ignore[union-attr]
