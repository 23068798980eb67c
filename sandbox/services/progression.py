"""How an accepted message moves on: immediately, on a schedule drawn from the policy, or by hand.

Every step runs on the tenant clock; a step that is no longer legal (a test moved the message by hand) is skipped.
"""

from __future__ import annotations

from functools import partial

from sandbox.context import Tenant
from sandbox.domain.customer import Customer
from sandbox.domain.lifecycle import InvalidTransition
from sandbox.domain.message import MESSAGE_LIFECYCLE, SENT_ONLY_TYPES, Message, MessageStatus, advance, fail
from sandbox.errors import GraphErrorCode
from sandbox.services import decisions, pricing


def _delay(tenant: Tenant, bounds: list[float]) -> float:
    if tenant.policy.messages.progression == "immediate":
        return 0.0
    low, high = bounds
    return tenant.behaviour.uniform(low, high)


def start(
    tenant: Tenant,
    message: Message,
    customer: Customer,
    failure: tuple[GraphErrorCode, str] | None,
    extra_delay: float = 0.0,
) -> None:
    """Schedule the platform's first move: `sent`, or `failed` for what Meta decides at delivery time
    (`extra_delay` seconds later still: an injected fault's latency)."""
    delay = _delay(tenant, tenant.policy.messages.sent_delay) + extra_delay
    if failure is not None:
        code, details = failure
        tenant.clock.call_later(delay, partial(_fail, tenant, message, code, details))
        return
    tenant.clock.call_later(delay, partial(_sent, tenant, message, customer))


def _publish(tenant: Tenant, message: Message) -> None:
    tenant.publish(message.drain_events())


def _fail(tenant: Tenant, message: Message, code: GraphErrorCode, details: str | None) -> None:
    try:
        fail(message, code, details, tenant.clock.now())
    except InvalidTransition:
        return
    _publish(tenant, message)


def _sent(tenant: Tenant, message: Message, customer: Customer) -> None:
    if not _step(tenant, message, "send"):
        return
    if (
        message.type in SENT_ONLY_TYPES
        or tenant.policy.messages.progression == "manual"
        or customer.delivery == "never"
    ):
        return
    if customer.delivery == "slow":
        delay = tenant.policy.messages.slow_delivery_seconds
    else:
        delay = _delay(tenant, tenant.policy.messages.delivered_delay)
    if customer.reads == "instant":
        tenant.clock.call_later(delay, partial(_read_at_once, tenant, message))
        return
    tenant.clock.call_later(delay, partial(_delivered, tenant, message, customer))


def _read_at_once(tenant: Tenant, message: Message) -> None:
    """Delivered and read at one instant (META-STATUS: `read` without `delivered`): charged as delivered."""
    if _step(tenant, message, "read"):
        pricing.delivered(tenant, message)


def _delivered(tenant: Tenant, message: Message, customer: Customer) -> None:
    if not _step(tenant, message, "deliver"):
        return
    pricing.delivered(tenant, message)
    if customer.reads == "never" or tenant.behaviour.random() >= tenant.policy.messages.read_probability:
        return
    tenant.clock.call_later(_delay(tenant, tenant.policy.messages.read_delay), partial(_step, tenant, message, "read"))


def _step(tenant: Tenant, message: Message, trigger: str) -> bool:
    return decisions.step(tenant, MESSAGE_LIFECYCLE, message, trigger)


def move_by_hand(
    tenant: Tenant, message: Message, action: str, code: GraphErrorCode | None, details: str | None
) -> None:
    """The control plane's manual progression: any trigger of the message lifecycle now (an accepted message is
    sent first; raises `InvalidTransition`)."""
    now = tenant.clock.now()
    if action == "fail":
        fail(message, code or GraphErrorCode.SOMETHING_WENT_WRONG, details, now)
    else:
        if message.status == MessageStatus.ACCEPTED and action != "send":
            advance(message, "send", now)
        advance(message, action, now)
        if action in ("deliver", "read"):
            pricing.delivered(tenant, message)
    _publish(tenant, message)
