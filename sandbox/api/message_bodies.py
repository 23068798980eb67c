"""The JSON body of `POST /{phone-number-id}/messages`, parsed into a `SendMessage` or a `MarkMessageRead`.

Only the shape of the body is checked here. Whether the template exists, its parameter counts, the media id,
the replied-to message and the customer-service window are the service's business.

Fidelity: Graph's exact precedence between several faults in one body is unknown; checks run top-down
(envelope, recipient, `type`, the `<type>` object, `context`, `biz_opaque_callback_data`).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from typing import Any

from sandbox.api.interactive_bodies import UNSUPPORTED_MESSAGE_TYPE, parse_interactive
from sandbox.api.parsing import (
    JSONObject,
    Path,
    as_bool,
    as_index,
    as_int,
    as_list,
    as_number,
    as_object,
    as_str,
    copy_json,
    graph_param_error,
    max_length,
    media_object,
    object_at,
    one_of,
    optional_object,
    optional_str,
    param_name,
    require,
    required_details,
    required_str,
)
from sandbox.domain.commands import MarkMessageRead, SendMessage
from sandbox.domain.errors import is_integer
from sandbox.errors import GraphError, GraphErrorCode, invalid_parameter, parameter_value_invalid, required_parameter

MESSAGING_PRODUCT_REQUIRED = "(#100) The parameter messaging_product is required."
# Meta's answer to a malformed `to` (e.g. a `00` international prefix), observed with code 100.
PARAMETER_INVALID = "Parameter Invalid"
TEMPLATE_TEXT_FORMAT_INVALID = "Param text cannot have new-line/tab characters or more than 4 consecutive spaces"

MAX_TEXT_BODY = 4096
MAX_CAPTION = 1024
MAX_BIZ_OPAQUE_CALLBACK_DATA = 512
MAX_TEMPLATE_NAME = 512
MAX_COUPON_CODE = 15
MAX_BUTTON_INDEX = 9

MEDIA_TYPES = ("image", "audio", "video", "document", "sticker")
CAPTIONED_MEDIA_TYPES = frozenset({"image", "video", "document"})
RECIPIENT_TYPES = ("individual", "group")
TEMPLATE_COMPONENT_TYPES = ("header", "body", "button")
TEMPLATE_BUTTON_SUB_TYPES = ("quick_reply", "url", "copy_code", "flow", "catalog", "mpm", "voice_call", "order_details")
TEMPLATE_PARAMETER_TYPES = (
    "text", "currency", "date_time", "image", "video", "document", "location", "payload", "coupon_code", "action",
)  # fmt: skip
CONTACT_LIST_FIELDS = ("addresses", "emails", "phones", "urls")

# A business-scoped user id or parent BSUID as Meta writes them: `US.13491208655302741918`, `US.ENT.…`.
_BSUID = re.compile(r"[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,64}")
# The first run holds no digit, so the match cannot backtrack: linear in a `to` of any length.
_PHONE_NUMBER = re.compile(r"\+?[()\- ]*[0-9][0-9()\- ]*")
_NOT_DIGITS = re.compile(r"[^0-9]")
_BIRTHDAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TEMPLATE_TEXT_FORBIDDEN = re.compile(r"[\n\t]| {5,}")


def parse_messages_request(phone_number_id: str, body: object, *, owned: bool = False) -> SendMessage | MarkMessageRead:
    """Parse any decoded JSON value into a command, or raise `GraphError` as Graph would answer it.

    A body that is not a JSON object carries no parameters at all, so it fails on `messaging_product` first.
    Parsing normalises the message object in place, on a copy unless the caller `owned` the body (decoded for
    this call alone, as the handler's is).
    """
    request: JSONObject = body if isinstance(body, dict) else {}
    if request.get("messaging_product") is None:
        raise GraphError(GraphErrorCode.INVALID_PARAMETER, None, message=MESSAGING_PRODUCT_REQUIRED)
    one_of(request["messaging_product"], ("whatsapp",), ("messaging_product",))
    if request.get("status") is not None:
        return _mark_message_read(phone_number_id, request)
    return _send_message(phone_number_id, request, owned)


def _mark_message_read(phone_number_id: str, request: JSONObject) -> MarkMessageRead:
    one_of(request["status"], ("read",), ("status",))
    message_id = required_str(request, "message_id", ())
    typing_indicator = optional_object(request, "typing_indicator", ())
    indicator_type = None
    if typing_indicator is not None:
        path = ("typing_indicator",)
        indicator_type = one_of(require(typing_indicator, "type", path), ("text",), (*path, "type"))
    return MarkMessageRead(phone_number_id=phone_number_id, message_id=message_id, typing_indicator=indicator_type)


def _send_message(phone_number_id: str, request: JSONObject, owned: bool) -> SendMessage:
    recipient_type = "individual"
    if request.get("recipient_type") is not None:
        recipient_type = one_of(request["recipient_type"], RECIPIENT_TYPES, ("recipient_type",))
    raw_to = request.get("to")
    user_id = None
    if (raw_to is None or raw_to == "") and recipient_type == "individual" and request.get("recipient") is not None:
        to = user_id = _user_id(request["recipient"])
    else:
        to = _recipient(raw_to, recipient_type)
    message_type = "text" if request.get("type") is None else as_str(request["type"], ("type",))
    parse = _PARSERS.get(message_type)
    if parse is None:
        raise GraphError(GraphErrorCode.UNSUPPORTED_MESSAGE_TYPE, UNSUPPORTED_MESSAGE_TYPE)
    content = require(request, message_type, ())
    content = parse(content if owned else copy_json(content), (message_type,))
    context = optional_object(request, "context", ())
    context_message_id = None if context is None else required_str(context, "message_id", ("context",))
    biz_opaque_callback_data = optional_str(request, "biz_opaque_callback_data", ())
    if biz_opaque_callback_data is not None:
        max_length(biz_opaque_callback_data, MAX_BIZ_OPAQUE_CALLBACK_DATA, ("biz_opaque_callback_data",))
    return SendMessage(
        phone_number_id=phone_number_id,
        to=to,
        type=message_type,
        content=content,
        recipient_type=recipient_type,
        context_message_id=context_message_id,
        biz_opaque_callback_data=biz_opaque_callback_data,
        user_id=user_id,
    )


def _user_id(raw: Any) -> str:
    """`recipient`, a BSUID, read only when `to` is absent: given both, Meta sends to `to` and ignores it."""
    user_id = as_str(raw, ("recipient",))
    if not _BSUID.fullmatch(user_id):
        raise invalid_parameter(PARAMETER_INVALID)
    return user_id


def _recipient(raw: Any, recipient_type: str) -> str:
    """`to` exactly as sent; `+`, `-`, `(`, `)` and spaces are allowed around the digits of a phone number."""
    if raw is None or raw == "":
        raise required_parameter(required_details(("to",)))
    if is_integer(raw):
        # Graph reads numeric parameters as strings; PHP and JS clients do send numbers here.
        if not 0 < raw < 10**20:
            raise invalid_parameter(PARAMETER_INVALID)
        return str(raw)
    to = as_str(raw, ("to",))
    if recipient_type == "group":
        return to
    if not _PHONE_NUMBER.fullmatch(to) or _NOT_DIGITS.sub("", to).startswith("00"):
        raise invalid_parameter(PARAMETER_INVALID)
    return to


def _text(value: Any, path: Path) -> JSONObject:
    text = as_object(value, path)
    body = required_str(text, "body", path)
    if len(body) > MAX_TEXT_BODY:
        # Observed verbatim, with code 100 and no error_data.
        raise graph_param_error(f"Param {param_name((*path, 'body'))} must be at most {MAX_TEXT_BODY} characters long.")
    if text.get("preview_url") is not None:
        as_bool(text["preview_url"], (*path, "preview_url"))
    return text


def _media(value: Any, path: Path) -> JSONObject:
    media_type = str(path[0])
    media = media_object(value, path)
    for key, allowed in (("caption", media_type in CAPTIONED_MEDIA_TYPES), ("filename", media_type == "document")):
        if media.get(key) is None:
            continue
        if not allowed:
            raise graph_param_error(f"Param {param_name((*path, key))} is not supported for type {media_type}.")
        as_str(media[key], (*path, key))
    if media.get("caption") is not None:
        max_length(media["caption"], MAX_CAPTION, (*path, "caption"))
    return media


def _location(value: Any, path: Path) -> JSONObject:
    location = as_object(value, path)
    for key, limit in (("latitude", 90), ("longitude", 180)):
        if abs(as_number(require(location, key, path), (*path, key))) > limit:
            raise parameter_value_invalid(f"Param {param_name((*path, key))} must be between -{limit} and {limit}.")
    optional_str(location, "name", path)
    optional_str(location, "address", path)
    return location


def _contacts(value: Any, path: Path) -> list[Any]:
    contacts = as_list(value, path)
    if not contacts:
        raise parameter_value_invalid(f"Param {param_name(path)} must contain at least one contact.")
    for index, item in enumerate(contacts):
        contact_path = (*path, index)
        contact = as_object(item, contact_path)
        name = object_at(contact, "name", contact_path)
        required_str(name, "formatted_name", (*contact_path, "name"))
        birthday = optional_str(contact, "birthday", contact_path)
        if birthday is not None and not _is_date(birthday):
            birthday_name = param_name((*contact_path, "birthday"))
            raise parameter_value_invalid(f"Param {birthday_name} must be a date in YYYY-MM-DD format.")
        optional_object(contact, "org", contact_path)
        for key in CONTACT_LIST_FIELDS:
            if contact.get(key) is not None:
                for position, entry in enumerate(as_list(contact[key], (*contact_path, key))):
                    as_object(entry, (*contact_path, key, position))
    return contacts


def _is_date(value: str) -> bool:
    if not _BIRTHDAY.fullmatch(value):
        return False
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _reaction(value: Any, path: Path) -> JSONObject:
    reaction = as_object(value, path)
    required_str(reaction, "message_id", path)
    # The empty string is meaningful: it removes the reaction.
    as_str(require(reaction, "emoji", path), (*path, "emoji"))
    return reaction


def _template(value: Any, path: Path) -> JSONObject:
    template = as_object(value, path)
    max_length(required_str(template, "name", path), MAX_TEMPLATE_NAME, (*path, "name"))
    language_path = (*path, "language")
    language = object_at(template, "language", path)
    required_str(language, "code", language_path)
    if language.get("policy") is not None:
        language["policy"] = one_of(language["policy"], ("deterministic",), (*language_path, "policy"))
    if template.get("components") is not None:
        for index, item in enumerate(as_list(template["components"], (*path, "components"))):
            _template_component(item, (*path, "components", index))
    return template


def _template_component(value: Any, path: Path) -> None:
    component = as_object(value, path)
    kind = component["type"] = one_of(require(component, "type", path), TEMPLATE_COMPONENT_TYPES, (*path, "type"))
    if kind == "button":
        sub_type = require(component, "sub_type", path)
        component["sub_type"] = one_of(sub_type, TEMPLATE_BUTTON_SUB_TYPES, (*path, "sub_type"))
        index_path = (*path, "index")
        if as_index(require(component, "index", path), index_path) > MAX_BUTTON_INDEX:
            raise parameter_value_invalid(f"Param {param_name(index_path)} must be between 0 and {MAX_BUTTON_INDEX}.")
    if component.get("parameters") is not None:
        for index, item in enumerate(as_list(component["parameters"], (*path, "parameters"))):
            _template_parameter(item, (*path, "parameters", index), kind)


def _template_parameter(value: Any, path: Path, component_type: str) -> None:
    parameter = as_object(value, path)
    kind = parameter["type"] = one_of(require(parameter, "type", path), TEMPLATE_PARAMETER_TYPES, (*path, "type"))
    item = parameter.get(kind)
    if item is None or item == "":
        # Observed for text: `(#131008) Required parameter is missing` / `Parameter of type text is missing text value`.
        raise required_parameter(f"Parameter of type {kind} is missing {kind} value")
    item_path = (*path, kind)
    if kind == "text":
        optional_str(parameter, "parameter_name", path)
        if _TEMPLATE_TEXT_FORBIDDEN.search(as_str(item, item_path)) and component_type == "body":
            raise invalid_parameter(TEMPLATE_TEXT_FORMAT_INVALID)
    elif kind in ("payload", "coupon_code"):
        code = as_str(item, item_path)
        if kind == "coupon_code":
            max_length(code, MAX_COUPON_CODE, item_path)
    elif kind == "currency":
        currency = as_object(item, item_path)
        required_str(currency, "fallback_value", item_path)
        required_str(currency, "code", item_path)
        as_int(require(currency, "amount_1000", item_path), (*item_path, "amount_1000"))
    elif kind == "date_time":
        required_str(as_object(item, item_path), "fallback_value", item_path)
    elif kind == "location":
        _location(item, item_path)
    elif kind == "action":
        action = as_object(item, item_path)
        optional_str(action, "flow_token", item_path)
        optional_object(action, "flow_action_data", item_path)
    else:
        media = media_object(item, item_path)
        if kind == "document":
            optional_str(media, "filename", item_path)


_PARSERS: dict[str, Callable[[Any, Path], Any]] = {
    "text": _text,
    **dict.fromkeys(MEDIA_TYPES, _media),
    "location": _location,
    "contacts": _contacts,
    "reaction": _reaction,
    "interactive": parse_interactive,
    "template": _template,
}
