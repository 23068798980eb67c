"""Messages both ways, on one shared lifecycle machine.

Outbound: accepted → sent → delivered → read, or failed (META-STATUS: `delivered` may be skipped when delivery
and read coincide; `failed` may follow `sent`). Inbound messages are `received` and become `read` when the business
marks them read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from sandbox.domain.events import Event, MessageStatusChanged
from sandbox.domain.lifecycle import InvalidTransition, declare
from sandbox.errors import GraphErrorCode

if TYPE_CHECKING:
    from transitions.core import TransitionConfigDict

    from sandbox.domain.pricing import OpenConversation

Direction = Literal["outbound", "inbound"]


class MessageStatus(StrEnum):
    ACCEPTED = "accepted"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    RECEIVED = "received"


MESSAGE_TRANSITIONS: list[TransitionConfigDict] = [
    {"trigger": "send", "source": MessageStatus.ACCEPTED, "dest": MessageStatus.SENT, "after": "record_status"},
    {"trigger": "deliver", "source": MessageStatus.SENT, "dest": MessageStatus.DELIVERED, "after": "record_status"},
    {
        "trigger": "read",
        "source": [MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.RECEIVED],
        "dest": MessageStatus.READ,
        "after": "record_status",
    },
    {
        "trigger": "fail",
        "source": [MessageStatus.ACCEPTED, MessageStatus.SENT],
        "dest": MessageStatus.FAILED,
        "after": "record_status",
    },
]
MESSAGE_LIFECYCLE = declare(
    "message",
    "status",
    MessageStatus,
    MESSAGE_TRANSITIONS,
    "An outbound message as its status webhooks report it; an inbound one until the business reads it.",
)

TEMPLATE_TYPE = "template"
# The `type`s a business can send (meta-messaging.md §2).
OUTBOUND_TYPES = (
    "text",
    TEMPLATE_TYPE,
    "image",
    "audio",
    "video",
    "document",
    "sticker",
    "location",
    "contacts",
    "interactive",
    "reaction",
)
# The `type`s of inbound message webhooks (meta-messaging.md §4.4).
INBOUND_TYPES = frozenset(
    {
        "text",
        "image",
        "audio",
        "video",
        "document",
        "sticker",
        "location",
        "contacts",
        "interactive",
        "button",
        "reaction",
        "order",
        "system",
        "unsupported",
        "request_welcome",
    }
)
# META-REACT: reactions only ever get a `sent` status.
SENT_ONLY_TYPES = frozenset({"reaction"})


@dataclass(slots=True)
class Pricing:
    """`pricing` and `conversation` of a message's status webhooks, fixed when it is sent (domain/pricing.py).

    `model` is `PMP` or `CBP`; under CBP `type` is empty and `conversation` is the open conversation the message
    joined (charged once, at its first delivery); under PMP `charged` marks the message charged.
    """

    category: str
    type: str
    billable: bool
    conversation_id: str
    conversation_expires_at: datetime | None
    model: str = "PMP"
    conversation: OpenConversation | None = None
    charged: bool = False


@dataclass(slots=True, eq=False)
class Message:
    wamid: str
    direction: Direction
    phone_number_id: str
    wa_id: str
    type: str
    content: Any
    created_at: datetime
    status: str = MessageStatus.ACCEPTED.value
    to_input: str | None = None
    # The BSUID a send named its recipient by (`recipient`); None for a send by `to` and for inbound messages.
    recipient_user_id: str | None = None
    context_message_id: str | None = None
    biz_opaque_callback_data: str | None = None
    pricing: Pricing | None = None
    failure: tuple[GraphErrorCode, str] | None = None
    history: list[tuple[str, datetime]] = field(default_factory=list)
    pending_events: list[Event] = field(default_factory=list)

    def record_status(self, at: datetime) -> None:
        self.history.append((self.status, at))
        if self.direction == "outbound":
            self.pending_events.append(MessageStatusChanged(self, self.status, at))

    def drain_events(self) -> list[Event]:
        events, self.pending_events = self.pending_events, []
        return events

    @property
    def is_terminal(self) -> bool:
        return MESSAGE_LIFECYCLE.is_final(self.status)

    def snapshot(self) -> dict[str, Any]:
        return {
            "id": self.wamid,
            "direction": self.direction,
            "phone_number_id": self.phone_number_id,
            "wa_id": self.wa_id,
            "type": self.type,
            self.type: self.content,
            "status": self.status,
            "created_at": self.created_at,
            "history": [{"status": status, "timestamp": at} for status, at in self.history],
            "context": {"message_id": self.context_message_id} if self.context_message_id else None,
            "biz_opaque_callback_data": self.biz_opaque_callback_data,
            "errors": [{"code": int(self.failure[0]), "details": self.failure[1]}] if self.failure else None,
        }


def advance(message: Message, trigger: str, at: datetime) -> None:
    """Move `message` along its lifecycle; raises `InvalidTransition` when `trigger` is not allowed now."""
    MESSAGE_LIFECYCLE.fire(message, trigger, at)


def fail(message: Message, code: GraphErrorCode, details: str | None, at: datetime) -> None:
    """Fail `message` with `code`; like `advance`, an illegal move raises `InvalidTransition` and changes nothing."""
    previous = message.failure
    # Set before firing: the status event recorded by the transition carries the failure.
    message.failure = (code, details if details is not None else code.description)
    try:
        MESSAGE_LIFECYCLE.fire(message, "fail", at)
    except InvalidTransition:
        message.failure = previous
        raise


def message_triggers(status: str) -> list[str]:
    return MESSAGE_LIFECYCLE.triggers(status)


def received(message: Message, at: datetime) -> Message:
    message.status = MessageStatus.RECEIVED.value
    message.history.append((message.status, at))
    return message
