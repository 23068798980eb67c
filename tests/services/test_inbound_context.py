"""A button or interactive reply is a tap on a business message, so its webhook always carries `context`."""

from __future__ import annotations

import pytest

from sandbox.context import Tenant
from sandbox.domain.commands import ReceiveMessage, SendMessage
from sandbox.domain.errors import Conflict
from sandbox.services import messaging

REPLY = {"type": "button_reply", "button_reply": {"id": "yes", "title": "Yes"}}


def test_button_reply_without_context_taps_the_newest_business_message(tenant: Tenant) -> None:
    phone_number_id = tenant.document()["phone_number_id"]
    template = {"name": "hello_world", "language": {"code": "en_US"}}
    sent = messaging.send_message(tenant, SendMessage(phone_number_id, "+16505551234", "template", template))

    reply = messaging.receive_message(tenant, ReceiveMessage("16505551234", "interactive", REPLY))

    assert reply.context_message_id == sent.wamid


def test_button_reply_with_nothing_to_tap_is_refused(tenant: Tenant) -> None:
    with pytest.raises(Conflict):
        messaging.receive_message(tenant, ReceiveMessage("16505551234", "interactive", REPLY))


def test_text_without_context_stays_without_context(tenant: Tenant) -> None:
    assert (
        messaging.receive_message(tenant, ReceiveMessage("16505551234", "text", {"body": "hi"})).context_message_id
        is None
    )
