"""The messaging-limit tier table and lifecycle, and the moving unique-user counters behind the limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sandbox.domain.business import Business
from sandbox.domain.lifecycle import InvalidTransition
from sandbox.domain.messaging_limit import (
    DAY,
    MESSAGING_LIMIT_LIFECYCLE,
    TIER_SIZES,
    MessagingLimitTier,
    MovingUniqueUsers,
    PortfolioUsage,
    alert_events,
    capability_events,
    tier_size,
)

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_the_tier_table_is_metas() -> None:
    assert [str(tier) for tier in MessagingLimitTier] == [
        "TIER_250", "TIER_2K", "TIER_10K", "TIER_100K", "TIER_UNLIMITED",
    ]  # fmt: skip
    assert [tier_size(tier) for tier in MessagingLimitTier] == [250, 2_000, 10_000, 100_000, None]
    assert tier_size("TIER_2K", {**TIER_SIZES, "TIER_2K": 3}) == 3


def test_upgrade_moves_one_tier_at_a_time_and_never_down() -> None:
    business = Business("1", "Lucky Shrub")
    assert business.messaging_limit_tier == "TIER_250"
    seen = [business.messaging_limit_tier]
    while MESSAGING_LIMIT_LIFECYCLE.triggers(business.messaging_limit_tier):
        assert MESSAGING_LIMIT_LIFECYCLE.triggers(business.messaging_limit_tier) == ["upgrade"]
        MESSAGING_LIMIT_LIFECYCLE.fire(business, "upgrade", T0)
        seen.append(business.messaging_limit_tier)
    assert seen == [str(tier) for tier in MessagingLimitTier]
    assert MESSAGING_LIMIT_LIFECYCLE.is_final("TIER_UNLIMITED")
    with pytest.raises(InvalidTransition):
        MESSAGING_LIMIT_LIFECYCLE.fire(business, "upgrade", T0)
    assert business.messaging_limit_tier == "TIER_UNLIMITED"
    assert not any(trigger != "upgrade" for trigger, _, _ in MESSAGING_LIMIT_LIFECYCLE.table())


def test_a_user_counts_for_exactly_the_horizon() -> None:
    users = MovingUniqueUsers(DAY)
    users.add("a", T0)
    assert users.count(T0 + DAY - timedelta(microseconds=1)) == 1
    assert users.count(T0 + DAY) == 0
    assert "a" not in users


def test_a_later_add_keeps_the_user_until_the_later_time_expires() -> None:
    users = MovingUniqueUsers(7 * DAY)
    users.add("a", T0)
    users.add("b", T0 + DAY)
    users.add("a", T0 + 2 * DAY)
    assert users.count(T0 + 7 * DAY) == 2, "the first entry of a goes, a stays through its later one"
    assert users.count(T0 + 8 * DAY) == 1
    assert users.count(T0 + 9 * DAY) == 0
    assert not users.entries and not users.last_seen


def test_adds_at_one_instant_expire_cleanly() -> None:
    users = MovingUniqueUsers(DAY)
    for _ in range(3):
        users.add("a", T0)
    assert users.count(T0 + DAY) == 0
    assert not users.entries


def test_memory_holds_only_the_users_of_the_horizon() -> None:
    usage = PortfolioUsage()
    for hour in range(24 * 60):  # 60 days, a new user every hour, and one returning user every day
        now = T0 + timedelta(hours=hour)
        usage.count(f"user-{hour}", now)
        usage.count("regular", now)
        assert len(usage.day.entries) <= 25 and len(usage.day) <= 25
        assert len(usage.week.last_seen) <= 7 * 24 + 1
        assert len(usage.week.entries) <= 7 * 24 + 8, "one entry per add within the horizon"
        assert len(usage.month.entries) <= 30 * 24 + 31


def test_over_limit_counts_nothing_and_spares_a_counted_user() -> None:
    usage = PortfolioUsage()
    assert usage.count("a", T0) and usage.count("b", T0)
    assert not usage.count("a", T0 + timedelta(hours=1)), "already counted in the moving 24 h"
    assert usage.over_limit("c", 2, T0)
    assert not usage.over_limit("a", 2, T0), "a user already reached is never over"
    assert not usage.over_limit("c", None, T0), "unlimited"
    assert len(usage.day) == 2
    assert not usage.over_limit("c", 2, T0 + DAY), "a and b left the moving 24 h"
    assert usage.count("a", T0 + DAY), "a counts again once its 24 h are over"
    assert len(usage.week) == 2 and len(usage.week.entries) == 3


def test_capability_update_shape_by_tier() -> None:
    [event] = capability_events("TIER_2K", ["w1"], T0)
    assert (event.waba_id, event.max_daily_conversations_per_business) == ("w1", "TIER_2K")
    assert (event.max_phone_numbers_per_waba, event.max_phone_numbers_per_business) == (25, None)
    [event] = capability_events("TIER_250", ["w1"], T0)
    assert (event.max_phone_numbers_per_waba, event.max_phone_numbers_per_business) == (None, 2)
    assert len(capability_events("TIER_10K", ["w1", "w2"], T0)) == 2


@pytest.mark.parametrize(
    ("decision", "alert_type", "severity"),
    [
        ("defer", "INCREASED_CAPABILITIES_ELIGIBILITY_DEFERRED", "WARNING"),
        ("fail", "INCREASED_CAPABILITIES_ELIGIBILITY_FAILED", "CRITICAL"),
        ("need_more_info", "INCREASED_CAPABILITIES_ELIGIBILITY_NEED_MORE_INFO", "WARNING"),
    ],
)
def test_alerts_of_a_refused_increase(decision: str, alert_type: str, severity: str) -> None:
    [alert] = alert_events(decision, "b1", "Lucky Shrub", ["w1"], T0)
    assert (alert.entity_type, alert.entity_id, alert.alert_status) == ("BUSINESS", "b1", "ACTIVE")
    assert (alert.alert_type, alert.alert_severity) == (alert_type, severity)
    assert "Lucky Shrub" in alert.alert_description
