"""Pricing by era, open CBP conversations and the cost ledger (meta-lifecycle.md §6, meta-messaging.md §4.5;
SEED-MSG-3, SEED-MSG-4).

Three eras: conversation-based pricing (CBP) with the 2022 categories `business_initiated` / `user_initiated`, CBP
with the category model from 2023-06-01, per-message pricing (PMP) from 2025-07-01. A message is priced when it is
sent (its `sent` webhook already carries `pricing`); it is charged when it is first delivered (or read): under CBP
the conversation once, under PMP the message. Amounts are kept in micro-dollars (integers), so totals are exact.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from itertools import islice
from typing import Any, Literal

from sandbox.domain.message import TEMPLATE_TYPE, Pricing

PricingModel = Literal["auto", "conversation", "conversation_category", "per_message"]

CATEGORY_START = datetime(2023, 6, 1, tzinfo=UTC)
SERVICE_FREE_FROM = datetime(2024, 11, 1, tzinfo=UTC)
PMP_START = datetime(2025, 7, 1, tzinfo=UTC)
CONVERSATION_LENGTH = timedelta(hours=24)
# Free entry points (§6.1): a customer arrives from a Click-to-WhatsApp ad or a Page call to action (an inbound
# message with a `referral`), the business answers within 24 h, and 72 h from that answer are free.
ENTRY_POINT_REPLY_WITHIN = timedelta(hours=24)
ENTRY_POINT_LENGTH = timedelta(hours=72)
REFERRAL_CONVERSION = "referral_conversion"
# Open conversations past this many (a tenant writing to millions of users within a day) drop the oldest first.
OPEN_LIMIT = 200_000
MICROS = 1_000_000


class Era(StrEnum):
    CBP_2022 = "cbp_2022"
    CBP_2023 = "cbp_2023"
    PMP = "pmp"


def era(model: str, at: datetime) -> Era:
    """The pricing era of a send at `at`: forced by the `pricing.model` knob, or by the date under `auto`."""
    if model == "per_message":
        return Era.PMP
    if model == "conversation":
        return Era.CBP_2022
    if model == "conversation_category":
        return Era.CBP_2023
    if at >= PMP_START:
        return Era.PMP
    return Era.CBP_2023 if at >= CATEGORY_START else Era.CBP_2022


# Markets by the recipient's country calling code (meta-lifecycle.md §6.1: "1 = North America, 55 = Brazil,
# 91 = India"); codes are prefix-free, so the two-digit ones are tried before "1".
MARKETS: dict[str, str] = {
    "1": "north_america",
    "55": "brazil",
    "91": "india",
    "44": "united_kingdom",
    "49": "germany",
}
REST_OF_WORLD = "rest_of_world"


def market(wa_id: str) -> tuple[str, str | None]:
    """`(market, country calling code)`; the code is None for the rest of the world (no full ITU table here)."""
    for code in (wa_id[:2], wa_id[:1]):
        found = MARKETS.get(code)
        if found is not None:
            return found, code
    return REST_OF_WORLD, None


def _usd(*rates: float) -> dict[str, int]:
    names = ("business_initiated", "user_initiated", "marketing", "utility", "authentication", "service")
    card = {name: round(rate * MICROS) for name, rate in zip(names, rates, strict=True)}
    card["marketing_lite"] = card["marketing"]
    card["authentication_international"] = card["authentication-international"] = card["authentication"]
    return card


# USD per conversation (CBP) or per delivered template (PMP), by market and category. Illustrative: of the order of
# Meta's published rate cards of 2022-2024 (developers.facebook.com/docs/whatsapp/pricing), not Meta's figures of
# any one quarter. Columns: business_initiated, user_initiated, marketing, utility, authentication, service.
RATE_CARD: dict[str, dict[str, int]] = {
    "north_america": _usd(0.0147, 0.0088, 0.0250, 0.0040, 0.0135, 0.0088),
    "brazil": _usd(0.0500, 0.0300, 0.0625, 0.0080, 0.0315, 0.0300),
    "india": _usd(0.0091, 0.0040, 0.0107, 0.0014, 0.0014, 0.0040),
    "united_kingdom": _usd(0.0705, 0.0388, 0.0529, 0.0220, 0.0358, 0.0388),
    "germany": _usd(0.1365, 0.0750, 0.1365, 0.0550, 0.0768, 0.0940),
    REST_OF_WORLD: _usd(0.0604, 0.0236, 0.0604, 0.0113, 0.0226, 0.0236),
}


def rate(category: str, market_name: str) -> int:
    """Micro-dollars for one charge of `category` in `market_name` (0 for a category the card does not price)."""
    return RATE_CARD[market_name].get(category, 0)


def pmp_entry_point(
    book: Conversations, *, phone_number_id: str, waba_id: str, wa_id: str, now: datetime, new_id: Callable[[], str]
) -> Pricing | None:
    """PMP inside a free entry point: free, `free_entry_point`, sharing the window's `conversation.id` (§6.2)."""
    if not (book.referrals or book.entry_points):
        return None
    book.expire(now)
    entry = book.entry_point(phone_number_id, wa_id, waba_id, now, new_id)
    if entry is None:
        return None
    return Pricing(REFERRAL_CONVERSION, "free_entry_point", False, entry.id, entry.expires_at, "PMP")


def pmp_price(message_type: str, template_category: str | None, window_open: bool) -> tuple[str, str, bool]:
    """`(pricing.category, pricing.type, billable)` under PMP (meta-lifecycle.md §6.2).

    Non-template messages are free service messages; utility templates are free inside an open window;
    every other template is charged.
    """
    if message_type != TEMPLATE_TYPE:
        return "service", "free_customer_service", False
    category = (template_category or "utility").lower()
    if category == "utility" and window_open:
        return "utility", "free_customer_service", False
    return category, "regular", True


@dataclass(slots=True, eq=False)
class OpenConversation:
    """One CBP conversation: shared by the business messages sent to one user while it is open, charged once."""

    id: str
    key: tuple[str, str, str]
    waba_id: str
    category: str
    opened_at: datetime
    expires_at: datetime
    billable: bool
    charged: bool = False


@dataclass(slots=True)
class Conversations:
    """Open CBP conversations by (number, user, category) — the category is "" in the 2022 era, when one
    conversation at a time serves a user — plus each user's newest (a service message joins any open one).

    Every conversation lasts 24 hours from its opening, so opening order is expiry order: expired ones leave from
    the front of one queue, amortised O(1) per send, and memory is bounded by a day of conversations (and OPEN_LIMIT).
    """

    by_key: dict[tuple[str, str, str], OpenConversation] = field(default_factory=dict)
    newest: dict[tuple[str, str], OpenConversation] = field(default_factory=dict)
    queue: deque[OpenConversation] = field(default_factory=deque)
    free_used: dict[str, tuple[str, int]] = field(default_factory=dict)
    limit: int = OPEN_LIMIT
    # Free entry points, in both pricing models: referral arrivals not yet answered, and open 72-hour windows, each
    # with its own queue in time order (each has one length, so time order is expiry order here too).
    referrals: dict[tuple[str, str], datetime] = field(default_factory=dict)
    referral_queue: deque[tuple[datetime, tuple[str, str]]] = field(default_factory=deque)
    entry_points: dict[tuple[str, str], OpenConversation] = field(default_factory=dict)
    entry_queue: deque[OpenConversation] = field(default_factory=deque)

    def expire(self, now: datetime) -> None:
        queue = self.queue
        while queue and (queue[0].expires_at <= now or len(queue) > self.limit):
            self._drop(queue.popleft())
        referrals = self.referral_queue
        while referrals and (referrals[0][0] + ENTRY_POINT_REPLY_WITHIN <= now or len(referrals) > self.limit):
            at, user = referrals.popleft()
            if self.referrals.get(user) == at:
                del self.referrals[user]
        entries = self.entry_queue
        while entries and (entries[0].expires_at <= now or len(entries) > self.limit):
            gone = entries.popleft()
            if self.entry_points.get(gone.key[:2]) is gone:
                del self.entry_points[gone.key[:2]]

    def referred(self, phone_number_id: str, wa_id: str, at: datetime) -> None:
        """A customer wrote with a `referral` (an ad or a Page call to action): a reply within 24 h opens a free
        entry point, unless one is open already."""
        self.expire(at)
        user = (phone_number_id, wa_id)
        if user in self.entry_points:
            return
        self.referrals[user] = at
        self.referral_queue.append((at, user))

    def entry_point(
        self, phone_number_id: str, wa_id: str, waba_id: str, now: datetime, new_id: Callable[[], str]
    ) -> OpenConversation | None:
        """The open free entry point of this user, or the one this business message opens (answering a referral
        within 24 h), or None; call `expire` first. O(1), and nothing at all while no referral is pending."""
        if not (self.referrals or self.entry_points):
            return None
        user = (phone_number_id, wa_id)
        found = self.entry_points.get(user)
        if found is not None:
            return found
        if self.referrals.pop(user, None) is None:
            return None
        found = OpenConversation(
            new_id(), (*user, REFERRAL_CONVERSION), waba_id, REFERRAL_CONVERSION, now, now + ENTRY_POINT_LENGTH, False
        )
        self.entry_points[user] = found
        self.entry_queue.append(found)
        return found

    def _drop(self, conversation: OpenConversation) -> None:
        if self.by_key.get(conversation.key) is conversation:
            del self.by_key[conversation.key]
        user = conversation.key[:2]
        if self.newest.get(user) is conversation:
            del self.newest[user]

    def find(self, phone_number_id: str, wa_id: str, category: str | None) -> OpenConversation | None:
        """The open conversation of `category` (None: the user's newest of any category); call `expire` first."""
        if category is None:
            return self.newest.get((phone_number_id, wa_id))
        return self.by_key.get((phone_number_id, wa_id, category))

    def open(self, conversation: OpenConversation) -> OpenConversation:
        self.by_key[conversation.key] = conversation
        self.newest[conversation.key[:2]] = conversation
        self.queue.append(conversation)
        return conversation

    def take_free(self, waba_id: str, at: datetime, allowance: int) -> bool:
        """Take one of the month's free conversations of `waba_id` (calendar month, UTC); False once none is left."""
        month = _month(at)
        seen, used = self.free_used.get(waba_id, (month, 0))
        if seen != month:
            used = 0
        if used >= allowance:
            self.free_used[waba_id] = (month, used)
            return False
        self.free_used[waba_id] = (month, used + 1)
        return True

    def open_count(self) -> int:
        return len(self.queue) + len(self.entry_queue)


def cbp_price(
    book: Conversations,
    current: Era,
    *,
    phone_number_id: str,
    waba_id: str,
    wa_id: str,
    message_type: str,
    template_category: str | None,
    window_open: bool,
    now: datetime,
    new_id: Callable[[], str],
    free_tier: int,
) -> Pricing:
    """A business message's CBP `pricing`: the open conversation it joins, or the one it opens (§6.1).

    2022: one conversation per user at a time, `user_initiated` when it opens inside the customer-service window,
    `business_initiated` outside it; the month's first `free_tier` conversations of the WABA are free.
    2023 on: a template joins or opens a conversation of its category; a free-form message joins any open one or
    opens a `service` one; only service conversations are free-tier (and all are free from 2024-11-01).
    Inside a free entry point every message joins its `referral_conversion` conversation (none other opens).
    """
    book.expire(now)
    entry = book.entry_point(phone_number_id, wa_id, waba_id, now, new_id)
    if entry is not None:
        return Pricing(entry.category, "", False, entry.id, entry.expires_at, "CBP", entry)
    if current is Era.CBP_2022:
        category, slot = ("user_initiated" if window_open else "business_initiated"), ""
        found = book.find(phone_number_id, wa_id, "")
    elif message_type == TEMPLATE_TYPE:
        category = (template_category or "utility").lower()
        slot = category
        found = book.find(phone_number_id, wa_id, category)
    else:
        category, slot = "service", "service"
        found = book.find(phone_number_id, wa_id, None)
    if found is None:
        if current is Era.CBP_2023 and category == "service" and now >= SERVICE_FREE_FROM:
            billable = False
        elif current is Era.CBP_2022 or category == "service":
            billable = not book.take_free(waba_id, now, free_tier)
        else:
            billable = True
        found = book.open(
            OpenConversation(
                new_id(), (phone_number_id, wa_id, slot), waba_id, category, now, now + CONVERSATION_LENGTH, billable
            )
        )
    return Pricing(found.category, "", found.billable, found.id, found.expires_at, "CBP", found)


@dataclass(frozen=True, slots=True)
class Charge:
    """One line of the ledger: a CBP conversation or a PMP message, charged when first delivered."""

    at: datetime
    wamid: str
    phone_number_id: str
    wa_id: str
    country_calling_code: str | None
    market: str
    pricing_model: str
    category: str
    billable: bool
    amount_micros: int
    conversation_id: str | None

    def document(self, credit_usd: float | None) -> dict[str, Any]:
        return {
            "at": self.at,
            "wamid": self.wamid,
            "phone_number_id": self.phone_number_id,
            "wa_id": self.wa_id,
            "country_calling_code": self.country_calling_code,
            "market": self.market,
            "pricing_model": self.pricing_model,
            "category": self.category,
            "billable": self.billable,
            "conversation_id": self.conversation_id,
        } | amount(self.amount_micros, credit_usd)


def amount(micros: int, credit_usd: float | None) -> dict[str, float]:
    """`amount_usd`, or under the credit view `amount_credits` (derived here, never stored)."""
    usd = micros / MICROS
    if credit_usd is None:
        return {"amount_usd": round(usd, 6)}
    return {"amount_credits": round(usd / credit_usd, 6)}


def charge_of(pricing: Pricing, *, wamid: str, phone_number_id: str, wa_id: str, at: datetime) -> Charge | None:
    """The charge a first delivery makes, or None when what it belongs to was charged already."""
    if pricing.charged:
        return None
    pricing.charged = True
    conversation = pricing.conversation
    if conversation is not None:
        if conversation.charged:
            return None
        conversation.charged = True
    market_name, code = market(wa_id)
    micros = rate(pricing.category, market_name) if pricing.billable else 0
    conversation_id = conversation.id if conversation is not None else None
    return Charge(
        at,
        wamid,
        phone_number_id,
        wa_id,
        code,
        market_name,
        pricing.model,
        pricing.category,
        pricing.billable,
        micros,
        conversation_id,
    )


@dataclass(slots=True)
class Totals:
    charges: int = 0
    billable: int = 0
    amount_micros: int = 0

    def add(self, charge: Charge) -> None:
        self.charges += 1
        self.billable += charge.billable
        self.amount_micros += charge.amount_micros

    def document(self, credit_usd: float | None) -> dict[str, Any]:
        return {"charges": self.charges, "billable": self.billable} | amount(self.amount_micros, credit_usd)


def _month(at: datetime) -> str:
    return f"{at.year:04d}-{at.month:02d}"


class Ledger:
    """Every charge of a tenant: running totals kept forever (overall, per category, per month), the newest
    `entries` charges kept in a ring buffer."""

    def __init__(self, entries: int) -> None:
        self.entries: deque[Charge] = deque(maxlen=entries)
        self.total = Totals()
        self.by_category: dict[str, Totals] = {}
        self.by_month: dict[str, Totals] = {}

    def record(self, charge: Charge) -> None:
        self.entries.append(charge)
        self.total.add(charge)
        category = self.by_category.get(charge.category)
        if category is None:
            category = self.by_category[charge.category] = Totals()
        category.add(charge)
        month = _month(charge.at)
        monthly = self.by_month.get(month)
        if monthly is None:
            monthly = self.by_month[month] = Totals()
        monthly.add(charge)

    def resize(self, entries: int) -> None:
        if entries != self.entries.maxlen:
            self.entries = deque(self.entries, maxlen=entries)

    def document(self, *, limit: int, credit_usd: float | None = None) -> dict[str, Any]:
        """Totals and the newest `limit` entries, newest first; `credit_usd` projects every amount into credits."""
        newest = [charge.document(credit_usd) for charge in islice(reversed(self.entries), limit)]
        return {
            "view": "usd" if credit_usd is None else "credits",
            "total": self.total.document(credit_usd),
            "by_category": {name: totals.document(credit_usd) for name, totals in sorted(self.by_category.items())},
            "by_month": {name: totals.document(credit_usd) for name, totals in sorted(self.by_month.items())},
            "entries": newest,
            "entries_kept": len(self.entries),
        } | ({"credit_usd": credit_usd} if credit_usd is not None else {})
