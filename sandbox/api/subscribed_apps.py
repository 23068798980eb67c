"""`GET|POST|DELETE /{waba-id}/subscribed_apps`."""

from __future__ import annotations

from starlette.responses import Response

from sandbox.api.graph import GraphRequest, GraphRoute
from sandbox.errors import invalid_parameter
from sandbox.services import subscribed_apps


async def list_subscribed_apps(graph: GraphRequest) -> Response:
    return graph.respond({"data": subscribed_apps.subscribed_apps(graph.node)})


async def subscribe_app(graph: GraphRequest) -> Response:
    body = await graph.body()
    if not isinstance(body, dict):
        raise invalid_parameter("The request body must be an object")
    await subscribed_apps.subscribe(graph.tenant, graph.request.app.state.transport, graph.node, body, graph.app_id)
    return graph.respond({"success": True})


async def unsubscribe_app(graph: GraphRequest) -> Response:
    subscribed_apps.unsubscribe(graph.tenant, graph.node, graph.app_id)
    return graph.respond({"success": True})


routes = [
    GraphRoute("waba", "subscribed_apps", "GET", list_subscribed_apps),
    GraphRoute("waba", "subscribed_apps", "POST", subscribe_app),
    GraphRoute("waba", "subscribed_apps", "DELETE", unsubscribe_app),
]
