"""`GET /{waba-id}` and `GET /{business-id}`."""

from __future__ import annotations

from starlette.responses import Response

from sandbox.api.fields import project
from sandbox.api.graph import GraphRequest, GraphRoute

WABA_DEFAULT_FIELDS = ("id", "name", "currency", "timezone_id", "message_template_namespace")
BUSINESS_DEFAULT_FIELDS = ("id", "name")


async def get_node(graph: GraphRequest) -> Response:
    default = {"waba": WABA_DEFAULT_FIELDS, "business": BUSINESS_DEFAULT_FIELDS}
    node = graph.node
    # A WABA shows its business's verification as it stands now.
    fields = node.graph_fields(graph.tenant.store.businesses.get(node.business_id)) if graph.kind == "waba" else None
    return graph.respond(project(fields or node.graph_fields(), graph.query.get("fields"), default[graph.kind]))


routes = [
    GraphRoute("waba", None, "GET", get_node),
    GraphRoute("business", None, "GET", get_node),
]
