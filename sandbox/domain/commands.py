"""Graph operations as plain data: what a handler parses a request into and a service carries out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class SendMessage:
    """`POST /{phone-number-id}/messages` with a message: `content` is the validated `<type>` object."""

    phone_number_id: str
    to: str
    type: str
    content: Any
    recipient_type: str = "individual"
    context_message_id: str | None = None
    biz_opaque_callback_data: str | None = None


@dataclass(frozen=True, slots=True)
class MarkMessageRead:
    """`POST /{phone-number-id}/messages` with `status: read`, optionally showing a typing indicator."""

    phone_number_id: str
    message_id: str
    typing_indicator: str | None = None


@dataclass(frozen=True, slots=True)
class ReceiveMessage:
    """A customer writes to the business (control plane `inbound`): `content` is the webhook's `<type>` object."""

    wa_id: str
    type: str
    content: Any
    phone_number_id: str | None = None
    context_message_id: str | None = None
    profile_name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
