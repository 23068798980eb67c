"""A number's settings (`/{phone-number-id}/settings`): calling, payload encryption, storage (data localization)
and the user-identity-change check, each one feature of Meta's `POST` (meta-openapi `updatePhoneNumberSettings`:
"Only one feature setting can be specified per request")."""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Feature(StrEnum):
    CALLING = "calling"
    PAYLOAD_ENCRYPTION = "payload_encryption"
    STORAGE_CONFIGURATION = "storage_configuration"
    USER_IDENTITY_CHANGE = "user_identity_change"


class StorageStatus(StrEnum):
    DEFAULT = "DEFAULT"
    IN_COUNTRY_STORAGE_ENABLED = "IN_COUNTRY_STORAGE_ENABLED"
    NO_STORAGE_ENABLED = "NO_STORAGE_ENABLED"


# meta-openapi `WhatsAppDataLocalizationRegion`: where in-country storage can keep messages at rest.
DATA_LOCALIZATION_REGIONS = frozenset(
    {"AE", "AU", "BH", "BR", "CA", "CH", "DE", "GB", "ID", "IN", "JP", "KR", "SG", "ZA"}
)
# meta-openapi `meta_store_retention_minutes` (minimum = maximum = 60).
RETENTION_MINUTES = 60

ON_OFF = ("ENABLED", "DISABLED")
CALL_ICON_VISIBILITY = ("DEFAULT", "DISABLE_ALL")
SRTP_KEY_EXCHANGE_PROTOCOLS = ("DTLS", "SDES")
DAYS_OF_WEEK = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
SIP_SERVERS_MAX = 3
HOLIDAYS_MAX = 20
HOURS_PER_DAY_MAX = 2
COUNTRIES_MAX = 250


def default_calling() -> dict[str, Any]:
    """Calling as a number starts: off (Meta: calling is disabled until the business enables it)."""
    return {
        "status": "DISABLED",
        "call_icon_visibility": "DEFAULT",
        "callback_permission_status": "DISABLED",
        "srtp_key_exchange_protocol": "DTLS",
        "video": {"status": "DISABLED"},
        "sip": {"status": "DISABLED", "servers": []},
    }


@dataclass(frozen=True, slots=True)
class UpdatePhoneNumberSettings:
    """One feature of `POST /{phone-number-id}/settings`, validated; `value` is the feature's object (calling:
    only the keys sent, merged into what is set) or, for `user_identity_change`, the check's new state."""

    feature: Feature
    value: Any


@dataclass(slots=True)
class PhoneNumberSettings:
    calling: dict[str, Any] = field(default_factory=default_calling)
    payload_encryption: dict[str, Any] = field(default_factory=lambda: {"status": "DISABLED"})
    storage_configuration: dict[str, Any] = field(default_factory=lambda: {"status": StorageStatus.DEFAULT.value})
    enable_identity_key_check: bool = False

    def apply(self, command: UpdatePhoneNumberSettings) -> None:
        if command.feature is Feature.CALLING:
            self.calling = {**self.calling, **copy.deepcopy(command.value)}
        elif command.feature is Feature.PAYLOAD_ENCRYPTION:
            key = command.value.get("client_encryption_key")
            self.payload_encryption = {"status": command.value["status"]}
            if command.value["status"] == "ENABLED" and key:
                digest = hashlib.sha256(key.encode()).hexdigest()
                self.payload_encryption["client_encryption_key_fingerprint"] = f"SHA256:{digest}"
        elif command.feature is Feature.STORAGE_CONFIGURATION:
            self.storage_configuration = dict(command.value)
        else:
            self.enable_identity_key_check = bool(command.value)

    def graph_fields(self) -> dict[str, Any]:
        return {
            "calling": copy.deepcopy(self.calling),
            "payload_encryption": dict(self.payload_encryption),
            "storage_configuration": dict(self.storage_configuration),
            "user_identity_change": {"enable_identity_key_check": self.enable_identity_key_check},
        }
