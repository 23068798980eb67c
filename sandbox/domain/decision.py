"""Decisions Meta takes later: a review pending on the tenant clock, with when it falls due and what it will say.

The humans at Meta (control-plane.md "Reviews") decide business verification, the WABA review, display names and
templates after a latency; each lifecycle's service schedules its reviews through `sandbox.services.decisions`,
which keeps one `PendingDecision` per (kind, target) until it is decided, forced or cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


class ReviewKind(StrEnum):
    """The `kind` of `POST /_sandbox/tenants/{tenant}/reviews` (control-plane.md)."""

    BUSINESS_VERIFICATION = "business_verification"
    WABA_REVIEW = "waba_review"
    WABA_APPEAL = "waba_appeal"
    DISPLAY_NAME = "display_name"
    TEMPLATE = "template"
    MESSAGING_LIMIT = "messaging_limit"


class Cancellable(Protocol):
    def cancel(self) -> None: ...


@dataclass(slots=True, eq=False)
class PendingDecision:
    """A review of `target` (an object id) submitted at `submitted_at`, due at `due_at`, that will end with
    `decision` (and `reason`) unless forced otherwise; `handle` cancels its scheduled call."""

    kind: str
    target: str
    decision: str
    reason: str | None
    submitted_at: datetime
    due_at: datetime
    handle: Cancellable | None = None
    forced: bool = False

    def document(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "target": self.target,
            "submitted_at": self.submitted_at,
            "due_at": self.due_at,
            "decision": self.decision,
            "reason": self.reason,
        }
