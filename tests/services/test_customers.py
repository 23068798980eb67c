"""Customers, conversations and windows stay bounded however many people a tenant reaches (issue 15 item 5)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sandbox.context import Tenant
from sandbox.domain.commands import ReceiveMessage
from sandbox.errors import GraphError, GraphErrorCode
from sandbox.services import messaging
from sandbox.services.customers import customer_for, customer_with_user_id


def wrote(tenant: Tenant, wa_id: str) -> None:
    messaging.receive_message(tenant, ReceiveMessage(wa_id=wa_id, type="text", content={"body": "hi"}))


def test_idle_customers_beyond_the_cap_are_forgotten_least_recent_first(tenant: Tenant) -> None:
    tenant.policy.journal.customers = 3
    for n in range(6):
        customer_for(tenant, f"1650555{n:04d}")
    customer_for(tenant, "16505550003")  # used again: the most recent
    customer_for(tenant, "16505559999")
    assert [c.wa_id for c in tenant.store.customers] == ["16505550005", "16505550003", "16505559999"]


def test_a_customer_in_an_open_window_is_kept_past_the_cap(tenant: Tenant) -> None:
    tenant.policy.journal.customers = 2
    wrote(tenant, "16505550001")
    for n in range(2, 6):
        customer_for(tenant, f"1650555{n:04d}")
    assert "16505550001" in tenant.store.customers
    assert len(tenant.store.customers) == 2
    tenant.clock.advance(timedelta(hours=24).total_seconds())
    for n in range(6, 9):
        customer_for(tenant, f"1650555{n:04d}")
    assert "16505550001" not in tenant.store.customers


def test_closed_windows_and_idle_conversations_leave(tenant: Tenant) -> None:
    tenant.policy.journal.customers = 5
    for n in range(50):
        wrote(tenant, f"1650555{n:04d}")
        tenant.clock.advance(3600)
    # A window lasts 24 hours: of 50 written an hour apart, the newest 24 are open and the rest gone.
    assert len(tenant.store.windows.last_inbound) == 24
    assert len(tenant.store.customers) <= 24
    assert len(tenant.store.conversations) <= 24 + 8
    tenant.clock.advance(86400)
    for n in range(100, 120):
        customer_for(tenant, f"1650555{n:04d}")
    assert len(tenant.store.windows.last_inbound) == 0
    assert len(tenant.store.customers) == 5
    assert len(tenant.store.conversations) <= 5 * len(tenant.store.phone_numbers)


def test_the_bsuid_index_stays_bounded_and_forgets_with_the_customers(tenant: Tenant) -> None:
    tenant.policy.journal.customers = 3
    first = customer_for(tenant, "16505550000")
    assert customer_with_user_id(tenant, first.user_id) is first
    for n in range(1, 500):
        customer_for(tenant, f"1650555{n:04d}")
    assert len(tenant.store.customer_user_ids) <= 2 * len(tenant.store.customers) + 64
    with pytest.raises(GraphError) as refused:
        customer_with_user_id(tenant, first.user_id)
    assert refused.value.code == GraphErrorCode.PARAMETER_VALUE_INVALID
    for customer in tenant.store.customers:
        assert customer_with_user_id(tenant, customer.user_id) is customer
