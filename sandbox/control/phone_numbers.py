"""Numbers outside the Graph API: on the WhatsApp apps (server-wide), the OTP outbox a business's phone would see,
and Meta's moves of a number that no Graph call makes (flag, restrict, ban, expiries)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from sandbox.control.common import LIMIT_QUERY, json_body, limit_of, respond, sandbox_of, tenant_of
from sandbox.control.parse import Fields
from sandbox.control.routing import ControlRoute as Route
from sandbox.domain.errors import Invalid
from sandbox.domain.onboarding import WhatsAppApp
from sandbox.services import messaging_limits, phone_numbers

MAX_NUMBER_TEXT = 32


def _digits(text: str) -> str:
    return phone_numbers.e164_digits(text)


def parse_whatsapp_app(body: Fields) -> WhatsAppApp:
    state: WhatsAppApp = body.sole_choice("whatsapp_app", WhatsAppApp)
    return state


async def put_number(request: Request) -> Response:
    state = parse_whatsapp_app(Fields(await json_body(request, required=True)))
    digits = _digits(request.path_params["e164"])
    return respond(phone_numbers.set_whatsapp_app(sandbox_of(request), digits, state))


async def get_number(request: Request) -> Response:
    return respond(phone_numbers.whatsapp_app(sandbox_of(request), _digits(request.path_params["e164"])))


async def otp_outbox(request: Request) -> Response:
    tenant = tenant_of(request)
    number = request.query_params.get("phone_number")
    if number is not None and len(number) > MAX_NUMBER_TEXT:
        raise Invalid(f"phone_number must be at most {MAX_NUMBER_TEXT} characters")
    return respond({"data": phone_numbers.otp_outbox(tenant, number, limit_of(request))})


async def move_number(request: Request) -> Response:
    tenant = tenant_of(request)
    phone = phone_numbers.move_by_hand(tenant, request.path_params["phone_number_id"], request.path_params["action"])
    return respond(phone.graph_fields(tenant.webhook.url, messaging_limit=messaging_limits.phone_tier(tenant, phone)))


routes = [
    Route("/_sandbox/numbers/{e164}", put_number, methods=["PUT"], body=parse_whatsapp_app, body_required=True),
    Route("/_sandbox/numbers/{e164}", get_number, methods=["GET"]),
    Route(
        "/_sandbox/tenants/{tenant}/otp",
        otp_outbox,
        methods=["GET"],
        answer="List",
        query={**LIMIT_QUERY, "phone_number": {"type": "string", "maxLength": MAX_NUMBER_TEXT}},
    ),
    Route(
        "/_sandbox/tenants/{tenant}/phone_numbers/{phone_number_id}/{action}",
        move_number,
        methods=["POST"],
        parameters={"action": {"enum": list(phone_numbers.MANUAL_MOVES)}},
    ),
]
