"""The WABA's policy review (SEED-VERIFY-2, meta-lifecycle.md §3.3): scheduled, decided, appealed; and what a WABA
under review or rejected may send.

Meta: "PENDING/DEFERRED: WABA currently cannot be used with our APIs"; a rejected WABA is disabled. So a REJECTED
WABA's numbers cannot send, and neither can a PENDING one's outside the trial; inside the trial a PENDING WABA
sends within the trial's limits (that is what the trial is).
"""

from __future__ import annotations

from sandbox.context import Tenant
from sandbox.domain.decision import PendingDecision, ReviewKind
from sandbox.domain.errors import Conflict, NotFound
from sandbox.domain.phone_number import PhoneNumber
from sandbox.domain.waba import REVIEW_LIFECYCLE, AccountReviewStatus, WhatsAppBusinessAccount
from sandbox.errors import GraphError, GraphErrorCode
from sandbox.services import decisions

REVIEW = ReviewKind.WABA_REVIEW.value
APPEAL = ReviewKind.WABA_APPEAL.value
APPROVED = AccountReviewStatus.APPROVED.value
PENDING = AccountReviewStatus.PENDING.value
REJECTED = AccountReviewStatus.REJECTED.value

_REVIEW_TRIGGERS = {"APPROVED": "approve", "REJECTED": "reject", "DEFERRED": "defer"}
_APPEAL_TRIGGERS = {"APPROVED": "accept_appeal", "REJECTED": "refuse_appeal"}


def start(tenant: Tenant, waba: WhatsAppBusinessAccount) -> PendingDecision:
    """Schedule the review of a PENDING WABA: latency uniform in `waba_review.latency`, approved with
    `waba_review.approval_probability`, else rejected (both drawn from the tenant's seeded generator)."""
    if waba.account_review_status != PENDING:
        raise Conflict(f"the WhatsApp Business Account {waba.id} is {waba.account_review_status}, not PENDING")
    policy = tenant.policy.waba_review
    low, high = policy.latency
    seconds = tenant.behaviour.uniform(low, high)
    decision = "APPROVED" if tenant.behaviour.random() < policy.approval_probability else "REJECTED"
    return decisions.schedule(tenant, REVIEW, waba.id, seconds, decision)


def appeal(tenant: Tenant, waba_id: str) -> PendingDecision:
    """Appeal a rejection (Business Support Home): decided in `waba_review.appeal_latency` (Wati: 24-48 h),
    accepted with `waba_review.appeal_acceptance_probability`."""
    waba = tenant.store.wabas.get(waba_id)
    if waba is None:
        raise NotFound(f"no WhatsApp Business Account {waba_id} in this tenant")
    if waba.account_review_status != REJECTED:
        raise Conflict(
            f"only a REJECTED WhatsApp Business Account can appeal; {waba_id} is {waba.account_review_status}"
        )
    if (APPEAL, waba_id) in tenant.store.decisions:
        raise Conflict(f"an appeal of {waba_id} is pending already (GET .../reviews shows when it is decided)")
    policy = tenant.policy.waba_review
    low, high = policy.appeal_latency
    seconds = tenant.behaviour.uniform(low, high)
    decision = "APPROVED" if tenant.behaviour.random() < policy.appeal_acceptance_probability else "REJECTED"
    return decisions.schedule(tenant, APPEAL, waba_id, seconds, decision)


def check_send(tenant: Tenant, phone: PhoneNumber) -> None:
    """Refuse a send from a number whose WABA may not be used (O(1): one lookup, one comparison when APPROVED).

    Code 131031 Account has been locked: Meta's description is "restricted or disabled for violating a platform
    policy", which is what a rejected review is; 368 is a temporary block, and a rejection is not temporary.
    """
    waba = tenant.store.wabas.get(phone.waba_id)
    if waba is None or waba.account_review_status == APPROVED:
        return
    if waba.account_review_status == REJECTED:
        raise GraphError(
            GraphErrorCode.ACCOUNT_LOCKED,
            f"The WhatsApp Business Account {waba.id} was rejected by Meta's policy review and is disabled; "
            f"appeal the decision to send again.",
        )
    if not tenant.policy.trial.enabled:
        raise GraphError(
            GraphErrorCode.ACCOUNT_LOCKED,
            f"The WhatsApp Business Account {waba.id} is under Meta's policy review (PENDING) and cannot be used "
            f"with the API until it is approved.",
        )


def _apply_review(tenant: Tenant, pending: PendingDecision) -> None:
    waba = tenant.store.wabas.get(pending.target)
    if waba is None:
        return
    if decisions.step(tenant, REVIEW_LIFECYCLE, waba, _REVIEW_TRIGGERS[pending.decision]) and (
        pending.decision == "DEFERRED"
    ):
        # Deferred is not decided: Meta looks again later.
        start(tenant, waba)


def _apply_appeal(tenant: Tenant, pending: PendingDecision) -> None:
    waba = tenant.store.wabas.get(pending.target)
    if waba is not None:
        decisions.step(tenant, REVIEW_LIFECYCLE, waba, _APPEAL_TRIGGERS[pending.decision])


decisions.reviewer(decisions.Reviewer(REVIEW, frozenset(_REVIEW_TRIGGERS), None, _apply_review))
decisions.reviewer(decisions.Reviewer(APPEAL, frozenset(_APPEAL_TRIGGERS), None, _apply_appeal))
