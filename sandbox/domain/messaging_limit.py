"""The portfolio's messaging limit (meta-lifecycle.md §3.5-§3.6, meta-messaging.md §5.4): how many unique users the
business may reach outside a customer-service window in a moving 24 hours, and the tier that sets it.

Since 2025-10-07 the limit belongs to the business portfolio and only ever goes up: TIER_250 for a new portfolio,
TIER_2K after a scaling path and Meta's review, then one step at a time by automatic scaling. Quality drops no
longer lower it, so the lifecycle has `upgrade` and nothing else.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from sandbox.domain.events import AccountAlertRaised, BusinessCapabilityChanged
from sandbox.domain.lifecycle import declare

if TYPE_CHECKING:
    from transitions.core import TransitionConfigDict


class MessagingLimitTier(StrEnum):
    """`whatsapp_business_manager_messaging_limit` and `max_daily_conversations_per_business`, Meta's wire names."""

    TIER_250 = "TIER_250"
    TIER_2K = "TIER_2K"
    TIER_10K = "TIER_10K"
    TIER_100K = "TIER_100K"
    TIER_UNLIMITED = "TIER_UNLIMITED"


# Unique users outside a window per moving 24 h, by tier; TIER_UNLIMITED has none (the policy's `tier_sizes`).
TIER_SIZES: dict[str, int] = {
    MessagingLimitTier.TIER_250.value: 250,
    MessagingLimitTier.TIER_2K.value: 2_000,
    MessagingLimitTier.TIER_10K.value: 10_000,
    MessagingLimitTier.TIER_100K.value: 100_000,
}
TIERS = tuple(MessagingLimitTier)

MESSAGING_LIMIT_TRANSITIONS: list[TransitionConfigDict] = [
    {"trigger": "upgrade", "source": lower, "dest": higher} for lower, higher in pairwise(TIERS)
]
MESSAGING_LIMIT_LIFECYCLE = declare(
    "business.messaging_limit_tier",
    "messaging_limit_tier",
    MessagingLimitTier,
    MESSAGING_LIMIT_TRANSITIONS,
    "The portfolio's messaging limit: one tier up at a time, never down (since 2025-10-07).",
)

# Meta's sample `business_capability_update` after an increase (§3.5); the phone-number cap is not modelled else.
MAX_PHONE_NUMBERS_PER_WABA = 25
MAX_PHONE_NUMBERS_UNVERIFIED = 2

DAY = timedelta(days=1)


class MessagingLimitDecision(StrEnum):
    """The decisions of the `messaging_limit` review (the quality review after a scaling path)."""

    APPROVE = "approve"
    DEFER = "defer"
    FAIL = "fail"
    NEED_MORE_INFO = "need_more_info"


# alert_type, alert_severity and alert_description of each refusal (§3.6). Meta documents the text of the
# deferral only; the severities and the other two texts are this sandbox's.
ALERTS: dict[str, tuple[str, str, str]] = {
    MessagingLimitDecision.DEFER: (
        "INCREASED_CAPABILITIES_ELIGIBILITY_DEFERRED",
        "WARNING",
        "Limits cannot be increased for your business {name}. Use WhatsApp Business platform actively for several "
        "days and follow our messaging policies.",
    ),
    MessagingLimitDecision.FAIL: (
        "INCREASED_CAPABILITIES_ELIGIBILITY_FAILED",
        "CRITICAL",
        "Limits cannot be increased for your business {name}: it is not eligible for increased capabilities.",
    ),
    MessagingLimitDecision.NEED_MORE_INFO: (
        "INCREASED_CAPABILITIES_ELIGIBILITY_NEED_MORE_INFO",
        "WARNING",
        "Limits cannot be increased for your business {name} until more information is provided.",
    ),
}


def tier_size(tier: str, sizes: dict[str, int] = TIER_SIZES) -> int | None:
    """The unique users `tier` allows per moving 24 h under `sizes`; None for TIER_UNLIMITED."""
    return sizes.get(tier)


class MovingUniqueUsers:
    """The unique users reached within the last `horizon`, at O(1) amortised cost per call.

    A deque of (time, wa_id), oldest first, and the newest time of each user; entries older than the horizon are
    dropped from the left, and a user leaves when the entry that matches their newest time goes. Memory: one dict
    entry per user of the horizon, and one deque entry per `add` within it (the service adds a user at most once per
    moving 24 h, so a 7-day counter holds at most 7 entries of each of its users, a 30-day one 30).
    """

    __slots__ = ("entries", "horizon", "last_seen")

    def __init__(self, horizon: timedelta) -> None:
        self.horizon = horizon
        self.entries: deque[tuple[datetime, str]] = deque()
        self.last_seen: dict[str, datetime] = {}

    def expire(self, now: datetime) -> None:
        cutoff = now - self.horizon
        entries, last_seen = self.entries, self.last_seen
        while entries and entries[0][0] <= cutoff:
            at, wa_id = entries.popleft()
            if last_seen.get(wa_id) == at:
                del last_seen[wa_id]

    def __contains__(self, wa_id: str) -> bool:
        """Whether `wa_id` was reached within the horizon, as of the last `expire`."""
        return wa_id in self.last_seen

    def __len__(self) -> int:
        return len(self.last_seen)

    def add(self, wa_id: str, now: datetime) -> None:
        self.entries.append((now, wa_id))
        self.last_seen[wa_id] = now

    def count(self, now: datetime) -> int:
        self.expire(now)
        return len(self.last_seen)

    def clear(self) -> None:
        self.entries.clear()
        self.last_seen.clear()


@dataclass(slots=True, eq=False)
class PortfolioUsage:
    """What a portfolio's numbers have sent outside customer-service windows: unique users in the moving 24 hours
    (the limit), 7 days (automatic scaling) and 30 days (the 2,000-message scaling path); and the scaling pending."""

    day: MovingUniqueUsers = field(default_factory=lambda: MovingUniqueUsers(DAY))
    week: MovingUniqueUsers = field(default_factory=lambda: MovingUniqueUsers(7 * DAY))
    month: MovingUniqueUsers = field(default_factory=lambda: MovingUniqueUsers(30 * DAY))
    upgrade_due_at: datetime | None = None
    upgrade_handle: Any = None
    # Latched while the 30-day count is at the scaling path's threshold: one review per crossing, not per send.
    scaling_path_done: bool = False
    refused: int = 0

    def over_limit(self, wa_id: str, size: int | None, now: datetime) -> bool:
        """Whether reaching `wa_id` now would exceed `size` unique users in the moving 24 h (a user already counted
        is never over); counts nothing."""
        if size is None:
            return False
        day = self.day
        day.expire(now)
        return wa_id not in day and len(day) >= size

    def count(self, wa_id: str, now: datetime) -> bool:
        """Count a business-initiated message to `wa_id`; True when it is a new unique user of the moving 24 h."""
        day = self.day
        day.expire(now)
        if wa_id in day:
            return False
        day.add(wa_id, now)
        self.week.expire(now)
        self.week.add(wa_id, now)
        self.month.expire(now)
        self.month.add(wa_id, now)
        return True

    def snapshot(self, now: datetime) -> dict[str, Any]:
        return {
            "unique_users_24h": self.day.count(now),
            "unique_users_7d": self.week.count(now),
            "unique_users_30d": self.month.count(now),
            "upgrade_due_at": self.upgrade_due_at,
            "refused": self.refused,
        }


def capability_events(tier: str, waba_ids: list[str], at: datetime) -> list[BusinessCapabilityChanged]:
    """`business_capability_update` for each WABA of the portfolio at `tier` (§3.5): the phone-number cap is per
    business while the limit is 250, per WABA after."""
    if tier == MessagingLimitTier.TIER_250:
        caps: dict[str, int] = {"max_phone_numbers_per_business": MAX_PHONE_NUMBERS_UNVERIFIED}
    else:
        caps = {"max_phone_numbers_per_waba": MAX_PHONE_NUMBERS_PER_WABA}
    return [
        BusinessCapabilityChanged(at, waba_id=waba_id, max_daily_conversations_per_business=tier, **caps)
        for waba_id in waba_ids
    ]


def alert_events(
    decision: str, business_id: str, business_name: str, waba_ids: list[str], at: datetime
) -> list[AccountAlertRaised]:
    """`account_alerts` for each WABA of the portfolio when the review refuses the increase (§3.6)."""
    alert_type, severity, description = ALERTS[decision]
    return [
        AccountAlertRaised(
            at,
            waba_id=waba_id,
            entity_type="BUSINESS",
            entity_id=business_id,
            alert_type=alert_type,
            alert_severity=severity,
            alert_description=description.format(name=business_name),
        )
        for waba_id in waba_ids
    ]
