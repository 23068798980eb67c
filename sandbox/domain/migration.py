"""A number's migration between WABAs of one business (a BSP migration, meta-lifecycle.md §5.1-§5.2,
SEED-MIGRATE-1..5): its lifecycle as the destination sees it, and the preconditions Meta checks, in order.

Plain data and rules; sandbox/services/migration.py applies them and raises Meta's errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sandbox.domain.business import BusinessVerificationStatus
from sandbox.domain.events import Event
from sandbox.domain.lifecycle import declare
from sandbox.domain.phone_number import NameStatus, PhoneNumber
from sandbox.domain.waba import AccountReviewStatus, WhatsAppBusinessAccount


class MigrationStatus(StrEnum):
    """The destination number's `code_verification_status` until it registers, then the source's `MIGRATED`."""

    NOT_VERIFIED = "NOT_VERIFIED"
    VERIFIED = "VERIFIED"
    MIGRATED = "MIGRATED"


M = MigrationStatus

MIGRATION_LIFECYCLE = declare(
    "phone_number.migration",
    "status",
    MigrationStatus,
    [
        {"trigger": "verify", "source": M.NOT_VERIFIED, "dest": M.VERIFIED},
        {"trigger": "complete", "source": M.VERIFIED, "dest": M.MIGRATED, "after": "completed"},
    ],
    "A number migrating to another WABA (§5.2): added with migrate_phone_number, verified by OTP, registered.",
)


@dataclass(slots=True)
class Migration:
    destination_phone_id: str
    source_phone_id: str
    source_waba_id: str
    destination_waba_id: str
    started_at: datetime
    status: str = MigrationStatus.NOT_VERIFIED.value
    completed_at: datetime | None = None
    templates_copied_at: datetime | None = None
    pending_events: list[Event] = field(default_factory=list)

    def completed(self, at: datetime) -> None:
        self.completed_at = at

    def drain_events(self) -> list[Event]:
        events, self.pending_events = self.pending_events, []
        return events


# Meta's messages for 2388103 (§5.1), one per precondition.
NOT_ELSEWHERE = "Add this phone number to your WhatsApp account (no migration needed)"
NAME_NOT_APPROVED = "Registered name must be present and approved"
SOURCE_NOT_SET_UP = "WhatsApp account where the number is registered is not set up correctly"
DIFFERENT_BUSINESS = "This phone number belongs to a different Business Manager"
DESTINATION_NOT_APPROVED = "Your WhatsApp account needs to be approved"
NO_PAYMENT = "Your WhatsApp account doesn't have a payment account"
NO_WEBHOOKS = "Cannot migrate: webhooks not configured for destination WABA"
TWO_STEP_ON = "Make sure two-step verification is disabled"
ALREADY_LISTED = "The number already exists in your phone number list"


def refusal(
    source: PhoneNumber | None,
    source_waba: WhatsAppBusinessAccount | None,
    source_verification: str | None,
    destination: WhatsAppBusinessAccount,
    destination_verification: str | None,
    already_listed: bool,
) -> tuple[str, str] | None:
    """("2388012" | "2388001" | "2388103", Meta's message) for the first precondition not met, or None."""
    verified = BusinessVerificationStatus.VERIFIED
    approved = AccountReviewStatus.APPROVED
    if already_listed:
        return "2388012", ALREADY_LISTED
    if source is None or source_waba is None or not source.registered:
        return "2388103", NOT_ELSEWHERE
    if source.is_pin_enabled:
        return "2388001", TWO_STEP_ON
    if source.name_status != NameStatus.APPROVED or source.new_name_status == NameStatus.PENDING_REVIEW:
        return "2388103", NAME_NOT_APPROVED
    if source_waba.account_review_status != approved or source_verification != verified:
        return "2388103", SOURCE_NOT_SET_UP
    if source_waba.business_id != destination.business_id:
        return "2388103", DIFFERENT_BUSINESS
    if destination.account_review_status != approved or destination_verification != verified:
        return "2388103", DESTINATION_NOT_APPROVED
    if not destination.payment_method:
        return "2388103", NO_PAYMENT
    if not destination.subscribed_apps:
        return "2388103", NO_WEBHOOKS
    return None
