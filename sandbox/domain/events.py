"""Facts the domain records; services hand them to the webhook outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.domain.message import Message


@dataclass(frozen=True, slots=True)
class MessageStatusChanged:
    message: Message
    status: str
    at: datetime


@dataclass(frozen=True, slots=True)
class MessageReceived:
    message: Message
    profile_name: str
    user_id: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class AccountEvent:
    """A non-`messages` webhook (`field`), already in Meta's `value` shape; the lifecycles emit these through the
    constructors in sandbox/webhooks/fields.py. `waba_id` names the WABA (`entry[].id`); without it the WABA of
    `phone_number_id`, else the tenant's first WABA."""

    field: str
    value: dict[str, Any]
    at: datetime
    phone_number_id: str | None = None
    waba_id: str | None = None


Event = MessageStatusChanged | MessageReceived | AccountEvent
