"""The business portfolio (`GET /{business-id}`) and its verification status (meta-lifecycle.md §3.1)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


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


@dataclass(slots=True)
class Business:
    id: str
    name: str
    verification_status: str = BusinessVerificationStatus.VERIFIED.value
    # The portfolio's messaging limit (domain/messaging_limit.py), moved by its lifecycle only.
    messaging_limit_tier: str = "TIER_250"

    def graph_fields(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "verification_status": self.verification_status}
