"""The `interactive` object of a send: reply buttons, list, CTA URL, Flow and location request messages.

Limits follow Meta's interactive-message pages (META-BTN, META-LIST, META-CTA, the Flows guide); `details`
strings are Meta's where they were observed and written in the same style where they were not.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from sandbox.api.parsing import (
    JSONObject,
    Path,
    as_int,
    as_object,
    as_str,
    graph_param_error,
    http_url,
    length_between,
    list_at,
    media_object,
    object_at,
    one_of,
    optional_object,
    optional_str,
    param_name,
    require,
    required_str,
)
from sandbox.errors import GraphError, GraphErrorCode, parameter_value_invalid, required_parameter

UNSUPPORTED_MESSAGE_TYPE = "Unsupported message type"
BUTTONS_COUNT_INVALID = "Invalid buttons count. Min allowed buttons: 1, Max allowed buttons: 3"
DUPLICATE_BUTTON_TITLE = "Duplicate button title"
DUPLICATE_BUTTON_ID = "Duplicate button id"
SECTIONS_COUNT_INVALID = "Invalid sections count. Min allowed sections: 1, Max allowed sections: 10"
ROWS_COUNT_INVALID = "Invalid rows count. Min allowed rows: 1, Max allowed rows: 10"
ROWS_COUNT_EXCEEDED = "Total row count exceed max allowed count: 10"
SECTION_TITLE_TOO_LONG = "Section title is too long. Max length is 24"
ROW_ID_TOO_LONG = "Row id is too long. Max length is 200"
ROW_TITLE_TOO_LONG = "Row title is too long. Max length is 24"
ROW_DESCRIPTION_TOO_LONG = "Row description is too long. Max length is 72"
DUPLICATE_ROW_ID = "Duplicate row id"
FLOW_DATA_INVALID = "flow_action_payload data must be dynamic_object"

INTERACTIVE_TYPES = ("button", "list", "cta_url", "flow", "location_request_message")
# Real interactive types the sandbox does not model (commerce, carousel, calling); they fail like unknown `type`s.
UNMODELLED_INTERACTIVE_TYPES = frozenset(
    (
        "product",
        "product_list",
        "catalog_message",
        "carousel",
        "address_message",
        "call_permission_request",
        "voice_call",
    )
)
HEADER_TYPES = ("text", "image", "video", "document")
MAX_BUTTONS = 3
MAX_SECTIONS = 10
MAX_ROWS = 10


def parse_interactive(value: Any, path: Path) -> JSONObject:
    """Validate `interactive` in place (it is the caller's copy) and return it with enum values lower-cased."""
    interactive = as_object(value, path)
    kind = require(interactive, "type", path)
    if isinstance(kind, str) and kind.lower() in UNMODELLED_INTERACTIVE_TYPES:
        raise GraphError(GraphErrorCode.UNSUPPORTED_MESSAGE_TYPE, UNSUPPORTED_MESSAGE_TYPE)
    interactive["type"] = one_of(kind, INTERACTIVE_TYPES, (*path, "type"))
    _PARSERS[interactive["type"]](interactive, path)
    return interactive


def _reply_buttons(interactive: JSONObject, path: Path) -> None:
    _body(interactive, path, 1024)
    _header(interactive, path, HEADER_TYPES)
    _footer(interactive, path)
    action_path = (*path, "action")
    buttons = list_at(object_at(interactive, "action", path), "buttons", action_path)
    if not 1 <= len(buttons) <= MAX_BUTTONS:
        raise parameter_value_invalid(BUTTONS_COUNT_INVALID)
    ids: set[str] = set()
    titles: set[str] = set()
    for index, item in enumerate(buttons):
        button_path = (*action_path, "buttons", index)
        button = as_object(item, button_path)
        button["type"] = one_of(require(button, "type", button_path), ("reply",), (*button_path, "type"))
        reply_path = (*button_path, "reply")
        reply = object_at(button, "reply", button_path)
        button_id = length_between(as_str(require(reply, "id", reply_path), (*reply_path, "id")), "Button id", 1, 256)
        title = as_str(require(reply, "title", reply_path), (*reply_path, "title"))
        length_between(title, "Button title", 1, 20)
        if title in titles:
            raise parameter_value_invalid(DUPLICATE_BUTTON_TITLE)
        if button_id in ids:
            raise parameter_value_invalid(DUPLICATE_BUTTON_ID)
        titles.add(title)
        ids.add(button_id)


def _list(interactive: JSONObject, path: Path) -> None:
    _body(interactive, path, 4096)
    _header(interactive, path, ("text",))
    _footer(interactive, path)
    action_path = (*path, "action")
    action = object_at(interactive, "action", path)
    length_between(as_str(require(action, "button", action_path), (*action_path, "button")), "Button text", 1, 20)
    sections = list_at(action, "sections", action_path)
    if not 1 <= len(sections) <= MAX_SECTIONS:
        raise parameter_value_invalid(SECTIONS_COUNT_INVALID)
    rows_by_section: list[tuple[JSONObject, list[Any], Path]] = []
    for index, item in enumerate(sections):
        section_path = (*action_path, "sections", index)
        section = as_object(item, section_path)
        rows_by_section.append((section, list_at(section, "rows", section_path), section_path))
    if sum(len(rows) for _, rows, _ in rows_by_section) > MAX_ROWS:
        raise parameter_value_invalid(ROWS_COUNT_EXCEEDED)
    row_ids: set[str] = set()
    for section, rows, section_path in rows_by_section:
        # A lone section may go untitled; with several, each needs a title to tell them apart.
        if len(sections) > 1:
            title: str | None = required_str(section, "title", section_path)
        else:
            title = optional_str(section, "title", section_path)
        if title is not None and len(title) > 24:
            raise parameter_value_invalid(SECTION_TITLE_TOO_LONG)
        if not rows:
            raise parameter_value_invalid(ROWS_COUNT_INVALID)
        for index, item in enumerate(rows):
            _row(as_object(item, (*section_path, "rows", index)), (*section_path, "rows", index), row_ids)


def _row(row: JSONObject, path: Path, seen_ids: set[str]) -> None:
    row_id = required_str(row, "id", path)
    if len(row_id) > 200:
        raise parameter_value_invalid(ROW_ID_TOO_LONG)
    if row_id in seen_ids:
        raise parameter_value_invalid(DUPLICATE_ROW_ID)
    seen_ids.add(row_id)
    if len(required_str(row, "title", path)) > 24:
        raise parameter_value_invalid(ROW_TITLE_TOO_LONG)
    description = optional_str(row, "description", path)
    if description is not None and len(description) > 72:
        raise parameter_value_invalid(ROW_DESCRIPTION_TOO_LONG)


def _cta_url(interactive: JSONObject, path: Path) -> None:
    _body(interactive, path, 1024)
    _header(interactive, path, HEADER_TYPES)
    _footer(interactive, path)
    action_path = (*path, "action")
    parameters = object_at(_named_action(interactive, path, "cta_url"), "parameters", action_path)
    parameters_path = (*action_path, "parameters")
    display_text = as_str(require(parameters, "display_text", parameters_path), (*parameters_path, "display_text"))
    length_between(display_text, "Display text", 1, 20)
    http_url(require(parameters, "url", parameters_path), (*parameters_path, "url"))


def _flow(interactive: JSONObject, path: Path) -> None:
    _body(interactive, path, 1024)
    _header(interactive, path, HEADER_TYPES)
    _footer(interactive, path)
    action_path = (*path, "action")
    parameters = object_at(_named_action(interactive, path, "flow"), "parameters", action_path)
    parameters_path = (*action_path, "parameters")
    version = require(parameters, "flow_message_version", parameters_path)
    if type(version) is int and version == 3:
        version = "3"
    one_of(version, ("3",), (*parameters_path, "flow_message_version"))
    _flow_reference(parameters, parameters_path)
    flow_cta = as_str(require(parameters, "flow_cta", parameters_path), (*parameters_path, "flow_cta"))
    length_between(flow_cta, "Flow CTA", 1, 20)
    optional_str(parameters, "flow_token", parameters_path)
    flow_action = "navigate"
    if parameters.get("flow_action") is not None:
        flow_action_path = (*parameters_path, "flow_action")
        flow_action = parameters["flow_action"] = one_of(
            parameters["flow_action"], ("navigate", "data_exchange"), flow_action_path
        )
    payload_path = (*parameters_path, "flow_action_payload")
    payload = optional_object(parameters, "flow_action_payload", parameters_path)
    if payload is not None:
        if flow_action == "navigate":
            required_str(payload, "screen", payload_path)
        data = payload.get("data")
        if data is not None and (not isinstance(data, dict) or not data):
            raise parameter_value_invalid(FLOW_DATA_INVALID)
    if parameters.get("mode") is not None:
        parameters["mode"] = one_of(parameters["mode"], ("published", "draft"), (*parameters_path, "mode"))


def _flow_reference(parameters: JSONObject, path: Path) -> None:
    flow_id, flow_name = parameters.get("flow_id"), parameters.get("flow_name")
    either = f"{param_name((*path, 'flow_id'))} or {param_name((*path, 'flow_name'))}"
    if flow_id is None and flow_name is None:
        raise required_parameter(f"The parameter {either} is required.")
    if flow_id is not None and flow_name is not None:
        raise parameter_value_invalid(f"Only one of {either} may be set.")
    if flow_id is not None and not isinstance(flow_id, str):
        as_int(flow_id, (*path, "flow_id"))
    if flow_name is not None:
        as_str(flow_name, (*path, "flow_name"))


def _location_request(interactive: JSONObject, path: Path) -> None:
    _body(interactive, path, 1024)
    _named_action(interactive, path, "send_location")


def _named_action(interactive: JSONObject, path: Path, name: str) -> JSONObject:
    action_path = (*path, "action")
    action = object_at(interactive, "action", path)
    action["name"] = one_of(require(action, "name", action_path), (name,), (*action_path, "name"))
    return action


def _body(interactive: JSONObject, path: Path, maximum: int) -> None:
    body_path = (*path, "body")
    body = as_object(_graph_required(interactive, "body", path), body_path)
    text = as_str(_graph_required(body, "text", body_path), (*body_path, "text"))
    length_between(text, "Body text", 1, maximum)


def _footer(interactive: JSONObject, path: Path) -> None:
    footer = optional_object(interactive, "footer", path)
    if footer is not None:
        footer_path = (*path, "footer")
        text = as_str(_graph_required(footer, "text", footer_path), (*footer_path, "text"))
        length_between(text, "Footer text", 1, 60)


def _header(interactive: JSONObject, path: Path, allowed: Collection[str]) -> None:
    header = optional_object(interactive, "header", path)
    if header is None:
        return
    header_path = (*path, "header")
    kind = header["type"] = one_of(require(header, "type", header_path), HEADER_TYPES, (*header_path, "type"))
    if kind not in allowed:
        raise parameter_value_invalid(f"Header type {kind} is not supported for interactive type {interactive['type']}")
    if kind == "text":
        length_between(as_str(require(header, "text", header_path), (*header_path, "text")), "Header text", 1, 60)
    else:
        media_object(require(header, kind, header_path), (*header_path, kind))


def _graph_required(obj: JSONObject, key: str, path: Path) -> Any:
    # Observed verbatim: `(#100) The parameter interactive['body']['text'] is required.`, a Graph-level answer.
    value = obj.get(key)
    if value is None:
        raise graph_param_error(f"The parameter {param_name((*path, key))} is required.")
    return value


_PARSERS: dict[str, Callable[[JSONObject, Path], None]] = {
    "button": _reply_buttons,
    "list": _list,
    "cta_url": _cta_url,
    "flow": _flow,
    "location_request_message": _location_request,
}
