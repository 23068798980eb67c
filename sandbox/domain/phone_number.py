"""A business phone number (`GET /{phone-number-id}`) and the orthogonal states Meta keeps for it
(meta-lifecycle.md §1.4, §2.2): ownership (`code_verification_status`), operation (`status`), display name
(`name_status`, and `new_name_status` while a name change is reviewed), quality and throughput.

Each state variable is a declared lifecycle over Meta's wire strings; the transitions raise the typed events
(`DisplayNameDecided`, `PhoneNumberQualityChanged`) that the webhook outbox renders.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, get_args

from sandbox.domain.events import DisplayNameDecided, Event, PhoneNumberQualityChanged
from sandbox.domain.lifecycle import declare
from sandbox.domain.waba import AccountMode

# A number's throughput level (META-TP); a number shared with the Business app is in the COEXISTENCE class.
ThroughputLevel = Literal["STANDARD", "HIGH"]
ThroughputClass = Literal[ThroughputLevel, "COEXISTENCE"]


class CodeVerificationStatus(StrEnum):
    NOT_VERIFIED = "NOT_VERIFIED"
    VERIFIED = "VERIFIED"
    EXPIRED = "EXPIRED"


class PhoneNumberStatus(StrEnum):
    PENDING = "PENDING"
    DELETED = "DELETED"
    MIGRATED = "MIGRATED"
    BANNED = "BANNED"
    RESTRICTED = "RESTRICTED"
    RATE_LIMITED = "RATE_LIMITED"
    FLAGGED = "FLAGGED"
    CONNECTED = "CONNECTED"
    DISCONNECTED = "DISCONNECTED"
    UNKNOWN = "UNKNOWN"
    UNVERIFIED = "UNVERIFIED"


class NameStatus(StrEnum):
    APPROVED = "APPROVED"
    AVAILABLE_WITHOUT_REVIEW = "AVAILABLE_WITHOUT_REVIEW"
    DECLINED = "DECLINED"
    EXPIRED = "EXPIRED"
    PENDING_REVIEW = "PENDING_REVIEW"
    NONE = "NONE"


class QualityRating(StrEnum):
    GREEN = "GREEN"
    YELLOW = "YELLOW"
    RED = "RED"
    UNKNOWN = "UNKNOWN"


THROUGHPUT_MPS = {"STANDARD": 80, "HIGH": 1000, "COEXISTENCE": 20}

# `country_code` (ISO 3166) of the calling codes the sandbox's worlds use; `1` is read as the US (the fake numbers
# are in its 555 exchange). A number of another code answers no `country_code`.
COUNTRY_OF_CALLING_CODE = {
    "1": "US", "27": "ZA", "33": "FR", "34": "ES", "39": "IT", "44": "GB", "49": "DE", "52": "MX", "55": "BR",
    "61": "AU", "62": "ID", "65": "SG", "81": "JP", "91": "IN", "234": "NG", "971": "AE",
}  # fmt: skip
# The statuses of a number registered on the Cloud API: a FLAGGED or RESTRICTED number is still registered and
# sends (§2.10: FLAGGED is a quality warning, RESTRICTED limits business-initiated messages).
REGISTERED_STATUSES = frozenset({PhoneNumberStatus.CONNECTED, PhoneNumberStatus.FLAGGED, PhoneNumberStatus.RESTRICTED})

# `rejection_reason` of a declined display name (§2.9); the policy's knob offers the same list.
NameRejectionReason = Literal[
    "NAME_EMPLOYEE_ISSUE",
    "NAME_ENDCLIENT_NOTRELATED",
    "NAME_FORMAT_UNACCEPTABLE",
    "NAME_INDIVIDUAL_ISSUE",
    "NAME_NOT_CONSISTENT",
    "UNKNOWN",
]
NAME_REJECTION_REASONS = frozenset(get_args(NameRejectionReason))


def certificate_for(phone_id: str, verified_name: str) -> str:
    """The base64 certificate Meta issues for an approved name: derived from the number and the name, so a seed
    replays it without drawing from any generator."""
    return base64.b64encode(hashlib.sha256(f"{phone_id}:{verified_name}".encode()).digest() * 3).decode()


@dataclass(slots=True)
class PhoneNumber:
    """A business phone number on the Cloud API (`GET /{phone-number-id}`, meta-messaging.md §8.1)."""

    id: str
    waba_id: str
    display_phone_number: str
    verified_name: str
    country_calling_code: str
    status: str = PhoneNumberStatus.CONNECTED.value
    code_verification_status: str = CodeVerificationStatus.VERIFIED.value
    name_status: str = NameStatus.APPROVED.value
    quality_rating: str = QualityRating.GREEN.value
    platform_type: str = "CLOUD_API"
    throughput_level: ThroughputLevel = "STANDARD"
    is_on_biz_app: bool = False
    account_mode: str = AccountMode.LIVE.value
    is_official_business_account: bool = False
    is_pin_enabled: bool = True
    webhook_override: str | None = None
    is_preverified_number: bool = False
    # International format (`+1 415-555-1234`), computed with `phonenumbers` where the number is created.
    formatted: str = ""
    new_display_name: str | None = None
    new_name_status: str = NameStatus.NONE.value
    certificate: str | None = None
    new_certificate: str | None = None
    # The two-step verification PIN; never rendered. None: no PIN known, the next register sets it.
    pin: str | None = None
    data_localization_region: str | None = None
    # The last register call failed (133005, 133006, 133016): what a provider shows as "process failed".
    registration_failed: bool = False
    # The first registration's time (`last_onboarded_time`); None until the number is first registered.
    last_onboarded_time: datetime | None = None
    pending_events: list[Event] = field(default_factory=list)

    @property
    def registered(self) -> bool:
        return self.status in REGISTERED_STATUSES

    def drain_events(self) -> list[Event]:
        events, self.pending_events = self.pending_events, []
        return events

    # -- transition callbacks (the time of the move first) ------------------------------------------------------

    def name_decided(self, at: datetime, reason: str | None = None) -> None:
        approved = self.name_status == NameStatus.APPROVED
        if approved:
            self.new_certificate = certificate_for(self.id, self.verified_name)
        self._name_event(at, approved, self.verified_name, reason)

    def new_name_decided(self, at: datetime, reason: str | None = None) -> None:
        requested = self.new_display_name or self.verified_name
        approved = self.new_name_status == NameStatus.APPROVED
        if approved:
            self.verified_name = requested
            self.new_certificate = certificate_for(self.id, requested)
        self._name_event(at, approved, requested, reason)

    def _name_event(self, at: datetime, approved: bool, requested: str, reason: str | None) -> None:
        decision = "APPROVED" if approved else "REJECTED"
        self.pending_events.append(
            DisplayNameDecided(at, self, decision, requested, None if approved else (reason or "UNKNOWN"))
        )

    def registered_now(self, at: datetime, current_limit: str | None = None) -> None:
        """Register (or re-register): the Cloud API serves the number, with the newest certificate issued;
        `current_limit` is the portfolio's tier, which the first registration's ONBOARDING webhook shows."""
        first = self.last_onboarded_time is None
        self.platform_type = "CLOUD_API"
        self.registration_failed = False
        if self.new_certificate is not None:
            self.certificate, self.new_certificate = self.new_certificate, None
            self.new_display_name = None
            if self.new_name_status == NameStatus.APPROVED:
                self.new_name_status = NameStatus.NONE.value
        if first:
            self.last_onboarded_time = at
            self.pending_events.append(PhoneNumberQualityChanged(at, self, "ONBOARDING", current_limit=current_limit))

    def deregistered_now(self, at: datetime) -> None:
        self.platform_type = "NOT_APPLICABLE"
        self.data_localization_region = None

    @property
    def throughput_class(self) -> ThroughputClass:
        """The key of `THROUGHPUT_MPS`: a number shared with the Business app (coexistence) is fixed at 20 mps."""
        return "COEXISTENCE" if self.is_on_biz_app else self.throughput_level

    def formatted_number(self) -> str:
        """International format, as `GET /{phone-number-id}` shows it (`+1 555-096-7852`): `formatted`, which the
        services fill in with `phonenumbers`; a number built without it shows `+<cc> <national number>`."""
        if self.formatted:
            return self.formatted
        return f"+{self.country_calling_code} {self.display_phone_number[len(self.country_calling_code) :]}"

    def graph_fields(
        self, app_callback: str | None = None, waba_callback: str | None = None, *, messaging_limit: str
    ) -> dict[str, Any]:
        """`messaging_limit` is the portfolio's tier (domain/messaging_limit.py): the number shows it, keeps none."""
        webhook_configuration: dict[str, str] = {}
        if self.webhook_override:
            webhook_configuration["phone_number"] = self.webhook_override
        if waba_callback:
            webhook_configuration["whatsapp_business_account"] = waba_callback
        if app_callback:
            webhook_configuration["application"] = app_callback
        return {
            "verified_name": self.verified_name,
            "code_verification_status": self.code_verification_status,
            "display_phone_number": self.formatted_number(),
            "quality_rating": self.quality_rating,
            "quality_score": {"score": self.quality_rating},
            # §1.4: a number not registered for the Cloud API has neither platform nor throughput.
            "platform_type": self.platform_type if self.registered else "NOT_APPLICABLE",
            "throughput": {"level": self.throughput_level if self.registered else "NOT_APPLICABLE"},
            "is_on_biz_app": self.is_on_biz_app,
            "webhook_configuration": webhook_configuration,
            "name_status": self.name_status,
            "status": self.status,
            "account_mode": self.account_mode,
            "is_official_business_account": self.is_official_business_account,
            "is_pin_enabled": self.is_pin_enabled,
            "messaging_limit_tier": messaging_limit,
            "whatsapp_business_manager_messaging_limit": messaging_limit,
            "health_status": {"can_send_message": "AVAILABLE" if self.registered else "BLOCKED", "entities": []},
            "is_preverified_number": self.is_preverified_number,
            "last_onboarded_time": (
                self.last_onboarded_time.strftime("%Y-%m-%dT%H:%M:%S+0000") if self.last_onboarded_time else None
            ),
            "country_code": COUNTRY_OF_CALLING_CODE.get(self.country_calling_code),
            "country_dial_code": self.country_calling_code,
            "id": self.id,
        } | self._name_change_fields()

    def _name_change_fields(self) -> dict[str, Any]:
        """`certificate`, and the `new_*` fields only while a name change exists (§1.4)."""
        extra: dict[str, Any] = {}
        if self.certificate is not None:
            extra["certificate"] = self.certificate
        if self.new_certificate is not None:
            extra["new_certificate"] = self.new_certificate
        if self.new_name_status != NameStatus.NONE:
            extra["new_name_status"] = self.new_name_status
        if self.new_display_name is not None:
            extra["new_display_name"] = self.new_display_name
        if self.data_localization_region is not None:
            extra["data_localization_region"] = self.data_localization_region
        return extra


# Fields `GET /{phone-number-id}` returns when no `fields=` is given (META-ABOUT example).
PHONE_NUMBER_DEFAULT_FIELDS = (
    "verified_name",
    "code_verification_status",
    "display_phone_number",
    "quality_rating",
    "platform_type",
    "throughput",
    "webhook_configuration",
    "id",
)

# What `filtering=` on `GET /{waba-id}/phone_numbers` may name (meta-lifecycle.md §1.3).
PHONE_NUMBER_FILTER_FIELDS = ("account_mode", "messaging_limit_tier", "is_official_business_account")

# -- the lifecycles of a number (§2.2, §2.10) -----------------------------------------------------------------

CODE_VERIFICATION_LIFECYCLE = declare(
    "phone_number.code_verification_status",
    "code_verification_status",
    CodeVerificationStatus,
    [
        {
            "trigger": "verify",
            "source": [CodeVerificationStatus.NOT_VERIFIED, CodeVerificationStatus.EXPIRED],
            "dest": CodeVerificationStatus.VERIFIED,
        },
        {"trigger": "expire", "source": CodeVerificationStatus.VERIFIED, "dest": CodeVerificationStatus.EXPIRED},
    ],
    "Ownership of the number: the OTP of request_code entered with verify_code; it expires unregistered (§2.5).",
)

S = PhoneNumberStatus
STATUS_LIFECYCLE = declare(
    "phone_number.status",
    "status",
    PhoneNumberStatus,
    [
        {
            "trigger": "register",
            "source": [S.PENDING, S.DISCONNECTED, S.CONNECTED],
            "dest": S.CONNECTED,
            "after": "registered_now",
        },
        {"trigger": "register", "source": S.FLAGGED, "dest": S.FLAGGED, "after": "registered_now"},
        {"trigger": "register", "source": S.RESTRICTED, "dest": S.RESTRICTED, "after": "registered_now"},
        {
            "trigger": "deregister",
            "source": [S.CONNECTED, S.FLAGGED, S.RESTRICTED],
            "dest": S.DISCONNECTED,
            "after": "deregistered_now",
        },
        # The number moved to another WABA (§5.1): this id is detached, the destination's id serves it.
        {
            "trigger": "migrate",
            "source": [S.CONNECTED, S.FLAGGED, S.RESTRICTED, S.DISCONNECTED],
            "dest": S.MIGRATED,
            "after": "deregistered_now",
        },
        {"trigger": "flag", "source": S.CONNECTED, "dest": S.FLAGGED},
        {"trigger": "unflag", "source": S.FLAGGED, "dest": S.CONNECTED},
        {"trigger": "restrict", "source": S.CONNECTED, "dest": S.RESTRICTED},
        {"trigger": "unrestrict", "source": S.RESTRICTED, "dest": S.CONNECTED},
        {
            "trigger": "ban",
            "source": [S.PENDING, S.CONNECTED, S.DISCONNECTED, S.FLAGGED, S.RESTRICTED],
            "dest": S.BANNED,
        },
    ],
    "Registration on the Cloud API (register, deregister) and Meta's enforcement (flag, restrict, ban) (§2.6-§2.7).",
)

N = NameStatus
NAME_LIFECYCLE = declare(
    "phone_number.name_status",
    "name_status",
    NameStatus,
    [
        {"trigger": "approve", "source": N.PENDING_REVIEW, "dest": N.APPROVED, "after": "name_decided"},
        {"trigger": "decline", "source": N.PENDING_REVIEW, "dest": N.DECLINED, "after": "name_decided"},
        {
            "trigger": "resubmit",
            "source": [N.NONE, N.AVAILABLE_WITHOUT_REVIEW, N.DECLINED, N.EXPIRED],
            "dest": N.PENDING_REVIEW,
        },
        {"trigger": "expire", "source": N.APPROVED, "dest": N.EXPIRED},
    ],
    "The display name (verified_name) under Meta's review; a declined or expired name is resubmitted (§2.9).",
)

NEW_NAME_LIFECYCLE = declare(
    "phone_number.new_name_status",
    "new_name_status",
    NameStatus,
    [
        {"trigger": "request", "source": [N.NONE, N.APPROVED, N.DECLINED], "dest": N.PENDING_REVIEW},
        {"trigger": "approve", "source": N.PENDING_REVIEW, "dest": N.APPROVED, "after": "new_name_decided"},
        {"trigger": "decline", "source": N.PENDING_REVIEW, "dest": N.DECLINED, "after": "new_name_decided"},
    ],
    "A change of an approved display name (new_display_name) under review; approval issues new_certificate, "
    "which the next register puts in use (§2.9, SEED-NUMBER-5).",
)
