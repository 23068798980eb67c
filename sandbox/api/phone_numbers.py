"""Phone numbers on the Graph surface: `GET|POST /{phone-number-id}`, `GET|POST /{waba-id}/phone_numbers`, and
onboarding (`request_code`, `verify_code`, `register`, `deregister`). Parameters come in a JSON or form body or in
the query string (pywa sends `request_code` and `verify_code` that way); handlers parse, call, render."""

from __future__ import annotations

import re
from typing import Any

from starlette.responses import Response

from sandbox.api.fields import matches, page, parse_filtering, project
from sandbox.api.graph import GraphRequest, GraphRoute
from sandbox.api.parsing import graph_param_error
from sandbox.domain.commands import AddPhoneNumber, RegisterPhoneNumber, RequestCode, UpdatePhoneNumber, VerifyCode
from sandbox.domain.errors import is_integer
from sandbox.domain.onboarding import CodeMethod
from sandbox.domain.phone_number import PHONE_NUMBER_DEFAULT_FIELDS, PHONE_NUMBER_FILTER_FIELDS, PhoneNumber
from sandbox.errors import invalid_parameter
from sandbox.services import display_names, messaging_limits, migration, phone_numbers, registration, subscribed_apps
from sandbox.services.subscribed_apps import waba_override

SIX_DIGITS = re.compile(r"[0-9]{6}")
LANGUAGE = re.compile(r"[a-z]{2,3}(_[A-Z]{2,4})?")
MAX_PARAM = 1024
# Meta's local-storage regions (§2.6).
DATA_LOCALIZATION_REGIONS = frozenset(
    {"AU", "ID", "IN", "JP", "SG", "KR", "DE", "CH", "GB", "BR", "BH", "ZA", "AE", "CA"}
)


def _document(graph: GraphRequest, phone: PhoneNumber) -> dict[str, object]:
    fields = phone.graph_fields(
        (graph.tenant.endpoint(graph.app_id) or (None, ""))[0],
        waba_override(graph.tenant, phone.waba_id, graph.app_id),
        messaging_limit=messaging_limits.phone_tier(graph.tenant, phone),
    )
    return project(fields, graph.query.get("fields"), PHONE_NUMBER_DEFAULT_FIELDS)


async def _params(graph: GraphRequest) -> dict[str, Any]:
    body = await graph.body()
    if not isinstance(body, dict):
        raise graph_param_error("Param body must be an object.")
    return body


def _text(body: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    """A string parameter (a JSON integer is read as its digits, as Graph reads it); bounded in length."""
    value = body.get(key)
    if value is None or value == "":
        if required:
            raise invalid_parameter(f"The parameter {key} is required")
        return None
    if is_integer(value):
        value = str(value)
    if not isinstance(value, str):
        raise graph_param_error(f"Param {key} must be a string.")
    if len(value) > MAX_PARAM:
        raise invalid_parameter(f"Param {key} must be at most {MAX_PARAM} characters long.")
    return value


def _pin(body: dict[str, Any]) -> str:
    pin = _text(body, "pin")
    assert pin is not None
    if not SIX_DIGITS.fullmatch(pin):
        raise invalid_parameter("Invalid PIN format. PIN must be exactly 6 digits")
    return pin


def _messaging_product(body: dict[str, Any]) -> None:
    product = body.get("messaging_product")
    if product is None:
        raise invalid_parameter("The parameter messaging_product is required")
    if not isinstance(product, str) or product.lower() != "whatsapp":
        raise graph_param_error(f"Param messaging_product must be one of {{WHATSAPP}} - got {product!r}.")


async def get_phone_number(graph: GraphRequest) -> Response:
    return graph.respond(_document(graph, graph.node))


async def list_phone_numbers(graph: GraphRequest) -> Response:
    rules = parse_filtering(graph.query.get("filtering"), PHONE_NUMBER_FILTER_FIELDS)
    numbers = [phone for phone in graph.tenant.store.phone_numbers if phone.waba_id == graph.node_id]
    if rules:
        tenant = graph.tenant
        numbers = [
            phone
            for phone in numbers
            if matches(phone.graph_fields(messaging_limit=messaging_limits.phone_tier(tenant, phone)), rules)
        ]
    return graph.respond(page([_document(graph, phone) for phone in numbers], graph.query, url=graph.page_url))


def parse_add_phone_number(waba_id: str, body: dict[str, Any]) -> AddPhoneNumber:
    cc = _text(body, "cc", required=False) or _text(body, "country_code", required=False)
    if cc is None:
        raise invalid_parameter("The parameter cc is required")
    phone_number, verified_name = _text(body, "phone_number"), _text(body, "verified_name")
    assert phone_number is not None and verified_name is not None
    return AddPhoneNumber(waba_id, cc.lstrip("+"), phone_number, verified_name)


def _migrating(body: dict[str, Any]) -> bool:
    flag = body.get("migrate_phone_number")
    if flag is None or flag is False or (isinstance(flag, str) and flag.lower() == "false"):
        return False
    if flag is True or (isinstance(flag, str) and flag.lower() == "true"):
        return True
    raise graph_param_error("Param migrate_phone_number must be a boolean.")


async def add_phone_number(graph: GraphRequest) -> Response:
    body = await _params(graph)
    if _migrating(body):
        cc = _text(body, "cc", required=False) or _text(body, "country_code", required=False)
        if cc is None:
            raise invalid_parameter("The parameter cc is required")
        number = _text(body, "phone_number")
        assert number is not None
        phone = migration.start(graph.tenant, graph.node, cc.lstrip("+"), number)
        return graph.respond({"id": phone.id})
    command = parse_add_phone_number(graph.node_id, body)
    phone = phone_numbers.add_phone_number(graph.tenant, graph.node, command)
    return graph.respond({"id": phone.id})


def parse_request_code(phone_number_id: str, body: dict[str, Any]) -> RequestCode:
    method = _text(body, "code_method")
    language = _text(body, "language")
    assert method is not None and language is not None
    if method.upper() not in CodeMethod.__members__:
        raise invalid_parameter("Invalid parameter: code_method must be SMS or VOICE")
    if not LANGUAGE.fullmatch(language):
        raise invalid_parameter(f"Invalid parameter: language {language[:16]!r} is not a language code such as en_US")
    return RequestCode(phone_number_id, method.upper(), language)


async def request_code(graph: GraphRequest) -> Response:
    command = parse_request_code(graph.node_id, await _params(graph))
    migration.check_code_call(graph.tenant, graph.node, verify=False)
    registration.request_code(graph.tenant, graph.node, command)
    return graph.respond({"success": True})


async def verify_code(graph: GraphRequest) -> Response:
    code = _text(await _params(graph), "code")
    assert code is not None
    if not SIX_DIGITS.fullmatch(code):
        raise invalid_parameter("Invalid verification code format: the code has 6 digits, without a hyphen")
    migration.check_code_call(graph.tenant, graph.node, verify=True)
    registration.verify_code(graph.tenant, graph.node, VerifyCode(graph.node_id, code))
    migration.verified(graph.tenant, graph.node)
    return graph.respond({"success": True, "id": graph.node_id})


def parse_register(phone_number_id: str, body: dict[str, Any]) -> RegisterPhoneNumber:
    _messaging_product(body)
    pin = _pin(body)
    region = _text(body, "data_localization_region", required=False)
    if region is not None and region.upper() not in DATA_LOCALIZATION_REGIONS:
        shown = ", ".join(sorted(DATA_LOCALIZATION_REGIONS))
        raise invalid_parameter(f"Invalid parameter: data_localization_region must be one of {shown}")
    return RegisterPhoneNumber(phone_number_id, pin, region.upper() if region else None)


async def register(graph: GraphRequest) -> Response:
    command = parse_register(graph.node_id, await _params(graph))
    migration.register(graph.tenant, graph.node, command)
    return graph.respond({"success": True})


async def deregister(graph: GraphRequest) -> Response:
    registration.deregister(graph.tenant, graph.node)
    return graph.respond({"success": True})


def parse_update(phone_number_id: str, body: dict[str, Any]) -> UpdatePhoneNumber:
    pin = _pin(body) if body.get("pin") is not None else None
    name = _text(body, "new_display_name", required=False)
    webhook = body.get("webhook_configuration")
    if pin is None and name is None and webhook is None:
        raise invalid_parameter("The parameter webhook_configuration, pin or new_display_name is required")
    return UpdatePhoneNumber(phone_number_id, pin, name, webhook)


async def update_phone_number(graph: GraphRequest) -> Response:
    """Every check before any change: the name's, then the webhook's verification; then the PIN and the name."""
    command = parse_update(graph.node_id, await _params(graph))
    phone = graph.node
    if command.new_display_name is not None:
        display_names.check_name(phone, command.new_display_name)
    if command.webhook_configuration is not None:
        await subscribed_apps.configure_phone_webhook(
            graph.tenant, graph.request.app.state.transport, phone, command.webhook_configuration
        )
    if command.pin is not None:
        registration.set_pin(phone, command.pin)
    if command.new_display_name is not None:
        display_names.request_display_name(graph.tenant, phone, command.new_display_name)
    return graph.respond({"success": True})


routes = [
    GraphRoute("phone_number", None, "GET", get_phone_number),
    GraphRoute("phone_number", None, "POST", update_phone_number),
    GraphRoute("phone_number", "request_code", "POST", request_code),
    GraphRoute("phone_number", "verify_code", "POST", verify_code),
    GraphRoute("phone_number", "register", "POST", register),
    GraphRoute("phone_number", "deregister", "POST", deregister),
    GraphRoute("waba", "phone_numbers", "GET", list_phone_numbers),
    GraphRoute("waba", "phone_numbers", "POST", add_phone_number),
]
