"""The 24-hour customer-service window (SEED-MSG-1) and PMP pricing (meta-messaging.md §4.5, §6.1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.domain.conversation import WINDOW, CustomerServiceWindows, new_pricing, price

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
PHONE = "106540352242922"
CUSTOMER = "16505551234"


def test_window_is_closed_before_the_customer_writes() -> None:
    windows = CustomerServiceWindows()
    assert windows.closes_at(PHONE, CUSTOMER) is None
    assert not windows.is_open(PHONE, CUSTOMER, START)


def test_inbound_message_opens_the_window_for_24_hours() -> None:
    windows = CustomerServiceWindows()
    windows.customer_wrote(PHONE, CUSTOMER, START)
    assert windows.is_open(PHONE, CUSTOMER, START)
    assert windows.is_open(PHONE, CUSTOMER, START + timedelta(hours=23, minutes=59, seconds=59))
    assert not windows.is_open(PHONE, CUSTOMER, START + timedelta(hours=24))
    assert windows.closes_at(PHONE, CUSTOMER) == START + WINDOW


def test_another_message_resets_the_timer() -> None:
    windows = CustomerServiceWindows()
    windows.customer_wrote(PHONE, CUSTOMER, START)
    windows.customer_wrote(PHONE, CUSTOMER, START + timedelta(hours=20))
    assert windows.is_open(PHONE, CUSTOMER, START + timedelta(hours=43))
    assert not windows.is_open(PHONE, CUSTOMER, START + timedelta(hours=44))


def test_window_is_per_business_number_and_customer() -> None:
    windows = CustomerServiceWindows()
    windows.customer_wrote(PHONE, CUSTOMER, START)
    assert not windows.is_open("999", CUSTOMER, START)
    assert not windows.is_open(PHONE, "16505550000", START)


@given(
    writes=st.lists(st.integers(min_value=0, max_value=10 * 86_400), max_size=10),
    probe=st.integers(min_value=0, max_value=12 * 86_400),
)
def test_window_open_iff_some_earlier_write_is_less_than_24h_old(writes: list[int], probe: int) -> None:
    windows = CustomerServiceWindows()
    for second in sorted(writes):
        if second <= probe:
            windows.customer_wrote(PHONE, CUSTOMER, START + timedelta(seconds=second))
    expected = any(0 <= probe - second < 86_400 for second in writes)
    assert windows.is_open(PHONE, CUSTOMER, START + timedelta(seconds=probe)) == expected


@pytest.mark.parametrize(
    ("message_type", "category", "window_open", "expected"),
    [
        ("text", None, True, ("service", "free_customer_service", False)),
        ("image", None, False, ("service", "free_customer_service", False)),
        ("template", "UTILITY", True, ("utility", "free_customer_service", False)),
        ("template", "UTILITY", False, ("utility", "regular", True)),
        ("template", "MARKETING", True, ("marketing", "regular", True)),
        ("template", "AUTHENTICATION", False, ("authentication", "regular", True)),
    ],
)
def test_price(message_type: str, category: str | None, window_open: bool, expected: tuple[str, str, bool]) -> None:
    assert price(message_type, category, window_open) == expected


def test_new_pricing_conversation_expires_24h_after_sending() -> None:
    pricing = new_pricing("template", "MARKETING", False, "ab" * 16, START)
    assert pricing.conversation_expires_at == START + timedelta(hours=24)
    assert (pricing.category, pricing.type, pricing.billable) == ("marketing", "regular", True)
