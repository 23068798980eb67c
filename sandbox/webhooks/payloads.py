"""Domain events → Meta's webhook payloads (object / entry / changes / value / field).

Shapes follow META-STATUS and the inbound message references (meta-messaging.md §4); one entry, one change and
one message or status per payload, which is what most clients read (client-traffic.md §2.11).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.domain.account import PhoneNumber
from sandbox.domain.customer import Customer
from sandbox.domain.events import AccountEvent, Event, MessageReceived, MessageStatusChanged
from sandbox.domain.message import Message, MessageStatus
from sandbox.errors import webhook_error


@dataclass(frozen=True, slots=True)
class Rendered:
    field: str
    payload: dict[str, Any]
    ordering_key: str
    summary: str


def _major(version: str) -> int:
    try:
        return int(version.lstrip("v").split(".")[0])
    except ValueError:
        return 23


def envelope(waba_id: str, field: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"object": "whatsapp_business_account", "entry": [{"id": waba_id, "changes": [{"value": value, "field": field}]}]}


def _metadata(phone: PhoneNumber) -> dict[str, str]:
    return {"display_phone_number": phone.display_phone_number, "phone_number_id": phone.id}


def _contact(customer: Customer | None, wa_id: str, profile_name: str | None = None) -> dict[str, Any]:
    name = profile_name or (customer.profile_name if customer else "")
    contact: dict[str, Any] = {"profile": {"name": name}, "wa_id": wa_id}
    if customer is not None:
        contact["user_id"] = customer.user_id
    return contact


def status_object(message: Message, status: str, timestamp: int, api_version: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": message.wamid,
        "status": status,
        "timestamp": str(timestamp),
        "recipient_id": message.wa_id,
    }
    if message.biz_opaque_callback_data is not None:
        item["biz_opaque_callback_data"] = message.biz_opaque_callback_data
    if status == MessageStatus.FAILED and message.failure is not None:
        item["errors"] = [webhook_error(*message.failure)]
    elif message.pricing is not None and _carries_pricing(message, status):
        pricing = message.pricing
        if _major(api_version) <= 23:
            conversation: dict[str, Any] = {"id": pricing.conversation_id}
            if status == MessageStatus.SENT and pricing.conversation_expires_at is not None:
                conversation["expiration_timestamp"] = str(int(pricing.conversation_expires_at.timestamp()))
            conversation["origin"] = {"type": pricing.category}
            item["conversation"] = conversation
        item["pricing"] = {
            "billable": pricing.billable,
            "pricing_model": "PMP",
            "type": pricing.type,
            "category": pricing.category,
        }
    return item


def _carries_pricing(message: Message, status: str) -> bool:
    """`pricing` rides on `sent` and on the first of `delivered` or `read` (META-STATUS)."""
    if status in (MessageStatus.SENT, MessageStatus.DELIVERED):
        return True
    if status == MessageStatus.READ:
        return all(previous != MessageStatus.DELIVERED for previous, _ in message.history)
    return False


def inbound_message_object(message: Message, timestamp: int) -> dict[str, Any]:
    item: dict[str, Any] = {}
    if message.context_message_id:
        item["context"] = {"from": "", "id": message.context_message_id}
    item |= {"from": message.wa_id, "id": message.wamid, "timestamp": str(timestamp), "type": message.type}
    item[message.type] = message.content
    return item


def render(
    event: Event, phone: PhoneNumber, customer: Customer | None, api_version: str
) -> Rendered:
    if isinstance(event, MessageStatusChanged):
        message = event.message
        value = {
            "messaging_product": "whatsapp",
            "metadata": _metadata(phone),
            "contacts": [_contact(customer, message.wa_id)],
            "statuses": [status_object(message, event.status, int(event.at.timestamp()), api_version)],
        }
        return Rendered("messages", envelope(phone.waba_id, "messages", value), message.wamid, f"status {event.status}")
    if isinstance(event, MessageReceived):
        message = event.message
        item = inbound_message_object(message, int(event.at.timestamp()))
        if "context" in item:
            item["context"]["from"] = phone.display_phone_number
        value = {
            "messaging_product": "whatsapp",
            "metadata": _metadata(phone),
            "contacts": [_contact(customer, message.wa_id, event.profile_name)],
            "messages": [item],
        }
        return Rendered("messages", envelope(phone.waba_id, "messages", value), message.wa_id, f"message {message.type}")
    value = dict(event.value)
    if event.phone_number_id is not None:
        value.setdefault("metadata", _metadata(phone))
    return Rendered(event.field, envelope(phone.waba_id, event.field, value), event.field, event.field)
