"""`GET /{waba-id}/message_templates` and `GET /{template-id}`."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from sandbox.api.fields import page, project
from sandbox.api.graph import GraphRequest, GraphRoute
from sandbox.services.message_templates import list_templates

TEMPLATE_DEFAULT_FIELDS = ("name", "parameter_format", "components", "language", "status", "category", "id")
TEMPLATE_LIMIT = 250


async def get_message_template(graph: GraphRequest) -> Response:
    return graph.respond(project(graph.node.graph_fields(), graph.query.get("fields"), TEMPLATE_DEFAULT_FIELDS))


async def list_message_templates(graph: GraphRequest) -> Response:
    query = graph.query
    templates = list_templates(graph.tenant, graph.node_id, query)
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
    GraphRoute("template", None, "GET", get_message_template),
    GraphRoute("waba", "message_templates", "GET", list_message_templates),
]
