"""Message templates (`GET /{template-id}`, `GET /{waba-id}/message_templates`) and their status
(meta-lifecycle.md §4)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


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
    parameter_format: str = "POSITIONAL"
    quality_score: str = QualityScore.UNKNOWN.value
    # Unix time the quality score was last set: Graph's `quality_score.date` (pywa requires it).
    quality_score_date: int | None = None
    rejected_reason: str = "NONE"
    sub_category: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

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
            "correct_category": None,
            "previous_category": None,
            "library_template_name": None,
            "cta_url_link_tracking_opted_out": False,
            "id": self.id,
        } | self.extra


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
