"""Adding a number to a WABA (`POST /{waba-id}/phone_numbers`, SEED-NUMBER-1, -2, -7, meta-lifecycle.md §2.1, §2.3),
the server-wide registry of numbers on the WhatsApp apps (control plane `PUT /_sandbox/numbers/{e164}`), and
whether a provider could attach each number to a channel (SEED-NUMBER-4..6).

Numbers are validated with `phonenumbers` (Google's libphonenumber metadata): a real country calling code and a
national number valid for it, the check Meta's "The phone number appears to be invalid" stands for.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import phonenumbers

from sandbox.context import Sandbox, Tenant
from sandbox.domain.business import BusinessVerificationStatus
from sandbox.domain.commands import AddPhoneNumber
from sandbox.domain.errors import Conflict, Invalid, NotFound
from sandbox.domain.lifecycle import Lifecycle
from sandbox.domain.onboarding import WhatsAppApp, eligibility_reasons
from sandbox.domain.phone_number import (
    CODE_VERIFICATION_LIFECYCLE,
    NAME_LIFECYCLE,
    STATUS_LIFECYCLE,
    CodeVerificationStatus,
    NameStatus,
    PhoneNumber,
    PhoneNumberStatus,
    QualityRating,
)
from sandbox.domain.waba import AccountReviewStatus, WhatsAppBusinessAccount
from sandbox.errors import GraphError, GraphErrorCode
from sandbox.services import decisions, display_names

MAX_VERIFIED_NAME = 512

# Meta's Embedded Signup texts (§2.1), used as `details` and `error_user_msg`.
ON_ANOTHER_ACCOUNT = (
    "This phone number is already registered to a WhatsApp account. To use this number, disconnect it from the "
    "existing account. Then, return to this page and enter the number again. Note: it may take up to 3 minutes for "
    "the number to become available."
)
INVALID_NUMBER = "The phone number appears to be invalid. Check the number or try again in 5 minutes."
ALREADY_LISTED = "This phone number already exists in your phone number list."
MAXIMUM_REACHED = "You've reached the maximum number of phone numbers linked to this business account."


def refusal(details: str, title: str, code: GraphErrorCode = GraphErrorCode.INVALID_PARAMETER) -> GraphError:
    """A Business Management refusal: the code, with the text a person is shown (`error_user_title`/`_msg`)."""
    return GraphError(code, details, user_title=title, user_msg=details, is_transient=False)


# -- numbering ---------------------------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def international(digits: str) -> str:
    """`+1 415-555-1234`: the international format `GET /{phone-number-id}` shows, from E.164 digits."""
    try:
        parsed = phonenumbers.parse("+" + digits)
    except phonenumbers.NumberParseException:
        return "+" + digits
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _valid(text: str) -> phonenumbers.PhoneNumber | None:
    try:
        parsed = phonenumbers.parse(text)
    except phonenumbers.NumberParseException:
        return None
    return parsed if phonenumbers.is_valid_number(parsed) else None


def e164_digits(text: str) -> str:
    """The E.164 digits of a number written with its country code (`+44 7911 123456`); `Invalid` otherwise."""
    cleaned = "".join(ch for ch in text if ch.isdigit()) if len(text) <= 32 else ""
    parsed = _valid("+" + cleaned) if cleaned.isascii() and cleaned else None
    if parsed is None:
        raise Invalid(f"{text[:32]!r} is not a valid phone number with its country code (E.164)")
    return f"{parsed.country_code}{parsed.national_number}"


def business_number(cc: str, phone_number: str) -> str:
    """The E.164 digits of `phone_number` (given with or without `cc`), or Meta's refusal."""
    if not (cc.isascii() and cc.isdigit() and 1 <= len(cc) <= 3) or (
        phonenumbers.region_code_for_country_code(int(cc)) == phonenumbers.UNKNOWN_REGION
    ):
        raise refusal(f"{INVALID_NUMBER} {cc!r} is not a country calling code.", "Invalid Phone Number")
    digits = "".join(ch for ch in phone_number if ch.isdigit())
    if not digits.isascii() or not 4 <= len(digits) <= 17:
        raise refusal(INVALID_NUMBER, "Invalid Phone Number")
    candidates = [digits[len(cc) :], digits] if digits.startswith(cc) else [digits]
    for national in candidates:
        parsed = _valid(f"+{cc}{national}")
        if parsed is not None and parsed.country_code == int(cc):
            return f"{parsed.country_code}{parsed.national_number}"
    raise refusal(INVALID_NUMBER, "Invalid Phone Number")


# -- the registry shared by every tenant -------------------------------------------------------------------------


def set_whatsapp_app(sandbox: Sandbox, digits: str, state: WhatsAppApp) -> dict[str, Any]:
    """`PUT /_sandbox/numbers/{e164}`: the number is on WhatsApp Messenger or the Business app, or was deleted from
    it now (on every tenant's clock: SEED-NUMBER-2's delay runs on the clock of the tenant that adds it)."""
    if state is WhatsAppApp.REGISTERED and sandbox.numbers.owner(digits) is not None:
        raise Conflict(
            "the number is on a WhatsApp Business Account: it works on the platform or the app, never both "
            "(SEED-NUMBER-2)"
        )
    deleted_at = {tenant.id: tenant.clock.now() for tenant in sandbox.tenants.values()}
    try:
        account = sandbox.numbers.set_app_account(digits, state, deleted_at)
    except OverflowError as error:
        raise Conflict(str(error)) from error
    return {"phone_number": digits} | account.snapshot()


def whatsapp_app(sandbox: Sandbox, digits: str) -> dict[str, Any]:
    account = sandbox.numbers.app_account(digits)
    return {"phone_number": digits, "whatsapp_app": account.state.value if account is not None else None}


# -- adding a number ---------------------------------------------------------------------------------------------


def _verified(tenant: Tenant, waba: WhatsAppBusinessAccount) -> bool:
    business = tenant.store.businesses.get(waba.business_id)
    return business is not None and business.verification_status == BusinessVerificationStatus.VERIFIED


def number_cap(tenant: Tenant, waba: WhatsAppBusinessAccount) -> int:
    """Numbers the portfolio may hold: 2 before business verification, 20 after (§1.1, §3.1)."""
    if _verified(tenant, waba):
        return tenant.policy.numbers.max_numbers_verified
    return tenant.policy.trial.max_numbers_unverified


def portfolio_numbers(tenant: Tenant, business_id: str) -> list[PhoneNumber]:
    wabas = {waba.id for waba in tenant.store.wabas if waba.business_id == business_id}
    return [phone for phone in tenant.store.phone_numbers if phone.waba_id in wabas]


def add_phone_number(tenant: Tenant, waba: WhatsAppBusinessAccount, command: AddPhoneNumber) -> PhoneNumber:
    """Create the number on the WABA: `PENDING`, `NOT_VERIFIED`, its name `PENDING_REVIEW` with a review scheduled.

    Refusals, checked in this order: an invalid number (100), a WABA that is not set up (131031), the number already
    in this WABA, on another WABA or on a WhatsApp app (100), the portfolio's cap (100). Another tenant's number
    gets the same answer as a number on a WhatsApp app, so nothing of that tenant shows.
    """
    digits = business_number(command.cc, command.phone_number)
    name = command.verified_name.strip()
    if not name or len(name) > MAX_VERIFIED_NAME:
        raise refusal(
            f"Your verified name violates WhatsApp guidelines: it must have 1 to {MAX_VERIFIED_NAME} characters.",
            "Invalid Display Name",
        )
    if waba.account_review_status == AccountReviewStatus.REJECTED:
        raise refusal(
            "The WhatsApp Business Account is not set up: its review was rejected, so no phone number can be added "
            "until an appeal is accepted (SEED-NUMBER-7).",
            "WhatsApp Business Account Not Set Up",
            GraphErrorCode.ACCOUNT_LOCKED,
        )
    for phone in tenant.store.phone_numbers:
        if phone.display_phone_number == digits:
            if phone.waba_id == waba.id:
                raise refusal(ALREADY_LISTED, "Phone Number Already Added")
            raise refusal(
                f"This phone number is already on another WhatsApp Business Account of this business "
                f"({phone.waba_id}): migrate it instead of adding it.",
                "Phone Number In Use",
            )
    account = tenant.numbers.app_account(digits)
    now = tenant.clock.now()
    owner = tenant.numbers.owner(digits)
    if (owner is not None and owner[0] != tenant.id) or (
        account is not None and account.blocks(tenant.id, now, tenant.policy.numbers.app_deletion_delay_seconds)
    ):
        raise refusal(ON_ANOTHER_ACCOUNT, "Phone Number Already Registered")
    cap = number_cap(tenant, waba)
    if len(portfolio_numbers(tenant, waba.business_id)) >= cap:
        raise refusal(f"{MAXIMUM_REACHED} This business may hold {cap}.", "Phone Number Limit Reached")
    phone = PhoneNumber(
        id=tenant.ids.node_id(),
        waba_id=waba.id,
        display_phone_number=digits,
        verified_name=name,
        country_calling_code=command.cc,
        status=PhoneNumberStatus.PENDING.value,
        code_verification_status=CodeVerificationStatus.NOT_VERIFIED.value,
        name_status=NameStatus.PENDING_REVIEW.value,
        quality_rating=QualityRating.UNKNOWN.value,
        platform_type="NOT_APPLICABLE",
        account_mode=waba.account_mode,
        is_pin_enabled=False,
        formatted=international(digits),
    )
    tenant.store.phone_numbers.add(phone.id, phone)
    tenant.numbers.claim(digits, tenant.id, phone.id)
    display_names.submit(tenant, phone)
    return phone


# -- Meta's side, by hand (control plane) ------------------------------------------------------------------------

# What Meta does to a number outside the Graph API, offered on the control plane for tests: enforcement, and the
# expiry of a verification or of a name's certificate.
MANUAL_MOVES: dict[str, tuple[Lifecycle, str]] = {
    "flag": (STATUS_LIFECYCLE, "flag"),
    "unflag": (STATUS_LIFECYCLE, "unflag"),
    "restrict": (STATUS_LIFECYCLE, "restrict"),
    "unrestrict": (STATUS_LIFECYCLE, "unrestrict"),
    "ban": (STATUS_LIFECYCLE, "ban"),
    "expire_verification": (CODE_VERIFICATION_LIFECYCLE, "expire"),
    "expire_name": (NAME_LIFECYCLE, "expire"),
}


def move_by_hand(tenant: Tenant, phone_number_id: str, action: str) -> PhoneNumber:
    """Apply one of `MANUAL_MOVES` to a number of the tenant; `Conflict` when its state does not allow it."""
    phone = tenant.store.phone_numbers.get(phone_number_id)
    if phone is None:
        raise NotFound(f"no phone number {phone_number_id!r} in this tenant")
    move = MANUAL_MOVES.get(action)
    if move is None:
        raise NotFound(f"action must be one of {', '.join(MANUAL_MOVES)}")
    lifecycle, trigger = move
    if not decisions.step(tenant, lifecycle, phone, trigger):
        state = getattr(phone, lifecycle.attribute)
        raise Conflict(f"{lifecycle.attribute} is {state}: cannot {action}")
    return phone


def otp_outbox(tenant: Tenant, phone_number: str | None, limit: int) -> list[dict[str, Any]]:
    """The codes sent, newest first; `phone_number` (E.164, any punctuation) keeps one number's."""
    digits = "".join(ch for ch in phone_number if ch.isdigit()) if phone_number is not None else None
    return tenant.store.otp.newest(limit, lambda entry: digits is None or entry["phone_number"] == digits)


def channel_eligibility(tenant: Tenant) -> list[dict[str, Any]]:
    """Per number: could a provider attach it to a channel (SEED-NUMBER-4), and if not, every reason (-5, -6)."""
    rows = []
    for phone in tenant.store.phone_numbers:
        waba = tenant.store.wabas.get(phone.waba_id)
        reasons = eligibility_reasons(phone, waba.account_review_status if waba is not None else None)
        rows.append({"phone_number_id": phone.id, "eligible": not reasons, "reasons": reasons})
    return rows
