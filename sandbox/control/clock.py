"""A tenant's clock: read it, freeze or compress it, advance it (firing what falls due, in time order)."""

from __future__ import annotations

from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response

from sandbox.clock import EARLIEST, LATEST, ClockMode, to_rfc3339
from sandbox.control.common import json_body, respond, tenant_of
from sandbox.control.parse import Fields
from sandbox.control.routing import ControlRoute as Route
from sandbox.domain.commands import AdvanceClock, ConfigureClock
from sandbox.domain.errors import Invalid
from sandbox.services import tenants

# Ten years: the farthest one move of the clock goes, and the longest a temporary token lives.
MAX_SECONDS = 10 * 365 * 86400
# A 30-day trial in under three wall seconds; the clock stops at LATEST however long it runs.
MAX_RATE = 1_000_000


def _moment(body: Fields, key: str) -> datetime | None:
    moment = body.time(key)
    if moment is not None and not EARLIEST <= moment <= LATEST:
        raise Invalid(f"{body.name(key)} must be a time from {to_rfc3339(EARLIEST)} to {to_rfc3339(LATEST)}")
    return moment


def parse_configure_clock(body: Fields) -> ConfigureClock:
    return ConfigureClock(
        mode=body.choice("mode", ClockMode),
        rate=body.number("rate", low=0, high=MAX_RATE, above=True),
        now=_moment(body, "now"),
    )


def parse_advance_clock(body: Fields) -> AdvanceClock:
    command = AdvanceClock(
        seconds=body.number("seconds", low=0, high=MAX_SECONDS, unit=" of seconds"), to=_moment(body, "to")
    )
    if command.seconds is None and command.to is None:
        raise Invalid("give seconds or to")
    return command


async def get_clock(request: Request) -> Response:
    return respond(tenant_of(request).clock.snapshot())


async def set_clock(request: Request) -> Response:
    tenant = tenant_of(request)
    tenants.configure_clock(tenant, parse_configure_clock(Fields(await json_body(request, required=True))))
    return respond(tenant.clock.snapshot())


async def advance_clock(request: Request) -> Response:
    tenant = tenant_of(request)
    command = parse_advance_clock(Fields(await json_body(request, required=True)))
    outbox = tenant.outbox
    fired = await tenants.advance_clock_settling(
        tenant, command, lambda: outbox.settle(tenant.id, timeout=tenant.policy.webhooks.timeout_seconds + 1)
    )
    return respond({"now": to_rfc3339(tenant.clock.now()), "fired": fired})


routes = [
    Route("/_sandbox/tenants/{tenant}/clock", get_clock, methods=["GET"], answer="Clock"),
    Route(
        "/_sandbox/tenants/{tenant}/clock",
        set_clock,
        methods=["POST"],
        body=parse_configure_clock,
        body_required=True,
        answer="Clock",
    ),
    Route(
        "/_sandbox/tenants/{tenant}/clock/advance",
        advance_clock,
        methods=["POST"],
        body=parse_advance_clock,
        body_required=True,
        answer="Advanced",
    ),
]
