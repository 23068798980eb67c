"""The journal: Graph calls received, messages both ways, webhook deliveries (all bounded ring buffers)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from sandbox.context import Sandbox, Tenant
from sandbox.control.common import (
    LIMIT_QUERY,
    TEXT_QUERY,
    TIME_QUERY,
    SandboxError,
    limit_of,
    respond,
    sandbox_of,
    tenant_of,
)
from sandbox.control.parse import Fields, choices_of
from sandbox.control.routing import ControlRoute as Route
from sandbox.errors import GraphErrorCode
from sandbox.services import subscribed_apps
from sandbox.webhooks.outbox import DeliveryState

# A page of the delivery log carries whole payloads; more than this in one answer helps nobody.
WEBHOOK_PAGE_LIMIT = 1000


def requests_page(tenant: Tenant, limit: int, status: str | None = None, method: str | None = None) -> list[Any]:
    """The Graph request journal, newest first, narrowed by answer status and method (the dashboard's too)."""
    return tenant.store.requests.newest(
        limit,
        lambda e: (status is None or str(e["status"]) == status) and (method is None or e["method"] == method),
    )


def request_filters(q: Mapping[str, str]) -> dict[str, str | None]:
    """The filters of `GET .../requests` from its query string, as `requests_page` takes them (the dashboard's
    too): `status` (the HTTP status answered) and `method`."""
    return {"status": q.get("status"), "method": q.get("method")}


async def list_requests(request: Request) -> Response:
    filters = request_filters(request.query_params)
    return respond({"data": requests_page(tenant_of(request), limit_of(request), **filters)})


async def list_messages(request: Request) -> Response:
    tenant = tenant_of(request)
    q = request.query_params
    to, status, direction = q.get("to"), q.get("status"), q.get("direction")
    since = Fields(q).time("since")
    messages = tenant.store.messages.newest(
        limit_of(request),
        lambda m: (
            (to is None or m.wa_id == to.lstrip("+"))
            and (status is None or m.status == status)
            and (direction is None or m.direction == direction)
            and (since is None or m.created_at >= since)
        ),
    )
    return respond({"data": [message.snapshot() for message in messages]})


def delivery_filters(q: Mapping[str, str]) -> dict[str, Any]:
    """The filters of `GET .../webhooks` from its query string, as `deliveries_page` takes them (the dashboard's
    too): `field`, `state` (or `status`), `since`/`until`, `wamid`, `to` (a customer's number), `phone_number_id`,
    `chaos`, and `payload=false` to leave the bodies out."""
    query = Fields(q)
    return {
        "field": q.get("field"),
        "state": query.choice("state" if "state" in q else "status", DeliveryState),
        "since": query.time("since"),
        "until": query.time("until"),
        "wamid": q.get("wamid"),
        "to": re.sub(r"[^0-9]", "", q["to"]) if "to" in q else None,
        "phone_number_id": q.get("phone_number_id"),
        "chaos": q.get("chaos"),
        "with_payload": q.get("payload", "true").lower() not in ("false", "0", "no"),
    }


async def list_webhooks(request: Request) -> Response:
    """The delivery log, newest first: filters `field`, `state` (or `status`), `since`/`until`, `wamid`, `to` (a
    customer's number), `phone_number_id`, `chaos`; `payload=false` leaves the bodies out; `limit` bounds the page."""
    tenant = tenant_of(request)
    filters = delivery_filters(request.query_params)
    found = deliveries_page(sandbox_of(request), tenant, min(limit_of(request), WEBHOOK_PAGE_LIMIT), **filters)
    summary = sandbox_of(request).outbox.tenant(tenant.id).summary()
    return respond({"data": found, "summary": summary})


def deliveries_page(
    sandbox: Sandbox,
    tenant: Tenant,
    limit: int,
    *,
    field: str | None = None,
    state: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    wamid: str | None = None,
    to: str | None = None,
    phone_number_id: str | None = None,
    chaos: str | None = None,
    with_payload: bool = True,
) -> list[dict[str, Any]]:
    """The delivery log, newest first, narrowed by every filter given (the dashboard's too)."""
    found = []
    for d in sandbox.outbox.newest(tenant.id):
        if (
            (field is None or d.field == field)
            and (state is None or d.state == state)
            and (since is None or d.created_at >= since)
            and (until is None or d.created_at <= until)
            and (wamid is None or wamid in d.wamids)
            and (to is None or to in d.recipients)
            and (phone_number_id is None or d.phone_number_id == phone_number_id)
            and (chaos is None or chaos in d.chaos)
        ):
            found.append(d.snapshot(with_payload=with_payload))
            if len(found) >= limit:
                break
    return found


async def redeliver(request: Request) -> Response:
    tenant = tenant_of(request)
    delivery = sandbox_of(request).outbox.get(tenant.id, request.path_params["delivery_id"])
    if delivery is None:
        raise SandboxError(404, "no such delivery in the log")
    copy = subscribed_apps.redeliver(tenant, delivery)
    if copy is None:
        raise SandboxError(409, "nowhere to deliver: no callback URL, or the app is not subscribed to the WABA")
    return respond(copy.snapshot(), 201)


async def list_errors(request: Request) -> Response:
    return respond(
        {
            "data": [
                {
                    "code": int(code),
                    "name": code.name,
                    "title": code.title,
                    "http_status": code.http_status,
                    "details": code.description,
                }
                for code in GraphErrorCode
            ]
        }
    )


routes = [
    Route("/_sandbox/errors", list_errors, methods=["GET"], answer="List"),
    Route(
        "/_sandbox/tenants/{tenant}/requests",
        list_requests,
        methods=["GET"],
        answer="List",
        query={**LIMIT_QUERY, "status": TEXT_QUERY, "method": TEXT_QUERY},
    ),
    Route(
        "/_sandbox/tenants/{tenant}/messages",
        list_messages,
        methods=["GET"],
        answer="Messages",
        query={**LIMIT_QUERY, "to": TEXT_QUERY, "status": TEXT_QUERY, "direction": TEXT_QUERY, "since": TIME_QUERY},
    ),
    Route(
        "/_sandbox/tenants/{tenant}/webhooks",
        list_webhooks,
        methods=["GET"],
        answer="List",
        query={
            **LIMIT_QUERY,
            "state": {"enum": list(choices_of(DeliveryState))},
            "status": {"enum": list(choices_of(DeliveryState))},
            "field": TEXT_QUERY,
            "wamid": TEXT_QUERY,
            "to": TEXT_QUERY,
            "phone_number_id": TEXT_QUERY,
            "chaos": TEXT_QUERY,
            "since": TIME_QUERY,
            "until": TIME_QUERY,
            "payload": {"enum": ["true", "false", "1", "0", "yes", "no"]},
        },
    ),
    Route("/_sandbox/tenants/{tenant}/webhooks/{delivery_id}/redeliver", redeliver, methods=["POST"], status=201),
]
