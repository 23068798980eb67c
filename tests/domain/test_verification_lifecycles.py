"""The tables of business verification (§3.1) and the WABA review (§3.3): every trigger from every state, the
allowed ones move (with their record and event), the others raise `InvalidTransition` and change nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sandbox.domain.business import (
    MAX_SUBMISSIONS,
    VERIFICATION_LIFECYCLE,
    Business,
    BusinessVerificationStatus,
    Documents,
)
from sandbox.domain.events import AccountReviewDecided, BusinessVerificationDecided
from sandbox.domain.lifecycle import InvalidTransition
from sandbox.domain.waba import REVIEW_LIFECYCLE, AccountReviewStatus, WhatsAppBusinessAccount

AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DOCUMENTS = Documents("passport.pdf", "owner@example.com", "+1 555 010 0000")
V = BusinessVerificationStatus
NON_FINAL = [s for s in V if s not in (V.INELIGIBLE, V.REVOKED)]

VERIFICATION_MOVES = {
    ("start", V.NOT_VERIFIED): V.PENDING_SUBMISSION,
    **{("submit", s): V.PENDING for s in (V.NOT_VERIFIED, V.PENDING_SUBMISSION, V.REJECTED, V.FAILED, V.EXPIRED)},
    ("need_more_info", V.PENDING): V.PENDING_NEED_MORE_INFO,
    ("provide_info", V.PENDING_NEED_MORE_INFO): V.PENDING,
    ("approve", V.PENDING): V.VERIFIED,
    ("reject", V.PENDING): V.REJECTED,
    ("fail", V.PENDING): V.FAILED,
    ("expire", V.VERIFIED): V.EXPIRED,
    ("revoke", V.VERIFIED): V.REVOKED,
    **{("make_ineligible", s): V.INELIGIBLE for s in NON_FINAL},
}
VERIFICATION_TRIGGERS = sorted({trigger for trigger, _ in VERIFICATION_MOVES})

R = AccountReviewStatus
REVIEW_MOVES = {
    ("approve", R.PENDING): (R.APPROVED, "APPROVED"),
    ("reject", R.PENDING): (R.REJECTED, "REJECTED"),
    ("defer", R.PENDING): (R.PENDING, "DEFERRED"),
    ("accept_appeal", R.REJECTED): (R.APPROVED, "APPROVED"),
    ("refuse_appeal", R.REJECTED): (R.REJECTED, "REJECTED"),
}
REVIEW_TRIGGERS = sorted({trigger for trigger, _ in REVIEW_MOVES})


def _args(trigger: str) -> tuple[object, ...]:
    return (DOCUMENTS,) if trigger in ("submit", "provide_info") else ()


@pytest.mark.parametrize("status", list(V))
@pytest.mark.parametrize("trigger", VERIFICATION_TRIGGERS)
def test_verification_table(trigger: str, status: V) -> None:
    business = Business("b1", "Acme", status.value)
    dest = VERIFICATION_MOVES.get((trigger, status))
    if dest is None:
        with pytest.raises(InvalidTransition):
            VERIFICATION_LIFECYCLE.fire(business, trigger, AT, *_args(trigger))
        assert business.verification_status == status and not business.submissions and not business.pending_events
        return
    VERIFICATION_LIFECYCLE.fire(business, trigger, AT, *_args(trigger))
    assert business.verification_status == dest
    events = business.drain_events()
    if trigger in ("submit", "provide_info"):
        assert [s.submitted_at for s in business.submissions] == [AT] and events == []
    elif trigger == "start":
        assert events == []
    else:
        assert [type(e) for e in events] == [BusinessVerificationDecided]
        assert events[0].status == dest and events[0].business_id == "b1"


def test_a_decision_is_recorded_on_its_submission_with_its_reason() -> None:
    business = Business("b1", "Acme", V.NOT_VERIFIED.value)
    VERIFICATION_LIFECYCLE.fire(business, "submit", AT, DOCUMENTS)
    VERIFICATION_LIFECYCLE.fire(business, "reject", AT, "MALFORMED_DOCUMENTS")
    VERIFICATION_LIFECYCLE.fire(business, "submit", AT, DOCUMENTS)
    VERIFICATION_LIFECYCLE.fire(business, "approve", AT)
    VERIFICATION_LIFECYCLE.fire(business, "revoke", AT)
    assert [s.document() for s in business.submissions] == [
        {"submitted_at": AT, "decided_at": AT, "decision": "REJECTED", "reasons": ["MALFORMED_DOCUMENTS"]},
        {"submitted_at": AT, "decided_at": AT, "decision": "APPROVED", "reasons": ["NONE"]},
    ]
    assert [e.decision for e in business.drain_events()] == ["REJECTED", "APPROVED", "REVOKED"]


def test_the_submission_history_is_bounded() -> None:
    business = Business("b1", "Acme", V.NOT_VERIFIED.value)
    for _ in range(MAX_SUBMISSIONS + 5):
        VERIFICATION_LIFECYCLE.fire(business, "submit", AT, DOCUMENTS)
        VERIFICATION_LIFECYCLE.fire(business, "fail", AT)
    assert len(business.submissions) == MAX_SUBMISSIONS


@pytest.mark.parametrize("status", list(R))
@pytest.mark.parametrize("trigger", REVIEW_TRIGGERS)
def test_review_table(trigger: str, status: R) -> None:
    waba = WhatsAppBusinessAccount("w1", "Acme", "b1", account_review_status=status.value)
    move = REVIEW_MOVES.get((trigger, status))
    if move is None:
        with pytest.raises(InvalidTransition):
            REVIEW_LIFECYCLE.fire(waba, trigger, AT)
        assert waba.account_review_status == status and not waba.pending_events
        return
    REVIEW_LIFECYCLE.fire(waba, trigger, AT)
    dest, decision = move
    assert waba.account_review_status == dest
    assert waba.drain_events() == [AccountReviewDecided(AT, waba_id="w1", decision=decision)]


def test_the_waba_shows_its_business_verification_as_it_stands() -> None:
    business = Business("b1", "Acme", V.PENDING.value)
    waba = WhatsAppBusinessAccount("w1", "Acme", "b1")
    assert waba.graph_fields(business)["business_verification_status"] == "pending"
    business.verification_status = V.VERIFIED.value
    assert waba.graph_fields(business)["business_verification_status"] == "verified"
