"""Display names under Meta's review (meta-lifecycle.md §2.9, SEED-NUMBER-5, §8 rows 7-8): the review of a new
number's name, of a declined name resubmitted, and of a change of an approved name (`new_display_name`).

A review is a pending decision of kind `display_name` on the number's id: its latency and outcome come from the
`display_names` policy group, and `POST /_sandbox/tenants/{tenant}/reviews` forces it. Approval issues the
certificate (`new_certificate` until the number registers again); each decision sends `phone_number_name_update`.
"""

from __future__ import annotations

from sandbox.context import Tenant
from sandbox.domain.decision import PendingDecision, ReviewKind
from sandbox.domain.phone_number import (
    NAME_LIFECYCLE,
    NAME_REJECTION_REASONS,
    NEW_NAME_LIFECYCLE,
    NameStatus,
    PhoneNumber,
)
from sandbox.errors import GraphError, GraphErrorCode
from sandbox.services import decisions

KIND = ReviewKind.DISPLAY_NAME.value
MAX_DISPLAY_NAME = 512
IN_PROGRESS = "Can't edit verified name: name verification already in progress."


def submit(tenant: Tenant, phone: PhoneNumber) -> PendingDecision:
    """Schedule the review of the number's pending name, decided as the policy says after its latency."""
    policy = tenant.policy.display_names
    low, high = policy.latency
    latency = tenant.behaviour.uniform(low, high)
    reason = policy.rejection_reason if policy.outcome == "REJECTED" else None
    return decisions.schedule(tenant, KIND, phone.id, latency, policy.outcome, reason)


def under_review(phone: PhoneNumber) -> bool:
    return NameStatus.PENDING_REVIEW in (phone.name_status, phone.new_name_status)


def check_name(phone: PhoneNumber, name: str) -> str:
    """The name to request, or Meta's refusal; changes nothing (`POST /{phone-number-id}` checks before it acts)."""
    name = name.strip()
    if not name or len(name) > MAX_DISPLAY_NAME:
        raise GraphError(
            GraphErrorCode.INVALID_PARAMETER,
            f"Your verified name violates WhatsApp guidelines: it must have 1 to {MAX_DISPLAY_NAME} characters.",
        )
    if under_review(phone):
        raise GraphError(GraphErrorCode.INVALID_PARAMETER, IN_PROGRESS, user_title="Name Review In Progress")
    return name


def request_display_name(tenant: Tenant, phone: PhoneNumber, name: str) -> None:
    """`new_display_name`: an approved name stays while the new one is reviewed (`new_name_status`); a declined,
    expired or never reviewed name is replaced and reviewed again (`name_status` PENDING_REVIEW)."""
    name = check_name(phone, name)
    now = tenant.clock.now()
    if phone.name_status == NameStatus.APPROVED:
        phone.new_display_name = name
        NEW_NAME_LIFECYCLE.fire(phone, "request", now)
    else:
        NAME_LIFECYCLE.fire(phone, "resubmit", now)
        phone.verified_name = name
        phone.new_display_name = None
    submit(tenant, phone)


def _apply(tenant: Tenant, pending: PendingDecision) -> None:
    phone = tenant.store.phone_numbers.get(pending.target)
    if phone is None:
        return
    trigger = "approve" if pending.decision == "APPROVED" else "decline"
    if phone.new_name_status == NameStatus.PENDING_REVIEW:
        decisions.step(tenant, NEW_NAME_LIFECYCLE, phone, trigger, pending.reason)
    elif phone.name_status == NameStatus.PENDING_REVIEW:
        decisions.step(tenant, NAME_LIFECYCLE, phone, trigger, pending.reason)


REVIEWER = decisions.reviewer(
    decisions.Reviewer(KIND, frozenset({"APPROVED", "REJECTED"}), NAME_REJECTION_REASONS, _apply)
)
