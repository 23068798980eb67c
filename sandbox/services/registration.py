"""Verifying a number's ownership and registering it on the Cloud API (meta-lifecycle.md §2.4-§2.8, SEED-NUMBER-3,
SEED-TRIAL-5): `request_code` / `verify_code`, `register` / `deregister`, and the two-step verification PIN.

A code is 6 digits drawn from the tenant's seeded generator and lands in the OTP outbox (`GET .../otp`), as the
business's phone would receive it. Meta documents neither the code's life nor the resend throttle: both are knobs
of the `numbers` policy group, and the codes of these refusals are the sandbox's choice (docs/phone-numbers.md).
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from sandbox.context import Tenant
from sandbox.domain.business import BusinessVerificationStatus
from sandbox.domain.commands import RegisterPhoneNumber, RequestCode, VerifyCode
from sandbox.domain.onboarding import IssuedCode
from sandbox.domain.phone_number import (
    CODE_VERIFICATION_LIFECYCLE,
    STATUS_LIFECYCLE,
    CodeVerificationStatus,
    PhoneNumber,
)
from sandbox.errors import GraphError, GraphErrorCode, invalid_parameter
from sandbox.services import decisions, messaging_limits, trial
from sandbox.services.phone_numbers import number_cap, portfolio_numbers

# The openapi's answer to too many verification attempts (`code 4`, subcode 2446079, transient).
THROTTLED_SUBCODE = 2446079
ALREADY_VERIFIED = "Phone number ownership already verified."
NOT_REGISTERED = "Phone number not registered on the WhatsApp Business Platform."


def _throttled(details: str) -> GraphError:
    return GraphError(GraphErrorCode.TOO_MANY_CALLS, details, subcode=THROTTLED_SUBCODE, is_transient=True)


def _code_refused(details: str) -> GraphError:
    return GraphError(
        GraphErrorCode.INVALID_PARAMETER,
        details,
        type="GraphMethodException",
        user_title="Verification Failed",
        user_msg="The verification code you entered is invalid or has expired",
    )


def request_code(tenant: Tenant, phone: PhoneNumber, command: RequestCode) -> IssuedCode:
    """Send a new 6-digit code by SMS or voice call; the last one sent is the one `verify_code` accepts."""
    if phone.code_verification_status == CodeVerificationStatus.VERIFIED:
        raise invalid_parameter(ALREADY_VERIFIED)
    policy = tenant.policy.numbers
    onboarding = tenant.store.onboarding_of(phone.id)
    now = tenant.clock.now()
    refused = onboarding.code_request_refusal(
        now, resend=policy.code_resend_seconds, limit=policy.code_requests, window=policy.code_request_window_seconds
    )
    if refused is not None:
        raise _throttled(refused)
    code = f"{tenant.behaviour.randrange(10**6):06d}"
    issued = IssuedCode(
        code, command.code_method, command.language, now, now + timedelta(seconds=policy.code_ttl_seconds)
    )
    onboarding.issue(issued)
    tenant.store.otp.append(
        {
            "phone_number": phone.display_phone_number,
            "phone_number_id": phone.id,
            "code_method": command.code_method,
            "language": command.language,
            "code": code,
            "text": f"WhatsApp code {code[:3]}-{code[3:]}",
            "sent_at": now,
            "expires_at": issued.expires_at,
        }
    )
    return issued


def verify_code(tenant: Tenant, phone: PhoneNumber, command: VerifyCode) -> None:
    """The code sent last, before it expires and within its attempts → `VERIFIED` (for `verification_days` unless
    registered); the first number verified becomes the trial's number when a trial has none (SEED-TRIAL-1, -5)."""
    if phone.code_verification_status == CodeVerificationStatus.VERIFIED:
        raise invalid_parameter(ALREADY_VERIFIED)
    policy = tenant.policy.numbers
    onboarding = tenant.store.onboarding_of(phone.id)
    issued = onboarding.code
    now = tenant.clock.now()
    if issued is None:
        raise _code_refused("Code couldn't be verified: no code was requested for this number (call request_code).")
    if now >= issued.expires_at:
        raise _code_refused("Code couldn't be verified: the code has expired. Request a new one.")
    if issued.attempts >= policy.code_attempts:
        raise _throttled("Code couldn't be verified: too many attempts with this code. Request a new one.")
    if command.code != issued.code:
        issued.attempts += 1
        raise _code_refused("Code couldn't be verified: the code is not the one sent to this number.")
    onboarding.code = None
    decisions.step(tenant, CODE_VERIFICATION_LIFECYCLE, phone, "verify")
    onboarding.verified_at = now
    if onboarding.expiry is not None:
        onboarding.expiry.cancel()
    onboarding.expiry = tenant.clock.call_later(
        timedelta(days=policy.verification_days).total_seconds(), partial(_expire, tenant, phone.id)
    )
    _start_trial(tenant, phone)


def _expire(tenant: Tenant, phone_number_id: str) -> None:
    phone = tenant.store.phone_numbers.get(phone_number_id)
    if phone is not None and phone.last_onboarded_time is None:
        decisions.step(tenant, CODE_VERIFICATION_LIFECYCLE, phone, "expire")


def _start_trial(tenant: Tenant, phone: PhoneNumber) -> None:
    if tenant.store.trial is not None:
        return
    business = tenant.store.businesses.get(tenant.business_id)
    unverified = business is not None and business.verification_status != BusinessVerificationStatus.VERIFIED
    waba = tenant.store.wabas.get(phone.waba_id)
    if tenant.policy.trial.enabled or (unverified and waba is not None and waba.business_id == business.id):
        trial.start(tenant, phone, tenant.clock.now())


def register(tenant: Tenant, phone: PhoneNumber, command: RegisterPhoneNumber) -> None:
    """Register (or re-register) on the Cloud API with the two-step PIN; the call counts toward the 10 per 72 h.

    Refusals in order: 133016 (too many calls), 131031 (a banned number), 133006 (ownership not verified),
    133005 (not the number's PIN), 100 (a region change while registered; the portfolio's registered-number cap).
    A refusal of the first, third or fourth kind marks the number's registration failed.
    """
    policy = tenant.policy.numbers
    onboarding = tenant.store.onboarding_of(phone.id)
    now = tenant.clock.now()
    if onboarding.register_limited(now, limit=policy.register_calls, window=policy.register_window_seconds):
        phone.registration_failed = True
        raise GraphError(GraphErrorCode.REGISTER_RATE_LIMIT)
    onboarding.count_register_call(now)
    if "register" not in STATUS_LIFECYCLE.triggers(phone.status):
        raise GraphError(GraphErrorCode.ACCOUNT_LOCKED, f"The phone number is {phone.status} and cannot be registered.")
    if phone.code_verification_status != CodeVerificationStatus.VERIFIED:
        phone.registration_failed = True
        raise GraphError(GraphErrorCode.REVERIFICATION_NEEDED)
    if phone.pin is not None and command.pin != phone.pin:
        phone.registration_failed = True
        raise GraphError(GraphErrorCode.PIN_MISMATCH)
    region = command.data_localization_region
    if phone.registered and region is not None and region != phone.data_localization_region:
        raise invalid_parameter(
            "data_localization_region cannot be changed while the number is registered: deregister it first."
        )
    if not phone.registered:
        _check_registered_cap(tenant, phone)
    phone.pin, phone.is_pin_enabled = command.pin, True
    if region is not None:
        phone.data_localization_region = region
    decisions.step(tenant, STATUS_LIFECYCLE, phone, "register", messaging_limits.phone_tier(tenant, phone))


def _check_registered_cap(tenant: Tenant, phone: PhoneNumber) -> None:
    waba = tenant.store.wabas.get(phone.waba_id)
    if waba is None:
        return
    cap = number_cap(tenant, waba)
    registered = [other for other in portfolio_numbers(tenant, waba.business_id) if other.registered]
    if len(registered) >= cap:
        raise invalid_parameter(
            f"You've reached the maximum number of registered phone numbers for this business ({cap}); an "
            f"unverified business may register {tenant.policy.trial.max_numbers_unverified}."
        )


def deregister(tenant: Tenant, phone: PhoneNumber) -> None:
    """`CONNECTED` → `DISCONNECTED`: sends answer 133010 until it registers again; counts toward the 10 per 72 h."""
    policy = tenant.policy.numbers
    onboarding = tenant.store.onboarding_of(phone.id)
    now = tenant.clock.now()
    if onboarding.register_limited(now, limit=policy.register_calls, window=policy.register_window_seconds):
        raise GraphError(GraphErrorCode.REGISTER_RATE_LIMIT)
    onboarding.count_register_call(now)
    if not phone.registered:
        raise invalid_parameter(NOT_REGISTERED)
    decisions.step(tenant, STATUS_LIFECYCLE, phone, "deregister")


def set_pin(phone: PhoneNumber, pin: str) -> None:
    """`POST /{phone-number-id}` with `pin`: sets or changes the two-step PIN (no old PIN needed, §2.8)."""
    phone.pin, phone.is_pin_enabled = pin, True
