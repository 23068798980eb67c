"""Customers' reactions to a business number and the number's quality rating, as the control plane moves them."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.control.common import json_body, respond, tenant_of
from sandbox.control.parse import ID_LENGTH, Fields, wa_id_of
from sandbox.domain.phone_number import QualityRating
from sandbox.domain.quality import ReactionKind
from sandbox.services import quality


async def post_reaction(request: Request) -> Response:
    tenant = tenant_of(request)
    wa_id = wa_id_of(request.path_params["wa_id"], "wa_id")
    body = Fields(await json_body(request, required=True))
    body.only(("kind", "phone_number_id", "message_id"))
    kind = body.choice("kind", ReactionKind, required=True)
    phone_number_id = body.text("phone_number_id", max_length=ID_LENGTH, required=True)
    message_id = body.text("message_id", max_length=ID_LENGTH)
    reaction = quality.react(tenant, wa_id, str(kind), str(phone_number_id), message_id)
    return respond({"reaction": reaction.document(), "quality": quality.document(tenant, str(phone_number_id))})


async def get_quality(request: Request) -> Response:
    return respond(quality.document(tenant_of(request), request.path_params["phone_number_id"]))


async def put_quality(request: Request) -> Response:
    tenant = tenant_of(request)
    body = Fields(await json_body(request, required=True))
    body.only(("quality_rating",))
    rating = body.choice("quality_rating", QualityRating, required=True)
    return respond(quality.force(tenant, request.path_params["phone_number_id"], str(rating)))


routes = [
    Route("/_sandbox/tenants/{tenant}/customers/{wa_id}/reactions", post_reaction, methods=["POST"]),
    Route("/_sandbox/tenants/{tenant}/phone_numbers/{phone_number_id}/quality", get_quality, methods=["GET"]),
    Route("/_sandbox/tenants/{tenant}/phone_numbers/{phone_number_id}/quality", put_quality, methods=["PUT"]),
]
