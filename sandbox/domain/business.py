"""The business portfolio (`GET /{business-id}`) and its verification (meta-lifecycle.md §3.1, SEED-VERIFY-1, -3).

Meta documents the `verification_status` enum but not its moves; the table below is §3.1's inferred model.
Meta sends no webhook for a Business-Manager verification decision (only a BSP, 8x8, documents one), so the
callbacks raise `BusinessVerificationDecided`, a silent event: published for what follows from it, rendered to
nothing.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sandbox.domain.events import BusinessVerificationDecided, Event
from sandbox.domain.lifecycle import declare

# A business resubmits at most every few weeks; the history keeps the newest ones.
MAX_SUBMISSIONS = 20


class BusinessVerificationStatus(StrEnum):
    """Graph's `verification_status` enum, in Meta's lower-case wire form."""

    NOT_VERIFIED = "not_verified"
    PENDING_SUBMISSION = "pending_submission"
    PENDING = "pending"
    PENDING_NEED_MORE_INFO = "pending_need_more_info"
    VERIFIED = "verified"
    REJECTED = "rejected"
    FAILED = "failed"
    EXPIRED = "expired"
    INELIGIBLE = "ineligible"
    REVOKED = "revoked"


class VerificationDecision(StrEnum):
    """What the reviewer of a submission decides (the `decision` of `POST .../reviews`)."""

    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    NEED_MORE_INFO = "NEED_MORE_INFO"
    FAILED = "FAILED"


class VerificationReason(StrEnum):
    """Meta's rejection reasons (partner-led verification reference, §3.1), in their underscore form."""

    ADDRESS_NOT_MATCHING = "ADDRESS_NOT_MATCHING"
    BUSINESS_NOT_ELIGIBLE = "BUSINESS_NOT_ELIGIBLE"
    LEGAL_NAME_NOT_MATCHING = "LEGAL_NAME_NOT_MATCHING"
    LEGAL_NAME_NOT_FOUND_IN_DOCUMENTS = "LEGAL_NAME_NOT_FOUND_IN_DOCUMENTS"
    MALFORMED_DOCUMENTS = "MALFORMED_DOCUMENTS"
    WEBSITE_NOT_MATCHING = "WEBSITE_NOT_MATCHING"
    NONE = "NONE"


S = BusinessVerificationStatus
# The states a submission may start from; `rejected` only 35 days after the previous one (the service checks).
SUBMITTABLE = (S.NOT_VERIFIED, S.PENDING_SUBMISSION, S.REJECTED, S.FAILED, S.EXPIRED)
NOT_FINAL = (
    S.NOT_VERIFIED,
    S.PENDING_SUBMISSION,
    S.PENDING,
    S.PENDING_NEED_MORE_INFO,
    S.VERIFIED,
    S.REJECTED,
    S.FAILED,
    S.EXPIRED,
)

VERIFICATION_LIFECYCLE = declare(
    "business.verification_status",
    "verification_status",
    BusinessVerificationStatus,
    [
        {"trigger": "start", "source": S.NOT_VERIFIED, "dest": S.PENDING_SUBMISSION},
        {"trigger": "submit", "source": list(SUBMITTABLE), "dest": S.PENDING, "after": "submitted"},
        {"trigger": "need_more_info", "source": S.PENDING, "dest": S.PENDING_NEED_MORE_INFO, "after": "decided"},
        {"trigger": "provide_info", "source": S.PENDING_NEED_MORE_INFO, "dest": S.PENDING, "after": "submitted"},
        {"trigger": "approve", "source": S.PENDING, "dest": S.VERIFIED, "after": "decided"},
        {"trigger": "reject", "source": S.PENDING, "dest": S.REJECTED, "after": "decided"},
        {"trigger": "fail", "source": S.PENDING, "dest": S.FAILED, "after": "decided"},
        {"trigger": "expire", "source": S.VERIFIED, "dest": S.EXPIRED, "after": "decided"},
        {"trigger": "revoke", "source": S.VERIFIED, "dest": S.REVOKED, "after": "decided"},
        {"trigger": "make_ineligible", "source": list(NOT_FINAL), "dest": S.INELIGIBLE, "after": "decided"},
    ],
    "The business portfolio's verification in Business Manager (inferred model of §3.1; Meta sends no webhook).",
)

# The decision each state a callback lands in stands for, as the submission history and the event show it.
_DECISION = {
    S.PENDING_NEED_MORE_INFO: "NEED_MORE_INFO",
    S.VERIFIED: "APPROVED",
    S.REJECTED: "REJECTED",
    S.FAILED: "FAILED",
    S.EXPIRED: "EXPIRED",
    S.REVOKED: "REVOKED",
    S.INELIGIBLE: "INELIGIBLE",
}


@dataclass(frozen=True, slots=True)
class Documents:
    """What SEED-VERIFY-1 asks for: an official identity document, a business e-mail address and a phone number."""

    identity_document: str
    business_email: str
    phone_number: str


@dataclass(slots=True)
class Submission:
    """One round of review: when the documents went in and, once decided, when and how."""

    submitted_at: datetime
    documents: Documents
    decided_at: datetime | None = None
    decision: str | None = None
    reasons: tuple[str, ...] = ()

    def document(self) -> dict[str, Any]:
        return {
            "submitted_at": self.submitted_at,
            "decided_at": self.decided_at,
            "decision": self.decision,
            "reasons": list(self.reasons),
        }


@dataclass(slots=True)
class Business:
    id: str
    name: str
    verification_status: str = BusinessVerificationStatus.VERIFIED.value
    submissions: deque[Submission] = field(default_factory=lambda: deque(maxlen=MAX_SUBMISSIONS))
    pending_events: list[Event] = field(default_factory=list)
    # The portfolio's messaging limit (domain/messaging_limit.py), moved by its lifecycle only.
    messaging_limit_tier: str = "TIER_250"

    @property
    def last_submission(self) -> Submission | None:
        return self.submissions[-1] if self.submissions else None

    def submitted(self, at: datetime, documents: Documents) -> None:
        self.submissions.append(Submission(at, documents))

    def decided(self, at: datetime, reason: str | None = None) -> None:
        decision = _DECISION[BusinessVerificationStatus(self.verification_status)]
        reasons = (reason,) if reason else (VerificationReason.NONE.value,)
        last = self.last_submission
        # Expiry, revocation and ineligibility happen after the decision; they do not rewrite its record.
        if last is not None and last.decided_at is None:
            last.decided_at, last.decision, last.reasons = at, decision, reasons
        self.pending_events.append(
            BusinessVerificationDecided(
                at, business_id=self.id, status=self.verification_status, decision=decision, reasons=reasons
            )
        )

    def drain_events(self) -> list[Event]:
        events, self.pending_events = self.pending_events, []
        return events

    def graph_fields(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "verification_status": self.verification_status}
