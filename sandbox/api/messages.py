"""`POST /{phone-number-id}/messages`: send a message, or mark one read (with a typing indicator)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from sandbox.api.graph import GraphRequest, GraphRoute
from sandbox.api.message_bodies import parse_messages_request
from sandbox.domain.commands import MarkMessageRead
from sandbox.domain.message import TEMPLATE_TYPE, Message
from sandbox.services import messaging


async def send_message(graph: GraphRequest) -> Response:
    command = parse_messages_request(graph.node_id, await graph.body(), owned=True)
    if isinstance(command, MarkMessageRead):
        messaging.mark_message_read(graph.tenant, command)
        return graph.respond({"success": True})
    return graph.respond(_render_accepted(messaging.send_message(graph.tenant, command)))


def _render_accepted(message: Message) -> dict[str, Any]:
    sent: dict[str, Any] = {"id": message.wamid}
    if message.type == TEMPLATE_TYPE:
        sent["message_status"] = "accepted"
    # A send by BSUID answers with `user_id` instead of `wa_id`; pywa reads whichever is there.
    contact = (
        {"input": message.to_input, "wa_id": message.wa_id}
        if message.recipient_user_id is None
        else {"input": message.to_input, "user_id": message.recipient_user_id}
    )
    return {
        "messaging_product": "whatsapp",
        "contacts": [contact],
        "messages": [sent],
    }


routes = [GraphRoute("phone_number", "messages", "POST", send_message)]
