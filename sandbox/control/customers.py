"""The people on the other side: a customer writes in, a customer's habits change, a message is moved by hand."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.control.common import SandboxError, json_body, respond, tenant_of
from sandbox.domain.commands import ReceiveMessage
from sandbox.domain.lifecycle import InvalidTransition
from sandbox.domain.message import INBOUND_TYPES
from sandbox.errors import GraphErrorCode
from sandbox.services import customers, messaging, progression

WA_ID = re.compile(r"^[0-9]{7,15}$")
REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "text": ("body",),
    "location": ("latitude", "longitude"),
    "reaction": ("message_id",),
    "button": ("payload", "text"),
    "interactive": ("type",),
}
INTERACTIVE_REPLIES = ("button_reply", "list_reply", "nfm_reply")


def _wa_id(value: Any, name: str) -> str:
    digits = re.sub(r"[\s+()-]", "", value) if isinstance(value, str) else ""
    if not WA_ID.match(digits):
        raise SandboxError(400, f"{name} must be a phone number of 7 to 15 digits")
    return digits


def parse_inbound(body: dict[str, Any]) -> ReceiveMessage:
    wa_id = _wa_id(body.get("from"), "from")
    message_type = body.get("type", "text")
    if message_type not in INBOUND_TYPES:
        raise SandboxError(400, f"type must be one of {', '.join(sorted(INBOUND_TYPES))}")
    content = body.get(message_type, {} if message_type == "request_welcome" else None)
    if message_type == "contacts":
        if not isinstance(content, list) or not content:
            raise SandboxError(400, "contacts must be a non-empty list")
    elif not isinstance(content, dict):
        raise SandboxError(400, f"{message_type} must be an object")
    for key in REQUIRED_KEYS.get(message_type, ()):
        if key not in content:
            raise SandboxError(400, f"{message_type}.{key} is required")
    if message_type == "text" and not isinstance(content["body"], str):
        raise SandboxError(400, "text.body must be a string")
    if message_type == "interactive":
        reply = content["type"]
        if reply not in INTERACTIVE_REPLIES or not isinstance(content.get(reply), dict):
            raise SandboxError(400, f"interactive.type must be one of {', '.join(INTERACTIVE_REPLIES)} with its object")
    context = body.get("context")
    context_id = None
    if context is not None:
        if not isinstance(context, dict) or not isinstance(context.get("message_id", context.get("id")), str):
            raise SandboxError(400, 'context must be {"message_id": "wamid..."}')
        context_id = context.get("message_id", context.get("id"))
    profile = body.get("profile")
    if profile is not None and not (isinstance(profile, dict) and isinstance(profile.get("name"), str)):
        raise SandboxError(400, 'profile must be {"name": "..."}')
    phone_number_id = body.get("phone_number_id")
    if phone_number_id is not None and not isinstance(phone_number_id, str):
        raise SandboxError(400, "phone_number_id must be a string")
    return ReceiveMessage(
        wa_id=wa_id,
        type=message_type,
        content=content,
        phone_number_id=phone_number_id,
        context_message_id=context_id,
        profile_name=profile["name"] if profile else None,
    )


async def inbound(request: Request) -> Response:
    tenant = tenant_of(request)
    command = parse_inbound(await json_body(request, required=True))
    try:
        message = messaging.receive_message(tenant, command)
    except LookupError as error:
        raise SandboxError(404 if command.phone_number_id else 409, str(error)) from error
    return respond({"message": {"id": message.wamid}, "messages": [{"id": message.wamid}]})


async def put_customer(request: Request) -> Response:
    tenant = tenant_of(request)
    wa_id = _wa_id(request.path_params["wa_id"], "wa_id")
    try:
        customer = customers.update_customer(tenant, wa_id, await json_body(request))
    except ValueError as error:
        raise SandboxError(400, str(error)) from error
    return respond(customer.snapshot())


async def list_customers(request: Request) -> Response:
    return respond({"data": [customer.snapshot() for customer in tenant_of(request).store.customers]})


async def get_customer(request: Request) -> Response:
    tenant = tenant_of(request)
    customer = tenant.store.customers.get(_wa_id(request.path_params["wa_id"], "wa_id"))
    if customer is None:
        raise SandboxError(404, "no such customer")
    return respond(customer.snapshot())


async def move_message(request: Request) -> Response:
    tenant = tenant_of(request)
    action = request.path_params["action"]
    if action not in ("deliver", "read", "fail"):
        raise SandboxError(404, "action must be deliver, read or fail")
    message = messaging.find_message(tenant, request.path_params["wamid"])
    if message is None or message.direction != "outbound":
        raise SandboxError(404, "no outbound message with that id")
    body = await json_body(request)
    code = None
    if action == "fail":
        raw = body.get("code", int(GraphErrorCode.SOMETHING_WENT_WRONG))
        if not isinstance(raw, int) or isinstance(raw, bool) or raw not in GraphErrorCode._value2member_map_:
            raise SandboxError(400, "code must be a Graph error code the sandbox knows (GET /_sandbox/errors)")
        code = GraphErrorCode(raw)
    details = body.get("details")
    if details is not None and not isinstance(details, str):
        raise SandboxError(400, "details must be a string")
    try:
        progression.move_by_hand(tenant, message, action, code, details)
    except InvalidTransition as error:
        raise SandboxError(409, f"message is {message.status}: cannot {action}") from error
    return respond(message.snapshot())


routes = [
    Route("/_sandbox/tenants/{tenant}/inbound", inbound, methods=["POST"]),
    Route("/_sandbox/tenants/{tenant}/customers", list_customers, methods=["GET"]),
    Route("/_sandbox/tenants/{tenant}/customers/{wa_id}", put_customer, methods=["PUT"]),
    Route("/_sandbox/tenants/{tenant}/customers/{wa_id}", get_customer, methods=["GET"]),
    Route("/_sandbox/tenants/{tenant}/messages/{wamid}/{action}", move_message, methods=["POST"]),
]
