"""Domain events → Meta's webhook payloads (object / entry / changes / value / field).

`render` picks the renderer of the event's field: `messages` (statuses and inbound messages, below) or one of the
account-side fields (webhooks/fields.py). A `Rendered` is one change; `payload` wraps one or several changes
(chaos batching) in Meta's envelope, grouped by WABA into entries.

Shapes follow META-STATUS and the inbound message references (meta-messaging.md §4.4–§4.5): one entry, one change
and one message or status per payload, which is what most clients read (client-traffic.md §2.11).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sandbox.domain.customer import Customer
from sandbox.domain.events import AccountEvent, MessageReceived, MessageStatusChanged
from sandbox.domain.message import Message, MessageStatus
from sandbox.domain.phone_number import PhoneNumber
from sandbox.errors import webhook_error
from sandbox.webhooks.fields import render_account_event


@dataclass(frozen=True, slots=True)
class Rendered:
    """One change of one webhook: its field, WABA, Meta-shaped `value`, and what the delivery log indexes."""

    field: str
    waba_id: str
    value: dict[str, Any]
    ordering_key: str
    summary: str
    time: int | None = None
    phone_number_id: str | None = None
    wamids: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()
    is_status: bool = False

    def change(self) -> dict[str, Any]:
        return {"value": self.value, "field": self.field}


def payload(changes: list[Rendered]) -> dict[str, Any]:
    """Meta's envelope around `changes`: one entry per WABA (in first-seen order), `time` on account-side fields."""
    if len(changes) == 1:  # every delivery but a chaos batch: the same envelope, built in one go
        (rendered,) = changes
        change = {"value": rendered.value, "field": rendered.field}
        if rendered.time is None:
            entry = {"id": rendered.waba_id, "changes": [change]}
        else:
            entry = {"id": rendered.waba_id, "time": rendered.time, "changes": [change]}
        return {"object": "whatsapp_business_account", "entry": [entry]}
    entries: dict[str, dict[str, Any]] = {}
    for rendered in changes:
        entry = entries.get(rendered.waba_id)
        if entry is None:
            entry = entries[rendered.waba_id] = {"id": rendered.waba_id}
            if rendered.time is not None:
                entry["time"] = rendered.time
            entry["changes"] = []
        entry["changes"].append(rendered.change())
    return {"object": "whatsapp_business_account", "entry": list(entries.values())}


def envelope(waba_id: str, field: str, value: dict[str, Any]) -> dict[str, Any]:
    change = {"value": value, "field": field}
    return {"object": "whatsapp_business_account", "entry": [{"id": waba_id, "changes": [change]}]}


def _major(version: str) -> int:
    try:
        return int(version.lstrip("v").split(".")[0])
    except ValueError:
        return 23


def _metadata(phone: PhoneNumber) -> dict[str, str]:
    return {"display_phone_number": phone.display_phone_number, "phone_number_id": phone.id}


def _contact(customer: Customer | None, wa_id: str, profile_name: str | None = None) -> dict[str, Any]:
    known, name, user_id = customer_facts(customer)
    return _contact_of(wa_id, known, profile_name or name, user_id)


def _contact_of(wa_id: str, known: bool, profile_name: str, user_id: str | None) -> dict[str, Any]:
    contact: dict[str, Any] = {"profile": {"name": profile_name}, "wa_id": wa_id}
    if known:
        contact["user_id"] = user_id
    return contact


def status_object(
    message: Message, status: str, at: datetime, api_version: str, user_id: str | None = None
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": message.wamid,
        "status": status,
        "timestamp": str(int(at.timestamp())),
        "recipient_id": message.wa_id,
    }
    # The BSUID rides on every status of a send by BSUID, and on all but `failed` of a send by phone number.
    user_id = message.recipient_user_id or (user_id if status != MessageStatus.FAILED else None)
    if user_id is not None:
        item["recipient_user_id"] = user_id
    if message.biz_opaque_callback_data is not None:
        item["biz_opaque_callback_data"] = message.biz_opaque_callback_data
    if status == MessageStatus.FAILED and message.failure is not None:
        item["errors"] = [webhook_error(*message.failure)]
    elif message.pricing is not None and _carries_pricing(message, status):
        item |= _pricing_objects(message, status, at, api_version)
    return item


def _pricing_objects(message: Message, status: str, at: datetime, api_version: str) -> dict[str, Any]:
    pricing = message.pricing
    assert pricing is not None
    conversation: dict[str, Any] = {"id": pricing.conversation_id}
    if status == MessageStatus.SENT and pricing.conversation_expires_at is not None:
        conversation["expiration_timestamp"] = str(int(pricing.conversation_expires_at.timestamp()))
    # The era is the message's, fixed when it was priced at send (domain/pricing.py): CBP has no `pricing.type`.
    if pricing.model == "CBP":
        conversation["origin"] = {"type": pricing.category}
        return {
            "conversation": conversation,
            "pricing": {"billable": pricing.billable, "pricing_model": "CBP", "category": pricing.category},
        }
    objects: dict[str, Any] = {}
    # v24+ omits `conversation` outside a free-entry-point window (META-STATUS).
    if _major(api_version) <= 23 or pricing.type == "free_entry_point":
        conversation["origin"] = {"type": pricing.category}
        objects["conversation"] = conversation
    objects["pricing"] = {
        "billable": pricing.billable,
        "pricing_model": "PMP",
        "type": pricing.type,
        "category": pricing.category,
    }
    return objects


def _carries_pricing(message: Message, status: str) -> bool:
    """`pricing` rides on `sent` and on the first of `delivered` or `read` (META-STATUS)."""
    if status in (MessageStatus.SENT, MessageStatus.DELIVERED):
        return True
    if status == MessageStatus.READ:
        return all(previous != MessageStatus.DELIVERED for previous, _ in message.history)
    return False


def inbound_message_object(message: Message, timestamp: int, business_number: str = "") -> dict[str, Any]:
    """`value.messages[]` for an inbound message of any type (META-WH-*; meta-messaging.md §4.4)."""
    content = message.content
    item: dict[str, Any] = {}
    if message.context_message_id:
        item["context"] = {"from": business_number, "id": message.context_message_id}
    item |= {"from": message.wa_id, "id": message.wamid, "timestamp": str(timestamp), "type": message.type}
    if message.type == "request_welcome":
        return item
    if message.type == "unsupported":
        item["errors"] = [
            {
                "code": 131051,
                "title": "Message type unknown",
                "message": "Message type unknown",
                "error_data": {"details": "Message type is currently not supported."},
            }
        ]
        if isinstance(content, dict) and content:
            item["unsupported"] = content
        return item
    if message.type == "system" and isinstance(content, dict) and "identity" in content:
        item["system"] = {key: value for key, value in content.items() if key != "identity"}
        item["identity"] = content["identity"]
        return item
    if isinstance(content, dict) and "referral" in content:
        item["referral"] = content["referral"]
        content = {key: value for key, value in content.items() if key != "referral"}
    item[message.type] = content
    return item


def render_status(
    event: MessageStatusChanged, phone: PhoneNumber, customer: Customer | None, api_version: str
) -> Rendered:
    return render_status_facts(event.message, event.status, event.at, phone, *customer_facts(customer), api_version)


def customer_facts(customer: Customer | None) -> tuple[bool, str, str | None]:
    """What a status shows of its customer: (on file, profile name, BSUID), as they are now."""
    if customer is None:
        return False, "", None
    return True, customer.profile_name, customer.user_id


def render_status_facts(
    message: Message,
    status: str,
    at: datetime,
    phone: PhoneNumber,
    known: bool,
    profile_name: str,
    user_id: str | None,
    api_version: str,
) -> Rendered:
    """A status change from the facts it shows: the customer's (`known`: on file) name and BSUID as they were when
    the status changed; the message's other shown fields no longer change by then."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": _metadata(phone),
        # Status webhooks carry the recipient in `contacts` since the BSUID rollout; pywa 4.5 needs it.
        "contacts": [_contact_of(message.wa_id, known, profile_name, user_id)],
        "statuses": [status_object(message, status, at, api_version, user_id)],
    }
    return Rendered(
        "messages",
        phone.waba_id,
        value,
        message.wamid,
        f"status {status}",
        None,
        phone.id,
        (message.wamid,),
        (message.wa_id,),
        True,
    )


def render_inbound(event: MessageReceived, phone: PhoneNumber, customer: Customer | None) -> Rendered:
    message = event.message
    item = inbound_message_object(message, int(event.at.timestamp()), phone.display_phone_number)
    value: dict[str, Any] = {"messaging_product": "whatsapp", "metadata": _metadata(phone)}
    # A number-change system message comes without a `contacts` block (meta-messaging.md §4.4 system).
    content = message.content if isinstance(message.content, dict) else {}
    if not (message.type == "system" and content.get("type") in ("user_changed_number", "customer_changed_number")):
        value["contacts"] = [_contact(customer, message.wa_id, event.profile_name)]
    value["messages"] = [item]
    return Rendered(
        "messages",
        phone.waba_id,
        value,
        message.wa_id,
        f"message {message.type}",
        phone_number_id=phone.id,
        wamids=(message.wamid,),
        recipients=(message.wa_id,),
    )


def render_account(event: AccountEvent) -> Rendered:
    change = render_account_event(event)
    value = change.value
    summary = change.field + (f" {value['event']}" if isinstance(value.get("event"), str) else "")
    return Rendered(
        change.field,
        change.waba_id,
        value,
        change.ordering_key,
        summary,
        time=int(event.at.timestamp()),
        phone_number_id=change.phone_number_id,
    )
