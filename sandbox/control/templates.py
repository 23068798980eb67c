"""Message templates outside the Graph API: forcing a template's quality score, as customers' reactions would."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from sandbox.control.common import json_body, respond, tenant_of
from sandbox.control.parse import Fields
from sandbox.control.routing import ControlRoute as Route
from sandbox.domain.template import QualityScore
from sandbox.services import template_quality


def parse_quality_score(body: Fields) -> QualityScore:
    score: QualityScore = body.sole_choice("score", QualityScore)
    return score


async def put_quality(request: Request) -> Response:
    tenant = tenant_of(request)
    score = parse_quality_score(Fields(await json_body(request, required=True)))
    template = template_quality.force_quality(tenant, request.path_params["template_id"], QualityScore(score).value)
    return respond(template_quality.quality_document(tenant, template))


async def get_quality(request: Request) -> Response:
    tenant = tenant_of(request)
    template = template_quality.template_of(tenant, request.path_params["template_id"])
    return respond(template_quality.quality_document(tenant, template))


routes = [
    Route(
        "/_sandbox/tenants/{tenant}/templates/{template_id}/quality",
        put_quality,
        methods=["PUT"],
        body=parse_quality_score,
        body_required=True,
    ),
    Route("/_sandbox/tenants/{tenant}/templates/{template_id}/quality", get_quality, methods=["GET"]),
]
