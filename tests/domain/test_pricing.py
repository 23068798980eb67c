"""Pricing by era, CBP conversations, the free tier, the ledger and the credit view (domain/pricing.py;
meta-lifecycle.md §6, SEED-MSG-3, SEED-MSG-4)."""

from __future__ import annotations

import itertools
from collections import deque
from datetime import UTC, datetime, timedelta

import pytest

from sandbox.domain.message import Pricing
from sandbox.domain.pricing import (
    MICROS,
    RATE_CARD,
    Charge,
    Conversations,
    Era,
    Ledger,
    amount,
    cbp_price,
    charge_of,
    era,
    market,
    pmp_entry_point,
    pmp_price,
    rate,
)

START = datetime(2022, 3, 1, 9, 0, tzinfo=UTC)
PHONE, WABA, USER = "106540352242922", "102290129340398", "16505551234"


def _ids() -> itertools.count[int]:
    return itertools.count(1)


def _price(
    book: Conversations,
    current: Era,
    at: datetime,
    *,
    template: str | None = None,
    window_open: bool = False,
    user: str = USER,
    free_tier: int = 0,
    ids: itertools.count[int] | None = None,
) -> Pricing:
    counter = ids or _ids()
    return cbp_price(
        book,
        current,
        phone_number_id=PHONE,
        waba_id=WABA,
        wa_id=user,
        message_type="template" if template else "text",
        template_category=template,
        window_open=window_open,
        now=at,
        new_id=lambda: f"c{next(counter)}",
        free_tier=free_tier,
    )


@pytest.mark.parametrize(
    ("model", "at", "expected"),
    [
        ("auto", datetime(2022, 2, 1, tzinfo=UTC), Era.CBP_2022),
        ("auto", datetime(2023, 5, 31, 23, 59, tzinfo=UTC), Era.CBP_2022),
        ("auto", datetime(2023, 6, 1, tzinfo=UTC), Era.CBP_2023),
        ("auto", datetime(2025, 6, 30, 23, 59, tzinfo=UTC), Era.CBP_2023),
        ("auto", datetime(2025, 7, 1, tzinfo=UTC), Era.PMP),
        ("auto", datetime(2026, 1, 5, tzinfo=UTC), Era.PMP),
        ("conversation", datetime(2026, 1, 5, tzinfo=UTC), Era.CBP_2022),
        ("conversation_category", datetime(2022, 3, 1, tzinfo=UTC), Era.CBP_2023),
        ("per_message", datetime(2022, 3, 1, tzinfo=UTC), Era.PMP),
    ],
)
def test_era_by_date_and_by_knob(model: str, at: datetime, expected: Era) -> None:
    assert era(model, at) is expected


@pytest.mark.parametrize(
    ("wa_id", "expected"),
    [
        ("16505551234", ("north_america", "1")),
        ("5511987654321", ("brazil", "55")),
        ("919876543210", ("india", "91")),
        ("447911123456", ("united_kingdom", "44")),
        ("4915123456789", ("germany", "49")),
        ("33612345678", ("rest_of_world", None)),
        ("4312345678", ("rest_of_world", None)),
    ],
)
def test_market_by_country_calling_code(wa_id: str, expected: tuple[str, str | None]) -> None:
    assert market(wa_id) == expected


def test_rate_card_prices_every_category_in_every_market() -> None:
    for card in RATE_CARD.values():
        for category in ("business_initiated", "user_initiated", "marketing", "utility", "authentication", "service"):
            assert card[category] > 0
    assert rate("marketing", "north_america") == 25_000
    assert rate("no_such_category", "india") == 0


def test_cbp_2022_one_conversation_per_user_shared_until_it_expires() -> None:
    book, ids = Conversations(), _ids()
    first = _price(book, Era.CBP_2022, START, template="MARKETING", ids=ids)
    assert (first.model, first.type, first.category, first.billable) == ("CBP", "", "business_initiated", True)
    assert first.conversation_expires_at == START + timedelta(hours=24)
    # A reply inside the window joins the open business-initiated conversation: same id, same expiry.
    later = _price(book, Era.CBP_2022, START + timedelta(hours=23), window_open=True, ids=ids)
    assert (later.conversation_id, later.category) == (first.conversation_id, "business_initiated")
    assert later.conversation_expires_at == first.conversation_expires_at
    assert later.conversation is first.conversation
    # 24 hours on, the conversation is over: a reply in the window opens a user-initiated one.
    after = _price(book, Era.CBP_2022, START + timedelta(hours=24), window_open=True, ids=ids)
    assert after.conversation_id != first.conversation_id
    assert after.category == "user_initiated"
    assert book.open_count() == 1


def test_cbp_2022_users_and_numbers_have_their_own_conversations() -> None:
    book, ids = Conversations(), _ids()
    one = _price(book, Era.CBP_2022, START, template="UTILITY", ids=ids)
    other = _price(book, Era.CBP_2022, START, template="UTILITY", user="5511987654321", ids=ids)
    assert one.conversation_id != other.conversation_id


def test_cbp_2023_categories_open_side_by_side_and_service_joins_any() -> None:
    book, ids = Conversations(), _ids()
    at = datetime(2024, 3, 1, tzinfo=UTC)
    marketing = _price(book, Era.CBP_2023, at, template="MARKETING", ids=ids)
    utility = _price(book, Era.CBP_2023, at + timedelta(minutes=1), template="UTILITY", ids=ids)
    again = _price(book, Era.CBP_2023, at + timedelta(minutes=2), template="MARKETING", ids=ids)
    free_form = _price(book, Era.CBP_2023, at + timedelta(minutes=3), window_open=True, ids=ids)
    assert marketing.conversation_id != utility.conversation_id
    assert again.conversation_id == marketing.conversation_id
    assert (free_form.conversation_id, free_form.category) == (utility.conversation_id, "utility")
    assert book.open_count() == 2


def test_cbp_2023_service_conversation_opens_only_when_none_is_open() -> None:
    book = Conversations()
    at = datetime(2024, 3, 1, tzinfo=UTC)
    service = _price(book, Era.CBP_2023, at, window_open=True)
    assert (service.category, service.billable) == ("service", True)
    assert service.conversation is not None and service.conversation.key[2] == "service"


def test_service_conversations_are_free_from_november_2024() -> None:
    book = Conversations()
    service = _price(book, Era.CBP_2023, datetime(2024, 11, 1, tzinfo=UTC), window_open=True, free_tier=0)
    assert service.billable is False
    assert book.free_used == {}


def test_free_tier_the_first_conversations_of_a_month_per_waba() -> None:
    book, ids = Conversations(), _ids()
    users = [f"1650555{n:04d}" for n in range(4)]
    billable = [_price(book, Era.CBP_2022, START, template="MARKETING", user=u, free_tier=2, ids=ids).billable
                for u in users]  # fmt: skip
    assert billable == [False, False, True, True]
    # A new calendar month starts the allowance again.
    april = datetime(2022, 4, 1, tzinfo=UTC)
    assert _price(book, Era.CBP_2022, april, template="MARKETING", free_tier=2, ids=ids).billable is False


def test_free_tier_from_2023_counts_service_conversations_only() -> None:
    book, ids = Conversations(), _ids()
    at = datetime(2023, 7, 1, tzinfo=UTC)
    assert _price(book, Era.CBP_2023, at, template="MARKETING", free_tier=5, ids=ids).billable is True
    assert _price(book, Era.CBP_2023, at, window_open=True, user="447911123456", free_tier=5, ids=ids).billable is False


def test_open_conversations_are_bounded() -> None:
    book, ids = Conversations(limit=3), _ids()
    for n in range(10):
        _price(book, Era.CBP_2022, START + timedelta(seconds=n), template="MARKETING", user=f"1650555{n:04d}", ids=ids)
    assert book.open_count() <= 4
    assert len(book.by_key) <= 4 and len(book.newest) <= 4


def test_pmp_categories() -> None:
    assert pmp_price("text", None, True) == ("service", "free_customer_service", False)
    assert pmp_price("template", "UTILITY", True) == ("utility", "free_customer_service", False)
    assert pmp_price("template", "UTILITY", False) == ("utility", "regular", True)
    assert pmp_price("template", "MARKETING", True) == ("marketing", "regular", True)
    assert pmp_price("template", "AUTHENTICATION", False) == ("authentication", "regular", True)


def test_a_conversation_is_charged_once_at_its_first_delivery() -> None:
    book = Conversations()
    first = _price(book, Era.CBP_2022, START, template="MARKETING")
    second = _price(book, Era.CBP_2022, START + timedelta(minutes=5), template="MARKETING")
    charge = charge_of(first, wamid="w1", phone_number_id=PHONE, wa_id=USER, at=START + timedelta(seconds=2))
    assert charge is not None
    assert (charge.pricing_model, charge.category, charge.billable) == ("CBP", "business_initiated", True)
    assert charge.amount_micros == rate("business_initiated", "north_america")
    assert charge.conversation_id == first.conversation_id
    assert charge_of(second, wamid="w2", phone_number_id=PHONE, wa_id=USER, at=START) is None
    assert charge_of(first, wamid="w1", phone_number_id=PHONE, wa_id=USER, at=START) is None


def test_a_pmp_message_is_charged_once_and_a_free_one_costs_nothing() -> None:
    paid = Pricing("marketing", "regular", True, "c1", None)
    free = Pricing("service", "free_customer_service", False, "c2", None)
    charge = charge_of(paid, wamid="w1", phone_number_id=PHONE, wa_id="919876543210", at=START)
    assert charge is not None and charge.amount_micros == rate("marketing", "india")
    assert (charge.market, charge.country_calling_code, charge.conversation_id) == ("india", "91", None)
    assert charge_of(paid, wamid="w1", phone_number_id=PHONE, wa_id="919876543210", at=START) is None
    free_charge = charge_of(free, wamid="w2", phone_number_id=PHONE, wa_id=USER, at=START)
    assert free_charge is not None and free_charge.amount_micros == 0 and not free_charge.billable


def _charge(at: datetime, category: str, micros: int, billable: bool = True) -> Charge:
    return Charge(at, "w", PHONE, USER, "1", "north_america", "PMP", category, billable, micros, None)


def test_ledger_totals_by_category_and_month_and_bounded_entries() -> None:
    ledger = Ledger(entries=2)
    ledger.record(_charge(START, "marketing", 25_000))
    ledger.record(_charge(START, "utility", 4_000))
    ledger.record(_charge(datetime(2022, 4, 2, tzinfo=UTC), "marketing", 25_000))
    ledger.record(_charge(datetime(2022, 4, 2, tzinfo=UTC), "service", 0, billable=False))
    document = ledger.document(limit=10)
    assert document["total"] == {"charges": 4, "billable": 3, "amount_usd": 0.054}
    assert document["by_category"]["marketing"] == {"charges": 2, "billable": 2, "amount_usd": 0.05}
    assert document["by_month"] == {
        "2022-03": {"charges": 2, "billable": 2, "amount_usd": 0.029},
        "2022-04": {"charges": 2, "billable": 1, "amount_usd": 0.025},
    }
    assert document["entries_kept"] == 2
    assert [entry["category"] for entry in document["entries"]] == ["service", "marketing"]
    assert ledger.document(limit=1)["entries"][0]["category"] == "service"
    ledger.resize(1)
    assert len(ledger.entries) == 1 and ledger.total.charges == 4


def test_credit_view_is_a_projection() -> None:
    ledger = Ledger(entries=10)
    ledger.record(_charge(START, "marketing", 80 * MICROS))
    credits = ledger.document(limit=10, credit_usd=2.0)
    assert credits["view"] == "credits" and credits["credit_usd"] == 2.0
    assert credits["total"] == {"charges": 1, "billable": 1, "amount_credits": 40.0}
    assert credits["entries"][0]["amount_credits"] == 40.0 and "amount_usd" not in credits["entries"][0]
    # Nothing is stored: the USD view is unchanged, another rate projects anew.
    assert ledger.document(limit=10)["total"]["amount_usd"] == 80.0
    assert ledger.document(limit=10, credit_usd=4.0)["total"]["amount_credits"] == 20.0
    assert amount(1, None) == {"amount_usd": 0.000001}


def test_no_referral_no_entry_point_and_nothing_stored() -> None:
    book = Conversations()
    assert book.entry_point(PHONE, USER, WABA, START, lambda: "x") is None
    assert pmp_entry_point(book, phone_number_id=PHONE, waba_id=WABA, wa_id=USER, now=START, new_id=lambda: "x") is None
    assert (book.referrals, book.entry_points) == ({}, {})


def test_cbp_free_entry_point_72_hours_from_the_reply() -> None:
    book, ids = Conversations(), _ids()
    book.referred(PHONE, USER, START)
    reply = START + timedelta(hours=23)
    first = _price(book, Era.CBP_2022, reply, window_open=True, ids=ids)
    assert (first.category, first.billable, first.model) == ("referral_conversion", False, "CBP")
    assert first.conversation_expires_at == reply + timedelta(hours=72)
    # Every message inside it joins it, a template too, and no other conversation opens.
    inside = _price(book, Era.CBP_2022, reply + timedelta(hours=71), template="MARKETING", ids=ids)
    assert inside.conversation_id == first.conversation_id
    assert book.queue == deque()
    after = _price(book, Era.CBP_2022, reply + timedelta(hours=72), template="MARKETING", ids=ids)
    assert (after.category, after.billable) == ("business_initiated", True)
    assert book.entry_points == {}


def test_a_reply_after_24_hours_opens_no_entry_point() -> None:
    book = Conversations()
    book.referred(PHONE, USER, START)
    late = _price(book, Era.CBP_2023, START + timedelta(hours=24), template="MARKETING")
    assert late.category == "marketing"
    assert book.referrals == {} and book.entry_points == {}


def test_pmp_free_entry_point_is_free_for_every_message() -> None:
    book, ids = Conversations(), _ids()
    at = datetime(2025, 8, 1, tzinfo=UTC)
    book.referred(PHONE, USER, at)

    def price_at(moment: datetime) -> Pricing | None:
        return pmp_entry_point(
            book, phone_number_id=PHONE, waba_id=WABA, wa_id=USER, now=moment, new_id=lambda: f"c{next(ids)}"
        )

    first, later = price_at(at + timedelta(minutes=1)), price_at(at + timedelta(hours=50))
    assert first is not None and later is not None
    assert (first.category, first.type, first.billable, first.model) == (
        "referral_conversion", "free_entry_point", False, "PMP",
    )  # fmt: skip
    assert later.conversation_id == first.conversation_id and first.conversation is None
    assert price_at(at + timedelta(minutes=1, hours=72)) is None
