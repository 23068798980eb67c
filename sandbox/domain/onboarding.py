"""What Meta keeps about a number's onboarding beside its Graph fields (meta-lifecycle.md §2.1-§2.7): the codes it
sent, the calls it counts, and, server-wide, which numbers are on a WhatsApp app or already on a WABA.

Plain data and rules; the services read the limits from the tenant's policy and raise Meta's errors.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from sandbox.domain.phone_number import CodeVerificationStatus, NameStatus, PhoneNumber, PhoneNumberStatus
from sandbox.domain.waba import AccountReviewStatus


class CodeMethod(StrEnum):
    SMS = "SMS"
    VOICE = "VOICE"


class WhatsAppApp(StrEnum):
    """The control plane's `whatsapp_app` of a number: on the consumer or Business app, or deleted from it."""

    REGISTERED = "registered"
    DELETED = "deleted"


class Cancellable(Protocol):
    def cancel(self) -> None: ...


@dataclass(slots=True)
class IssuedCode:
    """A 6-digit code sent by SMS or voice call (SEED-NUMBER-3); `attempts` counts the wrong guesses."""

    code: str
    code_method: str
    language: str
    sent_at: datetime
    expires_at: datetime
    attempts: int = 0


@dataclass(slots=True)
class Onboarding:
    """One number's onboarding counters; `requests` and `register_calls` keep only the calls inside their window."""

    code: IssuedCode | None = None
    requests: deque[datetime] = field(default_factory=deque)
    register_calls: deque[datetime] = field(default_factory=deque)
    verified_at: datetime | None = None
    expiry: Cancellable | None = None

    @staticmethod
    def _recent(calls: deque[datetime], now: datetime, window: float) -> int:
        horizon = now - timedelta(seconds=window)
        while calls and calls[0] <= horizon:
            calls.popleft()
        return len(calls)

    def code_request_refusal(self, now: datetime, *, resend: float, limit: int, window: float) -> str | None:
        """Why a new code cannot be sent now (too soon after the last, or too many in the window), or None."""
        if self._recent(self.requests, now, window) >= limit:
            return f"You have requested the code too many times: at most {limit} codes in {_hours(window)}."
        if self.requests and now < self.requests[-1] + timedelta(seconds=resend):
            wait = (self.requests[-1] + timedelta(seconds=resend) - now).total_seconds()
            return f"You have requested the code too many times: wait {wait:.0f} seconds before requesting another."
        return None

    def issue(self, code: IssuedCode) -> None:
        self.requests.append(code.sent_at)
        self.code = code

    def register_limited(self, now: datetime, *, limit: int, window: float) -> bool:
        return self._recent(self.register_calls, now, window) >= limit

    def count_register_call(self, now: datetime) -> None:
        self.register_calls.append(now)


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:g} hours"


# Bounds of the server-wide registry: a control plane cannot grow it without limit.
MAX_APP_ACCOUNTS = 100_000


@dataclass(slots=True)
class AppAccount:
    """A number on WhatsApp Messenger or the Business app; once deleted, `deleted_at` holds each tenant's time of
    the deletion (a tenant's clock is its own, so the delay of SEED-NUMBER-2 runs on the clock of whoever adds it)."""

    state: WhatsAppApp
    deleted_at: dict[str, datetime] = field(default_factory=dict)

    def blocks(self, tenant_id: str, now: datetime, delay: float) -> bool:
        if self.state is WhatsAppApp.REGISTERED:
            return True
        deleted = self.deleted_at.get(tenant_id)
        return deleted is not None and now < deleted + timedelta(seconds=delay)

    def snapshot(self) -> dict[str, Any]:
        return {"whatsapp_app": self.state.value}


class NumberRegistry:
    """Server-wide facts about numbers, shared by every tenant: which are on a WhatsApp app, and which tenant's WABA
    holds a number added through the Graph API (by E.164 digits; a removed or reset tenant lets go of its own)."""

    def __init__(self) -> None:
        self.app_accounts: dict[str, AppAccount] = {}
        self.owners: dict[str, tuple[str, str]] = {}

    def app_account(self, digits: str) -> AppAccount | None:
        return self.app_accounts.get(digits)

    def set_app_account(self, digits: str, state: WhatsAppApp, deleted_at: dict[str, datetime]) -> AppAccount:
        if digits not in self.app_accounts and len(self.app_accounts) >= MAX_APP_ACCOUNTS:
            raise OverflowError(f"at most {MAX_APP_ACCOUNTS} numbers can be on the WhatsApp apps")
        account = AppAccount(state, deleted_at if state is WhatsAppApp.DELETED else {})
        self.app_accounts[digits] = account
        return account

    def owner(self, digits: str) -> tuple[str, str] | None:
        return self.owners.get(digits)

    def claim(self, digits: str, tenant_id: str, phone_id: str) -> None:
        self.owners[digits] = (tenant_id, phone_id)

    def forget_tenant(self, tenant_id: str) -> None:
        for digits in [digits for digits, (owner, _) in self.owners.items() if owner == tenant_id]:
            del self.owners[digits]


# Why a provider cannot attach a number to a channel (SEED-NUMBER-5, §8 rows 5-8), in the order it lists them.
ELIGIBILITY_REASONS = {
    "waba_review_pending": "Waiting for WhatsApp approval: the WhatsApp Business Account is under review",
    "name_declined": "Display name rejected: apply again with a new display name",
    "name_pending": "Display name pending review",
    "name_not_approved": "Display name not approved",
    "no_certificate": "No certificate: one is issued when the display name is approved",
    "code_not_verified": "OTP verification not completed",
    "connected": "Already connected: registered on the Cloud API (to another channel)",
    "status": "The number's status does not allow it (only PENDING or DISCONNECTED numbers can be attached)",
}


def eligibility_reasons(phone: PhoneNumber, waba_review_status: str | None) -> list[dict[str, str]]:
    """Every reason `phone` cannot be attached to a channel; none when its name is APPROVED (with a certificate),
    its status PENDING or DISCONNECTED and its code VERIFIED, in a WABA not under review (SEED-NUMBER-4)."""
    found = []
    if waba_review_status == AccountReviewStatus.PENDING:
        found.append("waba_review_pending")
    if phone.name_status == NameStatus.DECLINED:
        found.append("name_declined")
    elif phone.name_status == NameStatus.PENDING_REVIEW:
        found.append("name_pending")
    elif phone.name_status != NameStatus.APPROVED:
        found.append("name_not_approved")
    elif phone.certificate is None and phone.new_certificate is None:
        found.append("no_certificate")
    if phone.code_verification_status != CodeVerificationStatus.VERIFIED:
        found.append("code_not_verified")
    if phone.registered:
        found.append("connected")
    elif phone.status not in (PhoneNumberStatus.PENDING, PhoneNumberStatus.DISCONNECTED):
        found.append("status")
    return [{"reason": reason, "message": ELIGIBILITY_REASONS[reason]} for reason in found]
