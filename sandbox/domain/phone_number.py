"""A business phone number (`GET /{phone-number-id}`) and the orthogonal states Meta keeps for it
(meta-lifecycle.md §1.4, §2.2): ownership (`code_verification_status`), operation (`status`), display name
(`name_status`), quality and throughput."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

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
    # Graph's `2023-08-22T19:05:53+0000`, set when the number is onboarded (the world's start for seeded numbers).
    last_onboarded_time: str | None = None

    @property
    def registered(self) -> bool:
        return self.status == PhoneNumberStatus.CONNECTED

    @property
    def throughput_class(self) -> ThroughputClass:
        """The key of `THROUGHPUT_MPS`: a number shared with the Business app (coexistence) is fixed at 20 mps."""
        return "COEXISTENCE" if self.is_on_biz_app else self.throughput_level

    def formatted_number(self) -> str:
        """Human-formatted, as `GET /{phone-number-id}` shows it (`+1 555-096-7852`)."""
        digits = self.display_phone_number
        cc = self.country_calling_code
        rest = digits[len(cc) :]
        if cc == "1" and len(rest) == 10:
            return f"+1 {rest[:3]}-{rest[3:6]}-{rest[6:]}"
        return f"+{cc} {rest}"

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
            "last_onboarded_time": self.last_onboarded_time,
            "country_code": COUNTRY_OF_CALLING_CODE.get(self.country_calling_code),
            "country_dial_code": self.country_calling_code,
            "id": self.id,
        }


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
