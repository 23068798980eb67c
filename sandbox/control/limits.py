"""Meta's limits as the control plane sees them: the counters, a number's throughput level, and the portfolio's
messaging limit (its tier and the unique users counted against it)."""

from __future__ import annotations

from functools import partial

from starlette.requests import Request
from starlette.responses import Response

from sandbox.control.common import TEXT_QUERY, json_body, respond, tenant_of
from sandbox.control.parse import Fields
from sandbox.control.routing import ControlRoute as Route
from sandbox.domain.commands import SetMessagingLimitTier, SetThroughput
from sandbox.domain.messaging_limit import MessagingLimitTier
from sandbox.domain.phone_number import ThroughputClass
from sandbox.services import limits, messaging_limits

# A day: Meta's throughput upgrades take minutes, and a longer one would outlive most test runs anyway.
MAX_MAINTENANCE_SECONDS = 86_400
MAX_ID = 256


def parse_set_throughput(phone_number_id: str, body: Fields) -> SetThroughput:
    """`level: COEXISTENCE` is the old spelling of `is_on_biz_app: true` (the level itself stays)."""
    body.only(("level", "is_on_biz_app", "maintenance_seconds"), list_known=False)
    level = body.choice("level", ThroughputClass)
    on_biz_app = body.flag("is_on_biz_app")
    if level == "COEXISTENCE":
        level, on_biz_app = None, True
    maintenance = body.number(
        "maintenance_seconds", low=0, high=MAX_MAINTENANCE_SECONDS, unit=" of seconds", default=0.0
    )
    return SetThroughput(phone_number_id, level=level, is_on_biz_app=on_biz_app, maintenance_seconds=maintenance or 0.0)


def parse_set_messaging_limit(body: Fields) -> SetMessagingLimitTier:
    body.only(("tier", "business_id"))
    tier = body.choice("tier", MessagingLimitTier, required=True)
    return SetMessagingLimitTier(str(tier), body.text("business_id", max_length=MAX_ID))


async def get_messaging_limit(request: Request) -> Response:
    return respond(messaging_limits.document(tenant_of(request), request.query_params.get("business_id")))


async def put_messaging_limit(request: Request) -> Response:
    tenant = tenant_of(request)
    command = parse_set_messaging_limit(Fields(await json_body(request, required=True)))
    return respond(messaging_limits.set_tier(tenant, command))


async def get_limits(request: Request) -> Response:
    return respond(limits.snapshot(tenant_of(request)))


async def get_throughput(request: Request) -> Response:
    tenant = tenant_of(request)
    return respond(
        limits.throughput_document(tenant, limits.phone_number(tenant, request.path_params["phone_number_id"]))
    )


async def put_throughput(request: Request) -> Response:
    tenant = tenant_of(request)
    command = parse_set_throughput(
        request.path_params["phone_number_id"], Fields(await json_body(request, required=True))
    )
    return respond(limits.set_throughput(tenant, command))


routes = [
    Route("/_sandbox/tenants/{tenant}/limits", get_limits, methods=["GET"]),
    Route(
        "/_sandbox/tenants/{tenant}/messaging_limit",
        get_messaging_limit,
        methods=["GET"],
        query={"business_id": TEXT_QUERY},
    ),
    Route(
        "/_sandbox/tenants/{tenant}/messaging_limit",
        put_messaging_limit,
        methods=["PUT"],
        body=parse_set_messaging_limit,
        body_required=True,
    ),
    Route("/_sandbox/tenants/{tenant}/phone_numbers/{phone_number_id}/throughput", get_throughput, methods=["GET"]),
    Route(
        "/_sandbox/tenants/{tenant}/phone_numbers/{phone_number_id}/throughput",
        put_throughput,
        methods=["PUT"],
        body=partial(parse_set_throughput, ""),
        body_required=True,
    ),
]
