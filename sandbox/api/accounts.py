"""`GET /{waba-id}`, `GET /{business-id}`, `GET /{waba-id}/message_templates` and `GET /{template-id}`."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from sandbox.api.fields import page, project
from sandbox.api.graph import GraphRequest, GraphRoute

WABA_DEFAULT_FIELDS = ("id", "name", "currency", "timezone_id", "message_template_namespace")
TEMPLATE_DEFAULT_FIELDS = ("name", "parameter_format", "components", "language", "status", "category", "id")
TEMPLATE_LIMIT = 250


async def get_node(graph: GraphRequest) -> Response:
    default = {"waba": WABA_DEFAULT_FIELDS, "business": ("id", "name"), "template": TEMPLATE_DEFAULT_FIELDS}
    return graph.respond(project(graph.node.graph_fields(), graph.query.get("fields"), default[graph.kind]))


async def list_message_templates(graph: GraphRequest) -> Response:
    query = graph.query
    templates = [t for t in graph.tenant.store.templates if t.waba_id == graph.node_id]
    for name in ("name", "status", "category", "language"):
        if name in query:
            templates = [t for t in templates if str(getattr(t, name)).lower() == query[name].lower()]
    result: dict[str, Any] = page(
        [project(t.graph_fields(), query.get("fields"), TEMPLATE_DEFAULT_FIELDS) for t in templates], query
    )
    if "summary" in query:
        # pywa fails with KeyError('summary') when these are missing (client-traffic.md §2.6).
        result["summary"] = {
            "total_count": len(templates),
            "message_template_count": len(templates),
            "message_template_limit": TEMPLATE_LIMIT,
            "are_translations_complete": True,
        }
    return graph.respond(result)


routes = [
    GraphRoute("waba", None, "GET", get_node),
    GraphRoute("business", None, "GET", get_node),
    GraphRoute("template", None, "GET", get_node),
    GraphRoute("waba", "message_templates", "GET", list_message_templates),
]
