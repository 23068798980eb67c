"""The portfolio's messaging limit on the send path, and its scaling on the tenant clock (docs/messaging-limits.md).

`admit` is the one call of the send path: a template sent while the customer's window is closed, that every other
check has let through, is counted against the portfolio's unique users of the moving 24 hours, or gets the failure
Meta reports asynchronously when it would exceed them. Scaling: `business_verified` (the verification service
calls it) and 2,000 unique users in 30 days schedule the `messaging_limit` review (TIER_250 → TIER_2K); from TIER_2K
up, half the limit used in 7 days schedules one step up within 6 hours, checked again when it falls due.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from sandbox.context import Tenant
from sandbox.domain.business import Business
from sandbox.domain.commands import SetMessagingLimitTier
from sandbox.domain.decision import PendingDecision, ReviewKind
from sandbox.domain.errors import NotFound
from sandbox.domain.messaging_limit import (
    MESSAGING_LIMIT_LIFECYCLE,
    MessagingLimitDecision,
    MessagingLimitTier,
    PortfolioUsage,
    alert_events,
    capability_events,
    tier_size,
)
from sandbox.domain.phone_number import PhoneNumber, QualityRating
from sandbox.errors import GraphErrorCode
from sandbox.services import decisions

KIND = ReviewKind.MESSAGING_LIMIT.value
TIER_250 = MessagingLimitTier.TIER_250.value
RED = QualityRating.RED.value


def business_of(tenant: Tenant, phone: PhoneNumber) -> Business | None:
    waba = tenant.store.wabas.get(phone.waba_id)
    return tenant.store.businesses.get(waba.business_id) if waba is not None else None


def phone_tier(tenant: Tenant, phone: PhoneNumber) -> str:
    """The tier a number shows (`whatsapp_business_manager_messaging_limit`): its portfolio's, read, never copied."""
    business = business_of(tenant, phone)
    return business.messaging_limit_tier if business is not None else TIER_250


def usage(tenant: Tenant, business_id: str) -> PortfolioUsage:
    found = tenant.store.messaging_limits.get(business_id)
    if found is None:
        found = tenant.store.messaging_limits[business_id] = PortfolioUsage()
    return found


def admit(tenant: Tenant, phone: PhoneNumber, wa_id: str) -> tuple[GraphErrorCode, str] | None:
    """For a business-initiated message (a template outside the window) about to be accepted without a failure:
    the failure of a send beyond the portfolio's limit, or None once it is counted.

    An unlimited portfolio counts nothing: no limit to hold, no tier above it to scale to.
    """
    policy = tenant.policy.messaging_limits
    if not policy.enabled:
        return None
    business = business_of(tenant, phone)
    if business is None:
        return None
    size = tier_size(business.messaging_limit_tier, policy.tier_sizes)
    if size is None:
        return None
    now = tenant.clock.now()
    portfolio = usage(tenant, business.id)
    if portfolio.over_limit(wa_id, size, now):
        portfolio.refused += 1
        code = GraphErrorCode(int(policy.failure_code))
        return code, (
            f"Message failed to send because the business reached its messaging limit ({business.messaging_limit_tier}"
            f": {size} unique users outside a customer service window in a moving 24 hours)."
        )
    if portfolio.count(wa_id, now):
        _scale(tenant, business, portfolio, size)
    return None


def _scale(tenant: Tenant, business: Business, portfolio: PortfolioUsage, size: int) -> None:
    """After a new unique user: start the scaling path once per crossing of its threshold, or schedule an upgrade."""
    policy = tenant.policy.messaging_limits
    if business.messaging_limit_tier == TIER_250:
        reached = len(portfolio.month) >= policy.scaling_path_users
        if reached and not portfolio.scaling_path_done:
            request_review(tenant, business)
        portfolio.scaling_path_done = reached
        return
    if portfolio.upgrade_due_at is None and len(portfolio.week) >= policy.upgrade_share * size:
        low, high = policy.upgrade_delay
        delay = tenant.behaviour.uniform(low, high)
        tier = business.messaging_limit_tier
        portfolio.upgrade_due_at = tenant.clock.now() + timedelta(seconds=delay)
        portfolio.upgrade_handle = tenant.clock.call_later(delay, partial(_upgrade_due, tenant, business, tier))


def _upgrade_due(tenant: Tenant, business: Business, tier: str) -> None:
    portfolio = usage(tenant, business.id)
    portfolio.upgrade_due_at = portfolio.upgrade_handle = None
    if business.messaging_limit_tier == tier and eligible(tenant, business):
        upgrade(tenant, business)


def eligible(tenant: Tenant, business: Business) -> bool:
    """Automatic scaling's conditions now: above TIER_250 and below unlimited, the share of the limit used in the
    last 7 days, and no number of the portfolio rated RED."""
    policy = tenant.policy.messaging_limits
    size = tier_size(business.messaging_limit_tier, policy.tier_sizes)
    if size is None or business.messaging_limit_tier == TIER_250:
        return False
    used = usage(tenant, business.id).week.count(tenant.clock.now())
    if used < policy.upgrade_share * size:
        return False
    return not any(phone.quality_rating == RED for phone in _numbers(tenant, business))


def upgrade(tenant: Tenant, business: Business) -> bool:
    """One tier up, with `business_capability_update` to each WABA of the portfolio; False at TIER_UNLIMITED."""
    if not MESSAGING_LIMIT_LIFECYCLE.triggers(business.messaging_limit_tier):
        return False
    now = tenant.clock.now()
    MESSAGING_LIMIT_LIFECYCLE.fire(business, "upgrade", now)
    _cancel_upgrade(tenant, business)
    tenant.publish(capability_events(business.messaging_limit_tier, _waba_ids(tenant, business), now))
    return True


def business_verified(tenant: Tenant, business_id: str | None = None) -> PendingDecision | None:
    """Business verification was approved (the verification service calls this): one of the scaling paths, so a
    TIER_250 portfolio's `messaging_limit` review is scheduled; None when the portfolio is past TIER_250."""
    return request_review(tenant, _business(tenant, business_id))


def request_review(tenant: Tenant, business: Business) -> PendingDecision | None:
    """Schedule the review of a scaling path (latency and decision from the policy), unless one is pending."""
    if business.messaging_limit_tier != TIER_250:
        return None
    pending = tenant.store.decisions.get((KIND, business.id))
    if pending is not None:
        return pending
    policy = tenant.policy.messaging_limits
    low, high = policy.review_latency
    return decisions.schedule(tenant, KIND, business.id, tenant.behaviour.uniform(low, high), policy.review_decision)


def _apply(tenant: Tenant, pending: PendingDecision) -> None:
    business = tenant.store.businesses.get(pending.target)
    if business is None or business.messaging_limit_tier != TIER_250:
        return
    if pending.decision == MessagingLimitDecision.APPROVE:
        upgrade(tenant, business)
        return
    now = tenant.clock.now()
    tenant.publish(alert_events(pending.decision, business.id, business.name, _waba_ids(tenant, business), now))


decisions.reviewer(decisions.Reviewer(KIND, frozenset(MessagingLimitDecision), reasons=None, apply=_apply))


def set_tier(tenant: Tenant, command: SetMessagingLimitTier) -> dict[str, Any]:
    """Put the portfolio on a tier by hand (control plane, for tests): any tier, down too, with no webhook; a
    scheduled upgrade is dropped and the counts stay."""
    business = _business(tenant, command.business_id)
    business.messaging_limit_tier = command.tier
    _cancel_upgrade(tenant, business)
    return document(tenant, business.id)


def document(tenant: Tenant, business_id: str | None = None) -> dict[str, Any]:
    """The portfolio's tier, its limit and the counts behind it (control plane and tenant state)."""
    business = _business(tenant, business_id)
    pending = tenant.store.decisions.get((KIND, business.id))
    return {
        "business_id": business.id,
        "tier": business.messaging_limit_tier,
        "limit": tier_size(business.messaging_limit_tier, tenant.policy.messaging_limits.tier_sizes),
        "enabled": tenant.policy.messaging_limits.enabled,
        **usage(tenant, business.id).snapshot(tenant.clock.now()),
        "review": pending.document() if pending is not None else None,
    }


def _business(tenant: Tenant, business_id: str | None) -> Business:
    business = tenant.store.businesses.get(business_id or tenant.business_id)
    if business is None:
        raise NotFound(f"no business {business_id or tenant.business_id} in this tenant")
    return business


def _cancel_upgrade(tenant: Tenant, business: Business) -> None:
    portfolio = usage(tenant, business.id)
    if portfolio.upgrade_handle is not None:
        portfolio.upgrade_handle.cancel()
    portfolio.upgrade_due_at = portfolio.upgrade_handle = None


def _waba_ids(tenant: Tenant, business: Business) -> list[str]:
    return [waba.id for waba in tenant.store.wabas if waba.business_id == business.id]


def _numbers(tenant: Tenant, business: Business) -> list[PhoneNumber]:
    wabas = set(_waba_ids(tenant, business))
    return [phone for phone in tenant.store.phone_numbers if phone.waba_id in wabas]
