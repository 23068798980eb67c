"""The people on the other side: a customer writes in, a customer's habits change, a message is moved by hand."""

from __future__ import annotations

from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from sandbox.control.common import LIMIT_QUERY, SandboxError, json_body, limit_of, respond, tenant_of
from sandbox.control.faults import DETAILS_LENGTH, KNOWN_CODE
from sandbox.control.parse import ID_LENGTH, Fields, wa_id_of
from sandbox.control.routing import ControlRoute as Route
from sandbox.domain.commands import UNCHANGED, ReceiveMessage, UpdateCustomer
from sandbox.domain.customer import Delivery, Reads
from sandbox.domain.errors import Invalid
from sandbox.domain.lifecycle import InvalidTransition
from sandbox.domain.message import INBOUND_TYPES, MESSAGE_LIFECYCLE
from sandbox.errors import GraphErrorCode
from sandbox.services import customers, messaging, progression

REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "text": ("body",),
    "location": ("latitude", "longitude"),
    "reaction": ("message_id",),
    "button": ("payload", "text"),
    "interactive": ("type",),
}
INTERACTIVE_REPLIES = ("button_reply", "list_reply", "nfm_reply")
CUSTOMER_FIELDS = ("on_whatsapp", "delivery", "reads", "blocked_business", "profile_name", "fail_code")
# A WhatsApp user can write up to 65,536 characters in one message; a profile name is far shorter in practice.
TEXT_LENGTH = 65_536
NAME_LENGTH = 256
MAX_CONTACTS = 100
CONTEXT_SHAPE = '{"message_id": "wamid..."}'


def parse_inbound(body: Fields) -> ReceiveMessage:
    wa_id = body.wa_id("from")
    message_type = body.choice("type", INBOUND_TYPES, default="text")
    if message_type == "contacts":
        contacts = body.items("contacts", _contact, min_items=1, max_items=MAX_CONTACTS, required=True)
        content: Any = list(contacts or ())
    else:
        fields = body.object(message_type, required=message_type != "request_welcome") or Fields({}, message_type)
        for key in REQUIRED_KEYS.get(message_type, ()):
            fields.require(key)
        if message_type == "text":
            fields.text("body", max_length=TEXT_LENGTH, min_length=0)
        if message_type == "interactive":
            reply = fields.raw("type")
            if reply not in INTERACTIVE_REPLIES or not isinstance(fields.raw(reply), dict):
                raise Invalid(f"interactive.type must be one of {', '.join(INTERACTIVE_REPLIES)} with its object")
        content = body.raw(message_type) or {}
    context = body.object("context", what=CONTEXT_SHAPE)
    context_id = None
    if context is not None:
        context_id = context.text("message_id", max_length=ID_LENGTH) or context.text("id", max_length=ID_LENGTH)
        if context_id is None:
            raise Invalid(f"context must be {CONTEXT_SHAPE}")
    profile = body.object("profile", what='{"name": "..."}')
    return ReceiveMessage(
        wa_id=wa_id,
        type=message_type,
        content=content,
        phone_number_id=body.text("phone_number_id", max_length=ID_LENGTH),
        context_message_id=context_id,
        profile_name=profile.text("name", max_length=NAME_LENGTH, min_length=0, required=True) if profile else None,
    )


def _contact(value: Any, name: str) -> Any:
    if not isinstance(value, dict):
        raise Invalid(f"{name} must be an object")
    return value


async def inbound(request: Request) -> Response:
    tenant = tenant_of(request)
    command = parse_inbound(Fields(await json_body(request, required=True)))
    message = messaging.receive_message(tenant, command)
    return respond({"message": {"id": message.wamid}, "messages": [{"id": message.wamid}]})


def parse_update_customer(wa_id: str, body: Fields) -> UpdateCustomer:
    body.only(CUSTOMER_FIELDS)
    return UpdateCustomer(
        wa_id=wa_id,
        on_whatsapp=body.flag("on_whatsapp"),
        delivery=body.choice("delivery", Delivery),
        reads=body.choice("reads", Reads),
        blocked_business=body.flag("blocked_business"),
        profile_name=body.text("profile_name", max_length=NAME_LENGTH),
        # `"fail_code": null` clears the failure; leaving the field out keeps it.
        fail_code=body.choice("fail_code", GraphErrorCode, what=KNOWN_CODE + ", or null")
        if "fail_code" in body
        else UNCHANGED,
    )


async def put_customer(request: Request) -> Response:
    tenant = tenant_of(request)
    command = parse_update_customer(wa_id_of(request.path_params["wa_id"], "wa_id"), Fields(await json_body(request)))
    return respond(customers.update_customer(tenant, command).snapshot())


async def list_customers(request: Request) -> Response:
    """A page of customers in `wa_id` order: `limit` (default 100), and `after`, the cursor of the previous page."""
    after = request.query_params.get("after")
    if after is not None:
        after = wa_id_of(after, "after")
    limit = limit_of(request)
    page = tenant_of(request).store.customers.page(limit, after)
    body: dict[str, Any] = {"data": [customer.snapshot() for customer in page]}
    if page:
        body["paging"] = {"cursors": {"before": page[0].wa_id, "after": page[-1].wa_id}}
        if len(page) == limit:
            body["paging"]["next"] = f"{request.url.path}?limit={limit}&after={page[-1].wa_id}"
    return respond(body)


async def get_customer(request: Request) -> Response:
    tenant = tenant_of(request)
    customer = tenant.store.customers.get(wa_id_of(request.path_params["wa_id"], "wa_id"))
    if customer is None:
        raise SandboxError(404, "no such customer")
    return respond(customer.snapshot())


async def move_message(request: Request) -> Response:
    tenant = tenant_of(request)
    action = request.path_params["action"]
    moves = MESSAGE_LIFECYCLE.table()
    if action not in {trigger for trigger, _, _ in moves}:
        raise SandboxError(404, f"action must be one of {', '.join(trigger for trigger, _, _ in moves)}")
    message = messaging.find_message(tenant, request.path_params["wamid"])
    if message is None or message.direction != "outbound":
        raise SandboxError(404, "no outbound message with that id")
    code, details = parse_move(Fields(await json_body(request)), action)
    try:
        progression.move_by_hand(tenant, message, action, code, details)
    except InvalidTransition as error:
        raise SandboxError(409, f"message is {message.status}: cannot {action}") from error
    return respond(message.snapshot())


def parse_move(body: Fields, action: str = "fail") -> tuple[GraphErrorCode | None, str | None]:
    """The failure's `code` (with `fail` only) and the `details` of a move by hand."""
    code = None
    if action == "fail":
        code = body.choice("code", GraphErrorCode, default=GraphErrorCode.SOMETHING_WENT_WRONG, what=KNOWN_CODE)
    return code, body.text("details", max_length=DETAILS_LENGTH, min_length=0)


routes = [
    Route("/_sandbox/tenants/{tenant}/inbound", inbound, methods=["POST"], body=parse_inbound, body_required=True),
    Route(
        "/_sandbox/tenants/{tenant}/customers",
        list_customers,
        methods=["GET"],
        answer="List",
        query={**LIMIT_QUERY, "after": {"type": "string", "pattern": "^[0-9]{1,32}$"}},
    ),
    Route(
        "/_sandbox/tenants/{tenant}/customers/{wa_id}",
        put_customer,
        methods=["PUT"],
        body=partial(parse_update_customer, "15550100001"),
        answer="Customer",
    ),
    Route("/_sandbox/tenants/{tenant}/customers/{wa_id}", get_customer, methods=["GET"], answer="Customer"),
    Route(
        "/_sandbox/tenants/{tenant}/messages/{wamid}/{action}",
        move_message,
        methods=["POST"],
        body=parse_move,
        answer="Message",
        parameters={"action": {"enum": sorted({trigger for trigger, _, _ in MESSAGE_LIFECYCLE.table()})}},
    ),
]
