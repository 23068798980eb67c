"""`GET|POST /{phone-number-id}` and `GET /{waba-id}/phone_numbers`, with `fields=` projection."""

from __future__ import annotations

from starlette.responses import Response

from sandbox.api.fields import matches, page, parse_filtering, project
from sandbox.api.graph import GraphRequest, GraphRoute
from sandbox.domain.phone_number import PHONE_NUMBER_DEFAULT_FIELDS, PHONE_NUMBER_FILTER_FIELDS, PhoneNumber
from sandbox.errors import invalid_parameter
from sandbox.services import messaging_limits, subscribed_apps
from sandbox.services.subscribed_apps import waba_override


def _document(graph: GraphRequest, phone: PhoneNumber) -> dict[str, object]:
    fields = phone.graph_fields(
        graph.tenant.webhook.url,
        waba_override(graph.tenant, phone.waba_id),
        messaging_limit=messaging_limits.phone_tier(graph.tenant, phone),
    )
    return project(fields, graph.query.get("fields"), PHONE_NUMBER_DEFAULT_FIELDS)


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
    return graph.respond(page([_document(graph, phone) for phone in numbers], graph.query))


async def update_phone_number(graph: GraphRequest) -> Response:
    body = await graph.body()
    if not isinstance(body, dict) or "webhook_configuration" not in body:
        raise invalid_parameter("The parameter webhook_configuration is required")
    await subscribed_apps.configure_phone_webhook(
        graph.tenant, graph.request.app.state.transport, graph.node, body["webhook_configuration"]
    )
    return graph.respond({"success": True})


routes = [
    GraphRoute("phone_number", None, "GET", get_phone_number),
    GraphRoute("phone_number", None, "POST", update_phone_number),
    GraphRoute("waba", "phone_numbers", "GET", list_phone_numbers),
]
