"""How an accepted message moves on: immediately, on a schedule drawn from the policy, or by hand.

Every step runs on the tenant clock; a step that is no longer legal (a test moved the message by hand) is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.context import Tenant
from sandbox.domain.customer import Customer
from sandbox.domain.lifecycle import InvalidTransition
from sandbox.domain.message import MESSAGE_LIFECYCLE, SENT_ONLY_TYPES, Message, MessageStatus, advance, fail
from sandbox.errors import GraphErrorCode
from sandbox.services import decisions, pricing


@dataclass(slots=True, eq=False)
class Progress:
    """One accepted message on its way: made once at send, handed to each of its scheduled moves (`clock.at`), so a
    move costs no closure of its own. A failure decided at send (code, details) is its first and only move."""

    tenant: Tenant
    message: Message
    customer: Customer
    failure: tuple[GraphErrorCode, str] | None


def _delay(tenant: Tenant, bounds: list[float]) -> float:
    if tenant.policy.messages.progression == "immediate":
        return 0.0
    low, high = bounds
    return low + (high - low) * tenant.behaviour.random()  # `Random.uniform`'s own formula, one call less


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
    progress = Progress(tenant, message, customer, failure)
    tenant.clock.later(delay, _failed if failure is not None else _sent_move, progress)


def _publish(tenant: Tenant, message: Message) -> None:
    tenant.publish(message.drain_events())


def _failed(progress: Progress) -> None:
    tenant, message = progress.tenant, progress.message
    code, details = progress.failure  # type: ignore[misc]
    try:
        fail(message, code, details, tenant.clock.now())
    except InvalidTransition:
        return
    _publish(tenant, message)


def _sent_move(progress: Progress) -> None:
    tenant, message, customer = progress.tenant, progress.message, progress.customer
    if not _step(tenant, message, "send"):
        return
    messages = tenant.policy.messages
    if message.type in SENT_ONLY_TYPES or messages.progression == "manual" or customer.delivery == "never":
        return
    delay = messages.slow_delivery_seconds if customer.delivery == "slow" else _delay(tenant, messages.delivered_delay)
    tenant.clock.later(delay, _read_at_once_move if customer.reads == "instant" else _delivered_move, progress)


def _read_at_once_move(progress: Progress) -> None:
    """Delivered and read at one instant (META-STATUS: `read` without `delivered`): charged as delivered."""
    if _step(progress.tenant, progress.message, "read"):
        pricing.delivered(progress.tenant, progress.message)


def _delivered_move(progress: Progress) -> None:
    tenant, message = progress.tenant, progress.message
    if not _step(tenant, message, "deliver"):
        return
    pricing.delivered(tenant, message)
    if progress.customer.reads == "never" or tenant.behaviour.random() >= tenant.policy.messages.read_probability:
        return
    tenant.clock.later(_delay(tenant, tenant.policy.messages.read_delay), _read_move, progress)


def _read_move(progress: Progress) -> None:
    _step(progress.tenant, progress.message, "read")


def _step(tenant: Tenant, message: Message, trigger: str) -> bool:
    return decisions.step(tenant, MESSAGE_LIFECYCLE, message, trigger)


# The moves as worlds saved before `Progress` schedule them (`partial(_sent, tenant, message, customer)`, ...):
# a data directory written by an earlier release goes on where it stopped.
def _fail(tenant: Tenant, message: Message, code: GraphErrorCode, details: str) -> None:
    _failed(Progress(tenant, message, None, (code, details)))  # type: ignore[arg-type]


def _sent(tenant: Tenant, message: Message, customer: Customer) -> None:
    _sent_move(Progress(tenant, message, customer, None))


def _read_at_once(tenant: Tenant, message: Message) -> None:
    _read_at_once_move(Progress(tenant, message, None, None))  # type: ignore[arg-type]


def _delivered(tenant: Tenant, message: Message, customer: Customer) -> None:
    _delivered_move(Progress(tenant, message, customer, None))


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
