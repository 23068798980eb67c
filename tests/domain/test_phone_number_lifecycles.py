"""The tables of a number's lifecycles, as plain Python: what each trigger allows and what its callbacks raise."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sandbox.domain.events import DisplayNameDecided, PhoneNumberQualityChanged
from sandbox.domain.lifecycle import InvalidTransition
from sandbox.domain.onboarding import eligibility_reasons
from sandbox.domain.phone_number import (
    CODE_VERIFICATION_LIFECYCLE,
    NAME_LIFECYCLE,
    NEW_NAME_LIFECYCLE,
    STATUS_LIFECYCLE,
    PhoneNumber,
)

AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def new_number() -> PhoneNumber:
    return PhoneNumber(
        "1",
        "w",
        "14155551234",
        "Lucky Shrub",
        "1",
        status="PENDING",
        code_verification_status="NOT_VERIFIED",
        name_status="PENDING_REVIEW",
        platform_type="NOT_APPLICABLE",
    )


def test_register_deregister_and_onboarding_event() -> None:
    phone = new_number()
    STATUS_LIFECYCLE.fire(phone, "register", AT)
    assert phone.status == "CONNECTED" and phone.platform_type == "CLOUD_API"
    assert [type(event) for event in phone.drain_events()] == [PhoneNumberQualityChanged]
    STATUS_LIFECYCLE.fire(phone, "deregister", AT)
    assert phone.status == "DISCONNECTED" and not phone.registered
    STATUS_LIFECYCLE.fire(phone, "register", AT)
    assert phone.drain_events() == []
    STATUS_LIFECYCLE.fire(phone, "ban", AT)
    with pytest.raises(InvalidTransition):
        STATUS_LIFECYCLE.fire(phone, "register", AT)


def test_code_verification() -> None:
    phone = new_number()
    with pytest.raises(InvalidTransition):
        CODE_VERIFICATION_LIFECYCLE.fire(phone, "expire", AT)
    CODE_VERIFICATION_LIFECYCLE.fire(phone, "verify", AT)
    CODE_VERIFICATION_LIFECYCLE.fire(phone, "expire", AT)
    CODE_VERIFICATION_LIFECYCLE.fire(phone, "verify", AT)
    assert phone.code_verification_status == "VERIFIED"


def test_name_review_issues_the_certificate_and_a_change_needs_reregistering() -> None:
    phone = new_number()
    NAME_LIFECYCLE.fire(phone, "approve", AT, None)
    [event] = phone.drain_events()
    assert isinstance(event, DisplayNameDecided) and event.decision == "APPROVED"
    assert phone.new_certificate is not None and phone.certificate is None
    phone.new_display_name = "Jasper's Market"
    NEW_NAME_LIFECYCLE.fire(phone, "request", AT)
    NEW_NAME_LIFECYCLE.fire(phone, "approve", AT, None)
    assert phone.verified_name == "Jasper's Market" and phone.new_name_status == "APPROVED"
    STATUS_LIFECYCLE.fire(phone, "register", AT)
    assert phone.certificate is not None and phone.new_certificate is None and phone.new_name_status == "NONE"


def test_declined_name_is_rejected_with_a_reason_and_resubmitted() -> None:
    phone = new_number()
    NAME_LIFECYCLE.fire(phone, "decline", AT, "NAME_FORMAT_UNACCEPTABLE")
    [event] = phone.drain_events()
    assert isinstance(event, DisplayNameDecided)
    assert (event.decision, event.rejection_reason) == ("REJECTED", "NAME_FORMAT_UNACCEPTABLE")
    assert [r["reason"] for r in eligibility_reasons(phone, "PENDING")] == [
        "waba_review_pending",
        "name_declined",
        "code_not_verified",
    ]
    NAME_LIFECYCLE.fire(phone, "resubmit", AT)
    assert phone.name_status == "PENDING_REVIEW"
