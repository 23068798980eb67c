"""The migration's preconditions in §5.1's order and its lifecycle (sandbox/domain/migration.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sandbox.domain import migration as m
from sandbox.domain.lifecycle import InvalidTransition
from sandbox.domain.phone_number import PhoneNumber
from sandbox.domain.waba import SubscribedApp, WhatsAppBusinessAccount

AT = datetime(2026, 1, 1, tzinfo=UTC)


def _world() -> tuple[PhoneNumber, WhatsAppBusinessAccount, WhatsAppBusinessAccount]:
    source = PhoneNumber("1", "w1", "16505551111", "Shop", "1", is_pin_enabled=False)
    return (
        source,
        WhatsAppBusinessAccount("w1", "old", "b1"),
        WhatsAppBusinessAccount("w2", "new", "b1", subscribed_apps=[SubscribedApp("app")]),
    )


def test_everything_in_place_is_no_refusal() -> None:
    source, old, new = _world()
    assert m.refusal(source, old, "verified", new, "verified", False) is None


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("listed", ("2388012", m.ALREADY_LISTED)),
        ("unregistered", ("2388103", m.NOT_ELSEWHERE)),
        ("pin", ("2388001", m.TWO_STEP_ON)),
        ("name", ("2388103", m.NAME_NOT_APPROVED)),
        ("source_unverified", ("2388103", m.SOURCE_NOT_SET_UP)),
        ("business", ("2388103", m.DIFFERENT_BUSINESS)),
        ("destination_pending", ("2388103", m.DESTINATION_NOT_APPROVED)),
        ("payment", ("2388103", m.NO_PAYMENT)),
        ("webhooks", ("2388103", m.NO_WEBHOOKS)),
    ],
)
def test_each_precondition(change: str, expected: tuple[str, str]) -> None:
    source, old, new = _world()
    verification, listed = "verified", change == "listed"
    if change == "unregistered":
        source.status = "DISCONNECTED"
    elif change == "pin":
        source.is_pin_enabled = True
    elif change == "name":
        source.name_status = "PENDING_REVIEW"
    elif change == "source_unverified":
        verification = "pending"
    elif change == "business":
        new.business_id = "b2"
    elif change == "destination_pending":
        new.account_review_status = "PENDING"
    elif change == "payment":
        new.payment_method = False
    elif change == "webhooks":
        new.subscribed_apps = []
    assert m.refusal(source, old, verification, new, "verified", listed) == expected


def test_the_lifecycle_verifies_then_completes_once() -> None:
    record = m.Migration("2", "1", "w1", "w2", AT)
    with pytest.raises(InvalidTransition):
        m.MIGRATION_LIFECYCLE.fire(record, "complete", AT)
    m.MIGRATION_LIFECYCLE.fire(record, "verify", AT)
    m.MIGRATION_LIFECYCLE.fire(record, "complete", AT)
    assert (record.status, record.completed_at) == ("MIGRATED", AT)
