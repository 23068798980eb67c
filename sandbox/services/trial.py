"""The unverified trial on the send path (SEED-TRIAL-1..6): which sends it refuses, with which Graph error.

The business's `verification_status` and the WABA's `account_review_status` are read at send time, as they
stand; `verification_changed` applies `account_mode` at once, for code that changes them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sandbox.context import Tenant
from sandbox.domain.business import BusinessVerificationStatus
from sandbox.domain.phone_number import CodeVerificationStatus, PhoneNumber
from sandbox.domain.trial import Refusal, Trial
from sandbox.domain.waba import AccountMode, AccountReviewStatus
from sandbox.errors import GraphError, GraphErrorCode

VERIFIED = BusinessVerificationStatus.VERIFIED.value
APPROVED = AccountReviewStatus.APPROVED.value
VERIFIED_CODE = CodeVerificationStatus.VERIFIED.value


def start(tenant: Tenant, phone: PhoneNumber, now: datetime) -> Trial:
    """SEED-TRIAL-1: the trial starts when sign-up completes, on the first number of the WABA (SEED-TRIAL-5)."""
    tenant.policy.trial.enabled = True
    tenant.store.trial = Trial(phone.id, now, now + timedelta(days=tenant.policy.trial.days))
    return tenant.store.trial


def _trial(tenant: Tenant, phone: PhoneNumber) -> Trial:
    trial = tenant.store.trial
    if trial is None:
        # Switched on for a tenant built without one: it starts now, on the WABA's first verified number.
        numbers = [p for p in tenant.store.phone_numbers if p.waba_id == phone.waba_id]
        first = next((p for p in numbers if p.code_verification_status == VERIFIED_CODE), phone)
        trial = tenant.store.trial = Trial(first.id, tenant.clock.now(), tenant.clock.now())
    trial.expires_at = trial.started_at + timedelta(days=tenant.policy.trial.days)
    return trial


def check(tenant: Tenant, phone: PhoneNumber, wa_id: str, business_initiated: bool | None) -> Callable[[], None] | None:
    """Raise the Graph error of the trial's refusal of this send; otherwise return what counts it, to be called
    once every other check has admitted the message (a refused one is never counted), or None without a trial.

    A business-initiated message is a template; a free-form one inside the customer-service window answers a
    customer; `None` is a free-form one outside the window, which only the number and the trial's end can refuse
    (it then fails with 131047, as on Meta). A business both verified and reviewed (`APPROVED`) has left the trial.
    """
    policy = tenant.policy.trial
    if not policy.enabled:
        return None
    business = tenant.store.businesses.get(tenant.business_id)
    waba = tenant.store.wabas.get(phone.waba_id)
    verified = business is not None and business.verification_status == VERIFIED
    if waba is not None and waba.account_mode != _mode(verified):
        verification_changed(tenant)
    if verified and waba is not None and waba.account_review_status == APPROVED:
        return None
    trial = _trial(tenant, phone)
    customers = policy.verified_customers if verified else policy.customers
    now = tenant.clock.now()
    refusal = trial.refusal(
        phone.id, wa_id, business_initiated, now, recipient_limit=policy.recipients, customer_limit=customers
    )
    if refusal is not None:
        raise refused(refusal, trial, policy.recipients, customers)
    if business_initiated is None:
        return None
    return lambda: trial.count(wa_id, business_initiated)


def refused(refusal: Refusal, trial: Trial, recipients: int, customers: int) -> GraphError:
    """Meta's error for each refusal, told apart by code.

    Codes: OTHER_NUMBER → 131005 Access denied (the number has no permission to message in the trial);
    RECIPIENTS → 131030 Recipient phone number not in allowed list (Meta's answer for a sandbox account's
    recipients); CUSTOMERS → 131048 Spam rate limit hit (Meta's "restrictions on how many messages can be sent
    from this phone number"); EXPIRED → 131031 Account has been locked (restricted until verification).
    """
    if refusal is Refusal.OTHER_NUMBER:
        return GraphError(
            GraphErrorCode.ACCESS_DENIED,
            f"The unverified trial works only on the first phone number of the WhatsApp Business Account "
            f"({trial.phone_number_id}). Verify the business to send from other numbers.",
        )
    if refusal is Refusal.RECIPIENTS:
        return GraphError(
            GraphErrorCode.RECIPIENT_NOT_IN_ALLOWED_LIST,
            f"Recipient phone number not in allowed list: the unverified trial sends business-initiated messages "
            f"to at most {recipients} distinct phone numbers.",
        )
    if refusal is Refusal.CUSTOMERS:
        return GraphError(
            GraphErrorCode.SPAM_RATE_LIMIT_HIT,
            f"Message failed to send because the unverified trial answers at most {customers} distinct customers.",
        )
    return GraphError(
        GraphErrorCode.ACCOUNT_LOCKED,
        f"The unverified trial ended on {trial.expires_at.date().isoformat()}: no message can be sent until the "
        f"business is verified and the WhatsApp Business Account is approved.",
    )


def _mode(verified: bool) -> str:
    return AccountMode.LIVE.value if verified else AccountMode.SANDBOX.value


def verification_changed(tenant: Tenant) -> None:
    """Set `account_mode` on the tenant's WABAs and numbers from the business's verification: `LIVE` once it is
    `verified`, `SANDBOX` before. Sends call it when the mode is stale; a verification service may call it too."""
    business = tenant.store.businesses.get(tenant.business_id)
    mode = _mode(business is not None and business.verification_status == VERIFIED)
    for waba in tenant.store.wabas:
        if waba.business_id == tenant.business_id:
            waba.account_mode = mode
    for phone in tenant.store.phone_numbers:
        waba = tenant.store.wabas.get(phone.waba_id)
        if waba is not None and waba.business_id == tenant.business_id:
            phone.account_mode = mode
