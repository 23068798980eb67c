"""The 24-hour customer-service window (SEED-MSG-1) and per-message pricing of what is sent in or out of it."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sandbox.domain.message import Pricing
from sandbox.domain.pricing import pmp_price

WINDOW = timedelta(hours=24)


@dataclass(slots=True)
class CustomerServiceWindows:
    """Last inbound message time per (business phone number, customer): META-SEND "customer service window".

    Any inbound message opens the window or resets it to 24 hours. Kept in the order they were last reset, which
    is the order they close in, so closed windows leave from the front (O(1) amortised).
    """

    last_inbound: OrderedDict[tuple[str, str], datetime] = field(default_factory=OrderedDict)
    length: timedelta = WINDOW

    def customer_wrote(self, phone_number_id: str, wa_id: str, at: datetime) -> None:
        key = (phone_number_id, wa_id)
        self.last_inbound[key] = at
        self.last_inbound.move_to_end(key)
        self.expire(at)

    def expire(self, now: datetime) -> None:
        windows = self.last_inbound
        while windows:
            key, last = next(iter(windows.items()))
            if last + self.length > now:
                break
            del windows[key]

    def closes_at(self, phone_number_id: str, wa_id: str) -> datetime | None:
        last = self.last_inbound.get((phone_number_id, wa_id))
        return None if last is None else last + self.length

    def is_open(self, phone_number_id: str, wa_id: str, now: datetime) -> bool:
        closes = self.closes_at(phone_number_id, wa_id)
        return closes is not None and now < closes


def price(message_type: str, template_category: str | None, window_open: bool) -> tuple[str, str, bool]:
    """`(pricing.category, pricing.type, billable)` under PMP (META-PRICE, meta-messaging.md §4.5)."""
    return pmp_price(message_type, template_category, window_open)


def new_pricing(
    message_type: str, template_category: str | None, window_open: bool, conversation_id: str, sent_at: datetime
) -> Pricing:
    """PMP `pricing`; `conversation.id` (v23 and earlier) is one per message."""
    category, pricing_type, billable = price(message_type, template_category, window_open)
    return Pricing(category, pricing_type, billable, conversation_id, sent_at + WINDOW)
