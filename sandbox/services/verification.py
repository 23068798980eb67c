"""Business verification (SEED-VERIFY-1, -3; meta-lifecycle.md §3.1): submission on the control plane (Meta takes
it in Business Manager, not the Graph API), a scheduled decision, and what follows from it (`_after_decision`).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from sandbox.context import Tenant
from sandbox.domain.business import (
    VERIFICATION_LIFECYCLE,
    Business,
    BusinessVerificationStatus,
    VerificationReason,
)
from sandbox.domain.commands import SubmitVerification
from sandbox.domain.decision import PendingDecision, ReviewKind
from sandbox.domain.errors import Conflict, Invalid, NotFound
from sandbox.services import decisions, messaging_limits, trial, waba_review

KIND = ReviewKind.BUSINESS_VERIFICATION.value
S = BusinessVerificationStatus

_TRIGGERS = {"APPROVED": "approve", "REJECTED": "reject", "NEED_MORE_INFO": "need_more_info", "FAILED": "fail"}
_REJECTION_REASONS = tuple(reason.value for reason in VerificationReason if reason is not VerificationReason.NONE)
# Moves nobody submits: Meta's Security Center flow and what happens to a verification later (by hand).
MANUAL_TRIGGERS = ("start", "expire", "revoke", "make_ineligible")


def business_of(tenant: Tenant) -> Business:
    business = tenant.store.businesses.get(tenant.business_id)
    if business is None:
        raise NotFound("this tenant has no business portfolio")
    return business


def submit(tenant: Tenant, command: SubmitVerification) -> Business:
    """Submit the documents for review: from a state a submission may start from, or with the information the
    reviewer asked for (`pending_need_more_info`). Refused (Conflict) while a review is pending, after a rejection
    until `verification.resubmit_after_days` after the previous submission (SEED-VERIFY-3), and from a verified,
    revoked or ineligible business."""
    business = business_of(tenant)
    status = business.verification_status
    now = tenant.clock.now()
    if status == S.PENDING:
        raise Conflict("a verification of this business is pending already; its decision is due first")
    if status == S.REJECTED:
        opens_at = resubmission_opens_at(tenant, business)
        if opens_at is not None and now < opens_at:
            raise Conflict(
                f"the documents were rejected: they can be submitted again from {opens_at.isoformat()} "
                f"({tenant.policy.verification.resubmit_after_days} days after the previous submission)"
            )
    trigger = "provide_info" if status == S.PENDING_NEED_MORE_INFO else "submit"
    if trigger not in VERIFICATION_LIFECYCLE.triggers(status):
        raise Conflict(f"a {status} business cannot submit its verification")
    VERIFICATION_LIFECYCLE.fire(business, trigger, now, command.documents)
    tenant.publish(business.drain_events())
    seconds, decision, reason = _draw(tenant)
    decisions.schedule(tenant, KIND, business.id, seconds, decision, reason)
    return business


def move(tenant: Tenant, trigger: str) -> Business:
    """One of `MANUAL_TRIGGERS` by hand (a pending review ends with it when it leaves `pending`)."""
    if trigger not in MANUAL_TRIGGERS:
        raise Invalid(f"a verification moves by hand with {', '.join(MANUAL_TRIGGERS)}, not {trigger!r}")
    business = business_of(tenant)
    VERIFICATION_LIFECYCLE.fire(business, trigger, tenant.clock.now())
    if business.verification_status != S.PENDING:
        decisions.cancel(tenant, KIND, business.id)
    tenant.publish(business.drain_events())
    _after_decision(tenant, business)
    return business


def resubmission_opens_at(tenant: Tenant, business: Business) -> datetime | None:
    """When a rejected business may submit again: `resubmit_after_days` after its previous submission."""
    last = business.last_submission
    if business.verification_status != S.REJECTED or last is None:
        return None
    return last.submitted_at + timedelta(days=tenant.policy.verification.resubmit_after_days)


def document(tenant: Tenant) -> dict[str, Any]:
    """The verification as the control plane shows it: status, the pending decision's due time, the history."""
    business = business_of(tenant)
    last = business.last_submission
    pending = tenant.store.decisions.get((KIND, business.id))
    return {
        "business_id": business.id,
        "status": business.verification_status,
        "submitted_at": last.submitted_at if last else None,
        "decision_due_at": pending.due_at if pending else None,
        "resubmit_opens_at": resubmission_opens_at(tenant, business),
        "submissions": [submission.document() for submission in reversed(business.submissions)],
    }


def _draw(tenant: Tenant) -> tuple[float, str, str]:
    """Latency (lognormal, clipped), decision and reason, from the tenant's seeded generator, in that order."""
    policy = tenant.policy.verification
    rng = tenant.behaviour
    low, high = policy.latency_bounds
    seconds = min(max(rng.lognormvariate(math.log(policy.latency_median_seconds), policy.latency_sigma), low), high)
    if rng.random() < policy.approval_probability:
        return seconds, "APPROVED", VerificationReason.NONE.value
    return seconds, "REJECTED", rng.choice(_REJECTION_REASONS)


def _apply(tenant: Tenant, pending: PendingDecision) -> None:
    business = tenant.store.businesses.get(pending.target)
    if business is None:
        return
    reason = pending.reason if pending.decision != "APPROVED" else None
    if decisions.step(tenant, VERIFICATION_LIFECYCLE, business, _TRIGGERS[pending.decision], reason):
        _after_decision(tenant, business)


def _after_decision(tenant: Tenant, business: Business) -> None:
    """Everything that follows from a change of the business's verification, in one place.

    - `account_mode` of the WABAs and numbers: LIVE once verified, SANDBOX otherwise (`trial.verification_changed`).
    - SEED-VERIFY-2: once verified in the trial era, Meta reviews the WABA's compliance, a second review; each
      PENDING WABA of the business without a review under way gets one.
    - Verification is a scaling path of the messaging limit (§3.6): a TIER_250 portfolio's review is scheduled.
    """
    trial.verification_changed(tenant)
    if business.verification_status == S.VERIFIED:
        messaging_limits.business_verified(tenant, business.id)
    if business.verification_status == S.VERIFIED and tenant.policy.trial.enabled:
        for waba in tenant.store.wabas:
            if (
                waba.business_id == business.id
                and waba.account_review_status == waba_review.PENDING
                and (waba_review.REVIEW, waba.id) not in tenant.store.decisions
            ):
                waba_review.start(tenant, waba)


decisions.reviewer(
    decisions.Reviewer(KIND, frozenset(_TRIGGERS), frozenset(r.value for r in VerificationReason), _apply)
)
