"""Message templates outside the Graph API: forcing a template's quality score, as customers' reactions would."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.control.common import json_body, respond, tenant_of
from sandbox.control.parse import Fields
from sandbox.domain.template import QualityScore
from sandbox.services import template_quality


async def put_quality(request: Request) -> Response:
    tenant = tenant_of(request)
    body = Fields(await json_body(request, required=True))
    body.only(("score",))
    score = body.choice("score", QualityScore, required=True)
    template = template_quality.force_quality(tenant, request.path_params["template_id"], QualityScore(score).value)
    return respond(template_quality.quality_document(tenant, template))


async def get_quality(request: Request) -> Response:
    tenant = tenant_of(request)
    template = template_quality.template_of(tenant, request.path_params["template_id"])
    return respond(template_quality.quality_document(tenant, template))


routes = [
    Route("/_sandbox/tenants/{tenant}/templates/{template_id}/quality", put_quality, methods=["PUT"]),
    Route("/_sandbox/tenants/{tenant}/templates/{template_id}/quality", get_quality, methods=["GET"]),
]
