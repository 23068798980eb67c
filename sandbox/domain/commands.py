"""Operations as plain data: what a handler parses a request into and a service carries out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from sandbox.domain.business import Documents
from sandbox.domain.customer import Delivery, Reads
from sandbox.domain.errors import Invalid
from sandbox.domain.fault import FaultMatch, Latency, Mode
from sandbox.domain.phone_number import ThroughputLevel
from sandbox.errors import GraphErrorCode

if TYPE_CHECKING:
    from sandbox.clock import ClockMode
    from sandbox.settings import Profile


@dataclass(frozen=True, slots=True)
class SendMessage:
    """`POST /{phone-number-id}/messages` with a message: `content` is the validated `<type>` object."""

    phone_number_id: str
    to: str
    type: str
    content: Any
    recipient_type: str = "individual"
    context_message_id: str | None = None
    biz_opaque_callback_data: str | None = None
    # Set when the body names the customer by BSUID (`recipient`, no `to`); `to` is then that BSUID as sent.
    user_id: str | None = None


@dataclass(frozen=True, slots=True)
class MarkMessageRead:
    """`POST /{phone-number-id}/messages` with `status: read`, optionally showing a typing indicator."""

    phone_number_id: str
    message_id: str
    typing_indicator: str | None = None


@dataclass(frozen=True, slots=True)
class ReceiveMessage:
    """A customer writes to the business (control plane `inbound`): `content` is the webhook's `<type>` object."""

    wa_id: str
    type: str
    content: Any
    phone_number_id: str | None = None
    context_message_id: str | None = None
    profile_name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ReceiveMedia:
    """A customer sends a file (control plane `inbound/media`): `type` None is the kind of its `mime_type`."""

    wa_id: str
    type: str | None
    mime_type: str
    data: bytes
    caption: str | None = None
    filename: str | None = None
    phone_number_id: str | None = None
    context_message_id: str | None = None


@dataclass(frozen=True, slots=True)
class AddPhoneNumber:
    """`POST /{waba-id}/phone_numbers`: `cc` (or pywa's `country_code`), `phone_number` with or without it."""

    waba_id: str
    cc: str
    phone_number: str
    verified_name: str


@dataclass(frozen=True, slots=True)
class RequestCode:
    """`POST /{phone-number-id}/request_code` (body or query string, as pywa sends it)."""

    phone_number_id: str
    code_method: str
    language: str


@dataclass(frozen=True, slots=True)
class VerifyCode:
    phone_number_id: str
    code: str


@dataclass(frozen=True, slots=True)
class RegisterPhoneNumber:
    """`POST /{phone-number-id}/register` with the two-step verification `pin`."""

    phone_number_id: str
    pin: str
    data_localization_region: str | None = None


@dataclass(frozen=True, slots=True)
class UpdatePhoneNumber:
    """`POST /{phone-number-id}`: any of a new two-step `pin`, a `new_display_name`, a `webhook_configuration`."""

    phone_number_id: str
    pin: str | None = None
    new_display_name: str | None = None
    webhook_configuration: Any = None


# --- control plane ----------------------------------------------------------------------------------------------
# What `/_sandbox/` handlers parse a body into; every value is of its kind and within its bounds already, so a
# service refuses only what the world decides (a name taken, a time already past).


@dataclass(frozen=True, slots=True)
class ConfigureClock:
    """`POST .../clock`: switch mode, change the rate, or jump to `now` (which must not be in the past)."""

    mode: ClockMode | None = None
    rate: float | None = None
    now: datetime | None = None


@dataclass(frozen=True, slots=True)
class AdvanceClock:
    """`POST .../clock/advance`: forward by `seconds`, or to the time `to` (which wins when both are given)."""

    seconds: float | None = None
    to: datetime | None = None


@dataclass(frozen=True, slots=True)
class CreateTenant:
    """`POST /_sandbox/tenants`; an absent name is drawn (`tenant-N`), an absent profile is the server's."""

    name: str | None = None
    profile: Profile | None = None
    seed: int | None = None
    webhook_url: str | None = None
    verify_token: str | None = None
    clock: ConfigureClock | None = None
    # Meta's handshake before the callback is saved (the HTTP surfaces; Python callers build tenants unverified).
    verify_webhook: bool = False


@dataclass(frozen=True, slots=True)
class IssueToken:
    """`POST .../tokens`: a further access token, temporary when `expires_in` (seconds of tenant time) is given."""

    expires_in: float | None = None


@dataclass(frozen=True, slots=True)
class ConfigureWebhook:
    """`PUT .../webhook`: the callback URL (None removes it), saved after Meta's handshake unless `verify` is off."""

    url: str | None
    verify_token: str | None = None
    verify: bool = True


@dataclass(frozen=True, slots=True)
class SetThroughput:
    """`PUT .../phone_numbers/{id}/throughput`; an upgrade to HIGH with `maintenance_seconds` plays Meta's upgrade."""

    phone_number_id: str
    level: ThroughputLevel | None = None
    is_on_biz_app: bool | None = None
    maintenance_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class SetMessagingLimitTier:
    """`PUT .../messaging_limit`: put the portfolio (the tenant's business unless named) on `tier` by hand."""

    tier: str
    business_id: str | None = None


class Unchanged(Enum):
    """A field an update leaves as it is, where `None` is a value the field can be set to."""

    UNCHANGED = "unchanged"


UNCHANGED = Unchanged.UNCHANGED


@dataclass(frozen=True, slots=True)
class UpdateCustomer:
    """`PUT .../customers/{wa_id}`: each given behaviour is set, the others (None) stay as they are."""

    wa_id: str
    on_whatsapp: bool | None = None
    delivery: Delivery | None = None
    reads: Reads | None = None
    blocked_business: bool | None = None
    profile_name: str | None = None
    fail_code: GraphErrorCode | Unchanged | None = UNCHANGED


@dataclass(frozen=True, slots=True)
class AddFault:
    """`POST .../faults`: what the fault matches, how it answers (`code`, `http_status`, `latency`, `drop`) and how
    often (`times`, `probability`). Refuses, as `Invalid`, a fault that answers nothing or contradicts itself."""

    match: FaultMatch = field(default_factory=FaultMatch)
    code: GraphErrorCode | None = None
    details: str | None = None
    subcode: int | None = None
    mode: Mode | None = None
    http_status: int | None = None
    latency: Latency | None = None
    drop: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)
    times: int | None = None
    probability: float = 1.0

    def __post_init__(self) -> None:
        if self.drop and (self.code is not None or self.http_status is not None):
            raise Invalid("a dropped connection sends no answer: give drop_connection without error/http_status")
        if self.code is None and self.http_status is None and not self.drop and self.latency is None:
            raise Invalid("a fault needs an effect: error, http_status, latency_ms or drop_connection")
        if self.mode == "async" and self.code is None:
            raise Invalid('mode "async" needs an error code (the failed status carries it)')


@dataclass(frozen=True, slots=True)
class ForceDecision:
    """`POST /_sandbox/tenants/{tenant}/reviews`: decide the pending `kind` review of `target` now."""

    kind: str
    target: str
    decision: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class SubmitVerification:
    """`POST /_sandbox/tenants/{tenant}/business/verification`: the documents of SEED-VERIFY-1, already checked
    for bounds and plausibility."""

    documents: Documents
