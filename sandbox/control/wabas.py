"""Several parties in one tenant (docs/migration.md): partner apps (`POST .../apps`), WABAs created by embedded
sign-up (`POST .../wabas`), a WABA's payment method (`PATCH .../wabas/{id}`), and the old provider turning two-step
verification off (`POST .../phone_numbers/{id}/two_step`)."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from sandbox.control.common import json_body, respond, sandbox_of, tenant_of
from sandbox.control.parse import Fields
from sandbox.control.routing import ControlRoute as Route
from sandbox.control.webhook import TOKEN_LENGTH
from sandbox.services import partner_apps

URL = re.compile(r"^https?://[^\s/]+")
MAX_NAME = 128
MAX_URL = 2048


def parse_app(body: Fields) -> tuple[str | None, str | None, str | None, bool]:
    body.only(("name", "webhook", "verify_token", "verify"))
    return (
        body.text("name", max_length=MAX_NAME),
        body.text("webhook", max_length=MAX_URL, pattern=URL, what="an http(s) URL"),
        body.text("verify_token", max_length=TOKEN_LENGTH),
        bool(body.flag("verify", default=True)),
    )


def parse_waba(body: Fields) -> tuple[str | None, str | None, str | None, bool]:
    body.only(("business_id", "name", "partner", "payment_method"))
    return (
        body.text("business_id", max_length=20),
        body.text("name", max_length=MAX_NAME),
        body.text("partner", max_length=32),
        bool(body.flag("payment_method", default=True)),
    )


def parse_payment_method(body: Fields) -> bool:
    body.only(("payment_method",))
    return bool(body.flag("payment_method", required=True))


def parse_two_step(body: Fields) -> bool:
    body.only(("enabled",))
    return bool(body.flag("enabled", required=True))


async def add_app(request: Request) -> Response:
    tenant = tenant_of(request)
    name, webhook, verify_token, verify = parse_app(Fields(await json_body(request)))
    app = await partner_apps.add_verified_app(
        sandbox_of(request), tenant, name, webhook, verify_token, request.app.state.transport if verify else None
    )
    return respond(app.document(), 201)


async def list_apps(request: Request) -> Response:
    tenant = tenant_of(request)
    own = {"app_id": tenant.credentials.app_id, "name": tenant.name, "default": True}
    return respond({"data": [own, *(app.document() for app in tenant.partners.values())]})


async def add_waba(request: Request) -> Response:
    tenant = tenant_of(request)
    waba = partner_apps.add_waba(tenant, *parse_waba(Fields(await json_body(request))))
    return respond(partner_apps.document(tenant, waba), 201)


async def patch_waba(request: Request) -> Response:
    tenant = tenant_of(request)
    attached = parse_payment_method(Fields(await json_body(request, required=True)))
    waba = partner_apps.set_payment_method(tenant, request.path_params["waba_id"], attached)
    return respond(partner_apps.document(tenant, waba))


async def two_step(request: Request) -> Response:
    tenant = tenant_of(request)
    enabled = parse_two_step(Fields(await json_body(request, required=True)))
    phone = partner_apps.set_two_step(tenant, request.path_params["phone_number_id"], enabled)
    return respond({"id": phone.id, "is_pin_enabled": phone.is_pin_enabled})


routes = [
    Route("/_sandbox/tenants/{tenant}/apps", add_app, methods=["POST"], body=parse_app, status=201),
    Route("/_sandbox/tenants/{tenant}/apps", list_apps, methods=["GET"], answer="List"),
    Route("/_sandbox/tenants/{tenant}/wabas", add_waba, methods=["POST"], body=parse_waba, status=201),
    Route(
        "/_sandbox/tenants/{tenant}/wabas/{waba_id}",
        patch_waba,
        methods=["PATCH"],
        body=parse_payment_method,
        body_required=True,
    ),
    # Before phone_numbers' `{action}` route, which would take `two_step` for one of Meta's moves.
    Route(
        "/_sandbox/tenants/{tenant}/phone_numbers/{phone_number_id}/two_step",
        two_step,
        methods=["POST"],
        body=parse_two_step,
        body_required=True,
    ),
]
