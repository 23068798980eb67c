"""The people on the other side: a customer writes in, a customer's habits change, a message is moved by hand."""

from __future__ import annotations

import mimetypes
from dataclasses import replace
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from sandbox.control.common import LIMIT_QUERY, SandboxError, json_body, limit_of, read_bytes, respond, tenant_of
from sandbox.control.faults import DETAILS_LENGTH, KNOWN_CODE
from sandbox.control.parse import ID_LENGTH, Fields, describe, wa_id_of
from sandbox.control.routing import FILE_BODY
from sandbox.control.routing import ControlRoute as Route
from sandbox.domain.commands import UNCHANGED, ReceiveMedia, ReceiveMessage, UpdateCustomer
from sandbox.domain.customer import Delivery, Reads
from sandbox.domain.errors import Invalid
from sandbox.domain.lifecycle import InvalidTransition
from sandbox.domain.media import INBOUND_MIME_TYPES
from sandbox.domain.message import INBOUND_TYPES, MESSAGE_LIFECYCLE
from sandbox.errors import GraphErrorCode
from sandbox.services import customers, media, messaging, progression

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


MEDIA_QUERY = ("from", "type", "mime_type", "caption", "filename", "phone_number_id", "context_message_id")
CAPTION_LENGTH = 1024
FILENAME_LENGTH = 255
MIME_LENGTH = 255
# Sent as `application/octet-stream` (or with no type) the file's type comes from `mime_type` or its filename.
_UNTYPED = ("", "application/octet-stream")


def parse_inbound_media(query: Fields, content_type: str = "") -> ReceiveMedia:
    """The query of `POST .../inbound/media`; the body is the file, its type the request's Content-Type."""
    query.only(MEDIA_QUERY)
    filename = query.text("filename", max_length=FILENAME_LENGTH)
    mime_type = query.text("mime_type", max_length=MIME_LENGTH) or content_type.strip()
    if mime_type.split(";")[0].strip().lower() in _UNTYPED:
        mime_type = mimetypes.guess_type(filename or "")[0] or "application/octet-stream"
    return ReceiveMedia(
        wa_id=query.wa_id("from"),
        type=query.choice("type", frozenset(INBOUND_MIME_TYPES)),
        mime_type=mime_type,
        data=b"",
        caption=query.text("caption", max_length=CAPTION_LENGTH, min_length=0),
        filename=filename,
        phone_number_id=query.text("phone_number_id", max_length=ID_LENGTH),
        context_message_id=query.text("context_message_id", max_length=ID_LENGTH),
    )


async def inbound_media(request: Request) -> Response:
    """A customer sends a file: the body is its bytes, sent with its Content-Type (or as
    `application/octet-stream` with `mime_type`, or a `filename` to guess it from), at most the cap Graph uploads
    of its kind have (policy `limits.media_max_bytes`; 413 past it). `from` is required. The file is kept as
    tenant media for 7 days (`GET /{media-id}` downloads it) and arrives as a `<type>` message with its id."""
    tenant = tenant_of(request)
    command = parse_inbound_media(Fields(request.query_params), request.headers.get("content-type", ""))
    limit = media.customer_file_limit(tenant, command.mime_type)
    data = await read_bytes(request, limit, f"the cap of {command.mime_type} files (policy limits.media_max_bytes)")
    message = messaging.receive_media(tenant, replace(command, data=data))
    media_id = message.content["id"]
    return respond({"message": {"id": message.wamid}, "messages": [{"id": message.wamid}], "media": {"id": media_id}})


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


MEDIA_QUERY_SCHEMA = describe(parse_inbound_media)
routes = [
    Route("/_sandbox/tenants/{tenant}/inbound", inbound, methods=["POST"], body=parse_inbound, body_required=True),
    Route(
        "/_sandbox/tenants/{tenant}/inbound/media",
        inbound_media,
        methods=["POST"],
        **FILE_BODY,
        query=MEDIA_QUERY_SCHEMA["properties"],
        query_required=MEDIA_QUERY_SCHEMA["required"],
    ),
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
