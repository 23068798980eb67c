"""`POST|GET|DELETE /{waba-id}/message_templates`, `POST /{waba-id}/upsert_message_templates`,
`GET|POST /{template-id}`, `POST /{template-id}/unpause`, `POST /{waba-id}/message_templates/archive|unarchive` and
`POST /{waba-id}/migrate_message_templates`."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from sandbox import json_bodies
from sandbox.api.fields import page, project, requested_fields
from sandbox.api.graph import GraphRequest, GraphRoute, too_deep
from sandbox.services.message_templates import (
    create_template,
    list_templates,
    template_limit,
    templates_of,
    upsert_authentication_templates,
)
from sandbox.services.template_deletion import archive_templates, delete_templates, migrate_templates
from sandbox.services.template_edits import edit_template
from sandbox.services.template_quality import unpause

TEMPLATE_DEFAULT_FIELDS = ("name", "parameter_format", "components", "language", "status", "category", "id")
SUMMARY_FIELDS = ("total_count", "message_template_count", "message_template_limit", "are_translations_complete")


async def get_message_template(graph: GraphRequest) -> Response:
    return graph.respond(project(graph.node.graph_fields(), graph.query.get("fields"), TEMPLATE_DEFAULT_FIELDS))


async def list_message_templates(graph: GraphRequest) -> Response:
    query = graph.query
    templates = list_templates(graph.tenant, graph.node_id, query)
    result: dict[str, Any] = page(
        [project(t.graph_fields(), query.get("fields"), TEMPLATE_DEFAULT_FIELDS) for t in templates],
        query,
        url=graph.page_url,
    )
    if "summary" in query:
        result["summary"] = _summary(graph, len(templates), query["summary"])
    return graph.respond(result)


def _summary(graph: GraphRequest, total: int, wanted: str) -> dict[str, Any]:
    # `summary=true` (or names Graph does not know) answers every count; pywa fails with KeyError('summary')
    # when these are missing (client-traffic.md §2.6).
    held = sum(t.counts_toward_limit for t in templates_of(graph.tenant, graph.node_id))
    summary = {
        "total_count": total,
        "message_template_count": held,
        "message_template_limit": template_limit(graph.tenant, graph.node_id),
        "are_translations_complete": True,
    }
    names = [name for name in requested_fields(wanted, SUMMARY_FIELDS) if name in summary]
    return {name: summary[name] for name in names} if names else summary


async def _object(graph: GraphRequest) -> Any:
    body = await graph.body()
    # pywa sends some template bodies as a JSON document encoded once more, as a JSON string.
    if isinstance(body, str) and body.strip()[:1] == "{":
        try:
            return json_bodies.loads(body)
        except json_bodies.TooDeep as error:
            raise too_deep(error) from None
        except ValueError:
            return body
    return body


async def create_message_template(graph: GraphRequest) -> Response:
    template = create_template(graph.tenant, graph.node_id, await _object(graph))
    return graph.respond({"id": template.id, "status": template.status, "category": template.category})


async def upsert_message_templates(graph: GraphRequest) -> Response:
    templates = upsert_authentication_templates(graph.tenant, graph.node_id, await _object(graph))
    return graph.respond(
        {"data": [{"id": t.id, "status": t.status, "language": t.language, "category": t.category} for t in templates]}
    )


async def edit_message_template(graph: GraphRequest) -> Response:
    template = edit_template(graph.tenant, graph.node, await _object(graph))
    # pywa's UpdatedTemplate reads id, name and category besides Meta's documented `success`.
    return graph.respond({"success": True, "id": template.id, "name": template.name, "category": template.category})


async def delete_message_templates(graph: GraphRequest) -> Response:
    body = await _object(graph)
    delete_templates(graph.tenant, graph.node_id, dict(graph.query) | (body if isinstance(body, dict) else {}))
    return graph.respond({"success": True})


async def archive(graph: GraphRequest) -> Response:
    return graph.respond(archive_templates(graph.tenant, graph.node_id, await _parameters(graph)))


async def unarchive(graph: GraphRequest) -> Response:
    return graph.respond(archive_templates(graph.tenant, graph.node_id, await _parameters(graph), unarchive=True))


async def migrate_message_templates(graph: GraphRequest) -> Response:
    return graph.respond(migrate_templates(graph.tenant, graph.node_id, await _parameters(graph)))


async def _parameters(graph: GraphRequest) -> dict[str, Any]:
    """The query string and the body together (Meta's examples use either)."""
    body = await _object(graph)
    return dict(graph.query) | (body if isinstance(body, dict) else {})


async def unpause_message_template(graph: GraphRequest) -> Response:
    return graph.respond(unpause(graph.tenant, graph.node))


routes = [
    GraphRoute("template", None, "GET", get_message_template),
    GraphRoute("template", "unpause", "POST", unpause_message_template),
    GraphRoute("waba", "message_templates", "GET", list_message_templates),
    GraphRoute("waba", "message_templates", "POST", create_message_template),
    GraphRoute("waba", "upsert_message_templates", "POST", upsert_message_templates),
    GraphRoute("template", None, "POST", edit_message_template),
    GraphRoute("waba", "message_templates", "DELETE", delete_message_templates),
    GraphRoute("waba", "message_templates/archive", "POST", archive),
    GraphRoute("waba", "message_templates/unarchive", "POST", unarchive),
    GraphRoute("waba", "migrate_message_templates", "POST", migrate_message_templates),
]
