"""A number's quality rating and what follows from it (docs/phone-numbers.md, "Quality rating"; §3.6-§3.8, META-TP).

The send path calls `business_initiated` once per accepted business-initiated message: a counter increment, and
for an unlimited portfolio's STANDARD number the unique users the throughput upgrade reads. Customers' reactions
(`react`, control plane) recompute the rating on the tenant clock; so does a recheck when the oldest negative
feedback leaves the window. Each change publishes `phone_number_quality_update`; before 2025-10-07 a RED number is
FLAGGED, and `flag_days` later UNFLAGGED (recovered) or DOWNGRADEd one tier.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sandbox.context import Tenant
from sandbox.domain.business import Business
from sandbox.domain.commands import SetThroughput
from sandbox.domain.errors import Invalid, NotFound
from sandbox.domain.events import PhoneNumberQualityChanged
from sandbox.domain.message import TEMPLATE_TYPE
from sandbox.domain.messaging_limit import TIERS, MessagingLimitTier
from sandbox.domain.phone_number import STATUS_LIFECYCLE, PhoneNumber, PhoneNumberStatus, QualityRating
from sandbox.domain.quality import (
    NEGATIVE,
    QUALITY_LIFECYCLE,
    NumberQuality,
    Reaction,
    legacy,
    rating_for,
    trigger_for,
)
from sandbox.errors import GraphError, GraphErrorCode
from sandbox.services import customers, limits, messaging_limits, template_quality

UNLIMITED = MessagingLimitTier.TIER_UNLIMITED.value
RED = QualityRating.RED.value
# META-TP: "quality_score ≥ YELLOW (Medium)".
UPGRADE_RATINGS = frozenset({QualityRating.GREEN.value, QualityRating.YELLOW.value})
# Meta documents no event for a rating change after 2025-10-07 (only ONBOARDING and THROUGHPUT_UPGRADE): the
# sandbox's own name (docs/fidelity-choices.md).
RATING_EVENT = "QUALITY_UPDATE"


def number_quality(tenant: Tenant, phone_id: str) -> NumberQuality:
    found = tenant.store.quality.get(phone_id)
    if found is None:
        found = tenant.store.quality[phone_id] = NumberQuality(deque(maxlen=tenant.policy.quality.reactions_kept))
    return found


def _phone(tenant: Tenant, phone_number_id: str) -> PhoneNumber:
    phone = tenant.store.phone_numbers.get(phone_number_id)
    if phone is None:
        raise NotFound(f"no phone number {phone_number_id!r} in this tenant")
    return phone


# -- the send path ------------------------------------------------------------------------------------------------


def check_send(phone: PhoneNumber, window_open: bool) -> None:
    """A RESTRICTED number sends replies inside a customer-service window only (§2.10): 131048 otherwise."""
    if not window_open and phone.status == PhoneNumberStatus.RESTRICTED:
        raise GraphError(
            GraphErrorCode.SPAM_RATE_LIMIT_HIT,
            "Message failed to send because there are restrictions on how many messages can be sent from this "
            "phone number. This may be because too many previous messages were blocked or flagged as spam.",
        )


def business_initiated(tenant: Tenant, phone: PhoneNumber, wa_id: str, now: datetime) -> None:
    """Count one accepted business-initiated message of `phone` to `wa_id`."""
    quality = tenant.store.quality.get(phone.id) or number_quality(tenant, phone.id)
    quality.count_sent(now)
    if phone.throughput_level != "STANDARD" or phone.is_on_biz_app or quality.upgrade_handle is not None:
        return
    if messaging_limits.phone_tier(tenant, phone) == UNLIMITED:
        users = quality.unique_users
        users.expire(now)
        if wa_id not in users:
            users.add(wa_id, now)
            if len(users) >= tenant.policy.quality.throughput_upgrade_users:
                _schedule_upgrade(tenant, phone, quality)


# -- reactions and the rating -------------------------------------------------------------------------------------


def react(tenant: Tenant, wa_id: str, kind: str, phone_number_id: str, message_id: str | None) -> Reaction:
    """A customer blocks or reports the business on a number, or reads a message of it; a block also sets the
    customer's `blocked_business` (sends to them fail with 131026). The rating is recomputed at once."""
    phone = _phone(tenant, phone_number_id)
    template = None
    if message_id is not None:
        message = tenant.store.messages.get(message_id)
        if message is None or message.direction != "outbound" or message.phone_number_id != phone.id:
            raise NotFound(f"no message {message_id!r} of number {phone.id} to this customer")
        if message.wa_id != wa_id:
            raise Invalid(f"message {message_id} was sent to {message.wa_id}, not {wa_id}")
        template = _template_of(tenant, phone, message.type, message.content)
    now = tenant.clock.now()
    reaction = Reaction(kind, wa_id, now, message_id, template)
    customer = customers.customer_for(tenant, wa_id)
    if kind == "block":
        customer.blocked_business = True
    quality = number_quality(tenant, phone.id)
    quality.react(reaction)
    if template is not None and template[2]:
        # The same reaction scores the template the message was sent with (meta-lifecycle.md §4.8).
        template_quality.template_reaction(tenant, template[2], kind, now)
    if kind in NEGATIVE:
        recompute(tenant, phone)
    tenant.clock.run_due()
    return reaction


def _template_of(tenant: Tenant, phone: PhoneNumber, message_type: str, content: Any) -> tuple[str, str, str] | None:
    if message_type != TEMPLATE_TYPE or not isinstance(content, dict):
        return None
    name = str(content.get("name", ""))
    language = content.get("language") or {}
    code = str(language.get("code", "")) if isinstance(language, dict) else ""
    found = next(
        (t for t in tenant.store.templates if t.waba_id == phone.waba_id and t.name == name and t.language == code),
        None,
    )
    return name, code, found.id if found is not None else ""


def recompute(tenant: Tenant, phone: PhoneNumber) -> str:
    """The rating from the window as it stands now; a change is carried out, and the next recheck scheduled."""
    policy = tenant.policy.quality
    now = tenant.clock.now()
    quality = number_quality(tenant, phone.id)
    quality.expire(now, policy.window_days)
    rating = rating_for(
        quality.negative,
        quality.sent,
        yellow=policy.yellow_rate,
        red=policy.red_rate,
        min_sample=policy.min_sample,
        current=phone.quality_rating,
    )
    _rate(tenant, phone, rating)
    _schedule_recheck(tenant, phone, quality)
    return phone.quality_rating


def force(tenant: Tenant, phone_number_id: str, rating: str) -> dict[str, Any]:
    """Put the number on `rating` by hand (control plane): what follows from it runs as for a computed change; the
    next reaction or recheck computes it again. Any number on the WABA has a rating (Meta shows `quality_rating`
    whatever the status), so any may be forced, as any may be reacted to; only a CONNECTED one is FLAGGED."""
    phone = _phone(tenant, phone_number_id)
    _rate(tenant, phone, rating)
    tenant.clock.run_due()
    return document(tenant, phone.id)


def _rate(tenant: Tenant, phone: PhoneNumber, rating: str) -> None:
    previous = phone.quality_rating
    if rating == previous:
        return
    now = tenant.clock.now()
    QUALITY_LIFECYCLE.fire(phone, trigger_for(rating), now)
    tier = messaging_limits.phone_tier(tenant, phone)
    quality = number_quality(tenant, phone.id)
    event = RATING_EVENT
    if legacy(tenant.policy.quality.rule, now) and rating == RED and phone.status == PhoneNumberStatus.CONNECTED:
        STATUS_LIFECYCLE.fire(phone, "flag", now)
        event = "FLAGGED"
        quality.flagged_until = now + timedelta(days=tenant.policy.quality.flag_days)
        quality.handle = tenant.clock.call_at(quality.flagged_until, partial(_flag_due, tenant, phone))
    tenant.publish([PhoneNumberQualityChanged(now, phone, event, current_limit=tier)])
    if rating not in UPGRADE_RATINGS and quality.upgrade_handle is not None:
        quality.upgrade_handle.cancel()
        quality.upgrade_handle = None


def _flag_due(tenant: Tenant, phone: PhoneNumber) -> None:
    """Legacy: `flag_days` after FLAGGED, the number is CONNECTED again; UNFLAGGED if it recovered, else DOWNGRADE
    (the portfolio one tier down, never below TIER_250)."""
    quality = number_quality(tenant, phone.id)
    quality.flagged_until = quality.handle = None
    if phone.status != PhoneNumberStatus.FLAGGED:
        return
    now = tenant.clock.now()
    STATUS_LIFECYCLE.fire(phone, "unflag", now)
    business = messaging_limits.business_of(tenant, phone)
    old = messaging_limits.phone_tier(tenant, phone)
    if phone.quality_rating != RED or business is None:
        tenant.publish([PhoneNumberQualityChanged(now, phone, "UNFLAGGED", current_limit=old)])
        return
    _downgrade(business)
    new = business.messaging_limit_tier
    tenant.publish([PhoneNumberQualityChanged(now, phone, "DOWNGRADE", current_limit=new, old_limit=old)])


def _downgrade(business: Business) -> None:
    # The lifecycle of today's limit only goes up; the legacy downgrade is this one step outside it.
    index = TIERS.index(MessagingLimitTier(business.messaging_limit_tier))
    business.messaging_limit_tier = TIERS[max(index - 1, 0)].value


def _schedule_recheck(tenant: Tenant, phone: PhoneNumber, quality: NumberQuality) -> None:
    if quality.recheck_handle is not None:
        quality.recheck_handle.cancel()
        quality.recheck_handle = None
    due = quality.next_expiry(tenant.policy.quality.window_days)
    if due is not None:
        quality.recheck_handle = tenant.clock.call_at(due, partial(recompute, tenant, phone))


# -- the automatic throughput upgrade (META-TP) -------------------------------------------------------------------


def eligible(tenant: Tenant, phone: PhoneNumber) -> bool:
    """META-TP: an unlimited portfolio, `throughput_upgrade_users` unique users outside a window in the moving
    24 h, quality GREEN or YELLOW; and a registered STANDARD number not on the Business app."""
    if phone.throughput_level != "STANDARD" or phone.is_on_biz_app or not phone.registered:
        return False
    if phone.quality_rating not in UPGRADE_RATINGS or messaging_limits.phone_tier(tenant, phone) != UNLIMITED:
        return False
    users = number_quality(tenant, phone.id).unique_users.count(tenant.clock.now())
    return users >= tenant.policy.quality.throughput_upgrade_users


def _schedule_upgrade(tenant: Tenant, phone: PhoneNumber, quality: NumberQuality) -> None:
    if phone.quality_rating not in UPGRADE_RATINGS or phone.id in tenant.limits.maintenance_until:
        return
    low, high = tenant.policy.quality.throughput_upgrade_delay
    quality.upgrade_handle = tenant.clock.call_later(
        tenant.behaviour.uniform(low, high), partial(_upgrade_due, tenant, phone)
    )


def _upgrade_due(tenant: Tenant, phone: PhoneNumber) -> None:
    """Eligible still: the maintenance minute (131057) and HIGH with THROUGHPUT_UPGRADE, by the limits service."""
    number_quality(tenant, phone.id).upgrade_handle = None
    if eligible(tenant, phone):
        seconds = tenant.policy.quality.maintenance_seconds
        limits.set_throughput(tenant, SetThroughput(phone.id, level="HIGH", maintenance_seconds=seconds))


# -- the control plane's view -------------------------------------------------------------------------------------


def document(tenant: Tenant, phone_number_id: str) -> dict[str, Any]:
    phone = _phone(tenant, phone_number_id)
    now = tenant.clock.now()
    quality = number_quality(tenant, phone.id)
    quality.expire(now, tenant.policy.quality.window_days)
    return {
        "phone_number_id": phone.id,
        "quality_rating": phone.quality_rating,
        "status": phone.status,
        "legacy_rules": legacy(tenant.policy.quality.rule, now),
        "messaging_limit_tier": messaging_limits.phone_tier(tenant, phone),
        "throughput": {"level": phone.throughput_level},
        "throughput_upgrade_eligible": eligible(tenant, phone),
        **quality.document(now),
    }
