"""Facts the domain records, one type per webhook Meta sends; services hand them to the webhook outbox, which
renders each type into its field (sandbox/webhooks/payloads.py for `messages`, sandbox/webhooks/fields.py for the
account-side fields). Shapes: meta-messaging.md §4.4-§4.5, meta-lifecycle.md §2.8, §2.9, §3.3-§3.7, §4.7-§4.9.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from sandbox.domain.message import Message
    from sandbox.domain.phone_number import PhoneNumber
    from sandbox.domain.template import MessageTemplate


@dataclass(frozen=True, slots=True)
class MessageStatusChanged:
    message: Message
    status: str
    at: datetime


@dataclass(frozen=True, slots=True)
class MessageReceived:
    message: Message
    profile_name: str
    user_id: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class AccountEvent:
    """An account-side webhook: `field` names it, `at` is the entry's `time`; subclasses carry the facts."""

    field: ClassVar[str]
    at: datetime


@dataclass(frozen=True, slots=True)
class TemplateStatusChanged(AccountEvent):
    """`message_template_status_update`: `event` ∈ APPROVED, REJECTED, PENDING, PAUSED, DISABLED, FLAGGED,
    REINSTATED, PENDING_DELETION, DELETED, ...; `reason` is None for deletion-scheduled events (§4.9)."""

    field: ClassVar[str] = "message_template_status_update"
    template: MessageTemplate
    event: str
    reason: str | None = "NONE"
    rejection_info: dict[str, str] | None = None
    other_info: dict[str, str] | None = None
    disable_info: dict[str, int] | None = None


@dataclass(frozen=True, slots=True)
class TemplateQualityChanged(AccountEvent):
    """`message_template_quality_update` (§4.8)."""

    field: ClassVar[str] = "message_template_quality_update"
    template: MessageTemplate
    previous: str
    new: str


@dataclass(frozen=True, slots=True)
class TemplateComponentsChanged(AccountEvent):
    """`message_template_components_update`: a template was edited (§4.9)."""

    field: ClassVar[str] = "message_template_components_update"
    template: MessageTemplate


@dataclass(frozen=True, slots=True)
class TemplateCategoryChanged(AccountEvent):
    """`template_category_update`: a completed change has `previous_category` and `new_category`; an impending one
    `new_category` (the current one), `correct_category` and `category_update_timestamp` (§4.7)."""

    field: ClassVar[str] = "template_category_update"
    template: MessageTemplate
    new_category: str
    previous_category: str | None = None
    correct_category: str | None = None
    category_update_timestamp: int | None = None


@dataclass(frozen=True, slots=True)
class DisplayNameDecided(AccountEvent):
    """`phone_number_name_update`: the review of a requested display name (§2.9)."""

    field: ClassVar[str] = "phone_number_name_update"
    phone: PhoneNumber
    decision: str
    requested_verified_name: str
    rejection_reason: str | None = None


@dataclass(frozen=True, slots=True)
class PhoneNumberQualityChanged(AccountEvent):
    """`phone_number_quality_update`: `event` ∈ ONBOARDING, THROUGHPUT_UPGRADE, FLAGGED, UNFLAGGED, UPGRADE,
    DOWNGRADE (§3.7)."""

    field: ClassVar[str] = "phone_number_quality_update"
    phone: PhoneNumber
    event: str
    current_limit: str | None = None
    old_limit: str | None = None
    max_daily_conversations_per_business: str | None = None


@dataclass(frozen=True, slots=True)
class AccountUpdated(AccountEvent):
    """`account_update` for the WABA `waba_id` (and `phone`, when the event concerns one number): `event` with the
    objects Meta attaches to it (§3.4)."""

    field: ClassVar[str] = "account_update"
    waba_id: str
    event: str
    phone: PhoneNumber | None = None
    violation_info: dict[str, Any] | None = None
    restriction_info: list[dict[str, Any]] | None = None
    ban_info: dict[str, Any] | None = None
    waba_info: dict[str, Any] | None = None
    disconnection_info: dict[str, Any] | None = None
    volume_tier_info: dict[str, Any] | None = None
    auth_international_rate_eligibility: dict[str, Any] | None = None
    country: str | None = None


@dataclass(frozen=True, slots=True)
class AccountReviewDecided(AccountEvent):
    """`account_review_update`: the decision of the WABA review (§3.3)."""

    field: ClassVar[str] = "account_review_update"
    waba_id: str
    decision: str


@dataclass(frozen=True, slots=True)
class BusinessCapabilityChanged(AccountEvent):
    """`business_capability_update`: new limits of the portfolio, at least one of them (§3.5)."""

    field: ClassVar[str] = "business_capability_update"
    waba_id: str
    max_daily_conversation_per_phone: int | None = None
    max_daily_conversations_per_business: str | int | None = None
    max_phone_numbers_per_business: int | None = None
    max_phone_numbers_per_waba: int | None = None


@dataclass(frozen=True, slots=True)
class AccountAlertRaised(AccountEvent):
    """`account_alerts`: an alert about the business (`entity_type` BUSINESS), a number or its status (§3.6)."""

    field: ClassVar[str] = "account_alerts"
    waba_id: str
    entity_type: str
    entity_id: str
    alert_type: str
    alert_severity: str
    alert_description: str
    alert_status: str = "ACTIVE"


@dataclass(frozen=True, slots=True)
class PhoneNumberSecurityEvent(AccountEvent):
    """`security`: `event` ∈ PIN_CHANGED, PIN_RESET_REQUEST, PIN_RESET_SUCCESS (§2.8)."""

    field: ClassVar[str] = "security"
    phone: PhoneNumber
    event: str
    requester: str | None = None


@dataclass(frozen=True, slots=True)
class SilentEvent:
    """A fact Meta sends no webhook for: published like the others, so what follows from it can hook in, and
    rendered to nothing by dispatch (never an incident)."""

    at: datetime


@dataclass(frozen=True, slots=True)
class BusinessVerificationDecided(SilentEvent):
    """The business's verification moved to `status` (`decision`: APPROVED, REJECTED, NEED_MORE_INFO, FAILED,
    EXPIRED, REVOKED, INELIGIBLE). Meta sends no webhook for it (§3.1: only 8x8 documents
    `BUSINESS_VERIFICATION_STATUS_UPDATE`)."""

    business_id: str
    status: str
    decision: str
    reasons: tuple[str, ...] = ()


ACCOUNT_EVENTS: tuple[type[AccountEvent], ...] = (
    TemplateStatusChanged,
    TemplateQualityChanged,
    TemplateCategoryChanged,
    TemplateComponentsChanged,
    DisplayNameDecided,
    PhoneNumberQualityChanged,
    AccountUpdated,
    AccountReviewDecided,
    BusinessCapabilityChanged,
    AccountAlertRaised,
    PhoneNumberSecurityEvent,
)

Event = MessageStatusChanged | MessageReceived | AccountEvent | SilentEvent
