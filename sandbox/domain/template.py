"""Message templates (`GET /{template-id}`, `GET /{waba-id}/message_templates`) and their status lifecycle
(meta-lifecycle.md §4.5, §4.7, §4.9).

Every move of Meta's table is declared here, including those only later work triggers (edits, pausing, deletion,
archiving). Each move raises `TemplateStatusChanged`, rendered as `message_template_status_update`; a review that
re-categorises raises `TemplateCategoryChanged` (`template_category_update`) before the approval.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sandbox.domain.events import Event, TemplateCategoryChanged, TemplateStatusChanged
from sandbox.domain.lifecycle import declare


class TemplateStatus(StrEnum):
    """Graph's template `status` enum (meta-lifecycle.md §4.5)."""

    APPROVED = "APPROVED"
    IN_APPEAL = "IN_APPEAL"
    PENDING = "PENDING"
    REJECTED = "REJECTED"
    PENDING_DELETION = "PENDING_DELETION"
    DELETED = "DELETED"
    DISABLED = "DISABLED"
    PAUSED = "PAUSED"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
    ARCHIVED = "ARCHIVED"


class QualityScore(StrEnum):
    """A template's `quality_score.score` (meta-lifecycle.md §4.8)."""

    GREEN = "GREEN"
    YELLOW = "YELLOW"
    RED = "RED"
    UNKNOWN = "UNKNOWN"


class TemplateCategory(StrEnum):
    MARKETING = "MARKETING"
    UTILITY = "UTILITY"
    AUTHENTICATION = "AUTHENTICATION"


class RejectionReason(StrEnum):
    """`reason` / `rejected_reason` (§4.6); NONE when approved or paused."""

    ABUSIVE_CONTENT = "ABUSIVE_CONTENT"
    INVALID_FORMAT = "INVALID_FORMAT"
    PROMOTIONAL = "PROMOTIONAL"
    TAG_CONTENT_MISMATCH = "TAG_CONTENT_MISMATCH"
    SCAM = "SCAM"
    INCORRECT_CATEGORY = "INCORRECT_CATEGORY"
    CATEGORY_NOT_AVAILABLE = "CATEGORY_NOT_AVAILABLE"
    NONE = "NONE"


class ParameterFormat(StrEnum):
    POSITIONAL = "POSITIONAL"
    NAMED = "NAMED"


# Meta's `rejection_info` accompanies INVALID_FORMAT rejections only (§4.9, Meta's example wording).
REJECTION_INFO = {
    RejectionReason.INVALID_FORMAT.value: {
        "reason": "Your template has parameters placed next to each other (like {{1}}{{2}}) without text or "
        "punctuation between them.",
        "recommendation": "Separate parameters with descriptive text and ensure each parameter is clearly "
        "contextualized.",
    }
}

S = TemplateStatus
# Meta refuses to delete a DISABLED template (§4.4); a deleted one is gone.
DELETABLE = [state for state in S if state not in (S.DISABLED, S.DELETED)]

TEMPLATE_LIFECYCLE = declare(
    "message_template.status",
    "status",
    TemplateStatus,
    [
        {"trigger": "approve", "source": [S.PENDING, S.IN_APPEAL], "dest": S.APPROVED, "after": "moved"},
        {"trigger": "reject", "source": [S.PENDING, S.IN_APPEAL], "dest": S.REJECTED, "after": "moved"},
        {"trigger": "exceed_limit", "source": S.PENDING, "dest": S.LIMIT_EXCEEDED, "after": "moved"},
        {"trigger": "appeal", "source": S.REJECTED, "dest": S.IN_APPEAL, "after": "moved"},
        {"trigger": "edit", "source": [S.APPROVED, S.REJECTED, S.PAUSED], "dest": S.PENDING, "after": "moved"},
        {"trigger": "pause", "source": S.APPROVED, "dest": S.PAUSED, "after": "moved"},
        {"trigger": "unpause", "source": S.PAUSED, "dest": S.APPROVED, "after": "moved"},
        {"trigger": "disable", "source": [S.APPROVED, S.PAUSED], "dest": S.DISABLED, "after": "moved"},
        {"trigger": "reinstate", "source": S.DISABLED, "dest": S.APPROVED, "after": "reinstated"},
        {"trigger": "archive", "source": S.APPROVED, "dest": S.ARCHIVED, "after": "moved"},
        {"trigger": "unarchive", "source": S.ARCHIVED, "dest": S.APPROVED, "after": "unarchived"},
        {"trigger": "schedule_deletion", "source": DELETABLE, "dest": S.PENDING_DELETION, "after": "deletion"},
        {"trigger": "delete", "source": DELETABLE, "dest": S.DELETED, "after": "deletion"},
        {"trigger": "finish_deletion", "source": S.PENDING_DELETION, "dest": S.DELETED, "after": "deletion"},
    ],
    "A message template's review, quality pauses, archiving and deletion (§4.5); every move sends "
    "message_template_status_update.",
)

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")


@dataclass(slots=True)
class MessageTemplate:
    id: str
    waba_id: str
    name: str
    language: str
    category: str
    components: list[dict[str, Any]]
    status: str = TemplateStatus.APPROVED.value
    parameter_format: str = ParameterFormat.POSITIONAL.value
    quality_score: str = QualityScore.UNKNOWN.value
    # Unix time the quality score was last set: Graph's `quality_score.date` (pywa requires it).
    quality_score_date: int | None = None
    rejected_reason: str = RejectionReason.NONE.value
    sub_category: str | None = None
    allow_category_change: bool = False
    # The category asked for, once a review changed it; the category Meta thinks right, when it refused it.
    previous_category: str | None = None
    correct_category: str | None = None
    created_at: datetime | None = None
    # When the template left the WABA: its name and language stay blocked for a while (§4.4, 2388023).
    deleted_at: datetime | None = None
    # When an APPROVED template was edited (Meta counts them per 24 hours and 30 days, §4.3), and when it was last
    # sent to review (the provider's once-a-day rule, SEED-TEMPLATE-3).
    approved_edits: list[datetime] = field(default_factory=list)
    submitted_at: datetime | None = None
    # The id of the review rule that decided it (domain/template_review.py), for the tenant's state.
    review_rule: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    pending_events: list[Event] = field(default_factory=list)

    def placeholders(self, component_type: str) -> list[str]:
        """The `{{n}}` or `{{name}}` variables of one component (`BODY`, `HEADER`)."""
        for component in self.components:
            if str(component.get("type", "")).upper() == component_type.upper():
                return _PLACEHOLDER.findall(str(component.get("text", "")))
        return []

    def buttons(self) -> list[dict[str, Any]]:
        for component in self.components:
            if str(component.get("type", "")).upper() == "BUTTONS":
                return list(component.get("buttons", []))
        return []

    @property
    def counts_toward_limit(self) -> bool:
        return self.status != TemplateStatus.DELETED

    # -- lifecycle callbacks: the time of the move first (lifecycle.py) ------------------------------------------

    def moved(
        self,
        at: datetime,
        reason: str | None = RejectionReason.NONE.value,
        other_info: dict[str, str] | None = None,
        disable_info: dict[str, int] | None = None,
    ) -> None:
        reason = reason or RejectionReason.NONE.value
        if self.status in (S.APPROVED, S.REJECTED):
            self.rejected_reason = reason
        rejection_info = REJECTION_INFO.get(reason) if self.status == S.REJECTED else None
        self._raise(at, self.status, reason, rejection_info, other_info, disable_info)

    def reinstated(self, at: datetime) -> None:
        self._raise(at, "REINSTATED", RejectionReason.NONE.value)

    def unarchived(self, at: datetime) -> None:
        self._raise(at, "UNARCHIVED", RejectionReason.NONE.value)

    def deletion(self, at: datetime) -> None:
        if self.deleted_at is None:
            self.deleted_at = at
        # Meta's deletion events carry `reason: null` (§4.9).
        self._raise(at, self.status, None)

    def recategorise(self, at: datetime, category: str) -> None:
        """The review approves the template in another category (§4.7: completed change)."""
        previous, self.previous_category, self.category = self.category, self.category, category
        self.correct_category = None
        self.pending_events.append(
            TemplateCategoryChanged(at, template=self, new_category=category, previous_category=previous)
        )

    def _raise(
        self,
        at: datetime,
        event: str,
        reason: str | None,
        rejection_info: dict[str, str] | None = None,
        other_info: dict[str, str] | None = None,
        disable_info: dict[str, int] | None = None,
    ) -> None:
        self.pending_events.append(
            TemplateStatusChanged(
                at,
                template=self,
                event=event,
                reason=reason,
                rejection_info=rejection_info,
                other_info=other_info,
                disable_info=disable_info,
            )
        )

    def drain_events(self) -> list[Event]:
        events, self.pending_events = self.pending_events, []
        return events

    def graph_fields(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "parameter_format": self.parameter_format,
            "components": self.components,
            "language": self.language,
            "status": self.status,
            "category": self.category,
            "sub_category": self.sub_category,
            "quality_score": {"score": self.quality_score}
            | ({"date": self.quality_score_date} if self.quality_score_date is not None else {}),
            "rejected_reason": self.rejected_reason,
            "message_send_ttl_seconds": None,
            "correct_category": self.correct_category,
            "previous_category": self.previous_category,
            "library_template_name": None,
            "cta_url_link_tracking_opted_out": False,
            "id": self.id,
        } | self.extra


def state_fields(template: MessageTemplate) -> dict[str, Any]:
    """The template in the tenant's state: Graph's fields and the review rule that decided it."""
    extra = {"review_rule": template.review_rule} if template.review_rule is not None else {}
    return template.graph_fields() | extra


def hello_world(template_id: str, waba_id: str) -> MessageTemplate:
    """The sample template every new WABA has, approved (`hello_world`, `en_US`)."""
    return MessageTemplate(
        id=template_id,
        waba_id=waba_id,
        name="hello_world",
        language="en_US",
        category=TemplateCategory.UTILITY.value,
        components=[
            {"type": "HEADER", "format": "TEXT", "text": "Hello World"},
            {
                "type": "BODY",
                "text": "Welcome and congratulations!! This message demonstrates your ability to send a WhatsApp "
                "message notification from the Cloud API, hosted by Meta. Thank you for taking the time to test "
                "with us.",
            },
            {"type": "FOOTER", "text": "WhatsApp Business Platform sample message"},
        ],
        quality_score=QualityScore.GREEN.value,
    )
