"""Customers' reactions to a business number and the number's quality rating, as the control plane moves them."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from sandbox.control.common import json_body, respond, tenant_of
from sandbox.control.parse import ID_LENGTH, Fields, wa_id_of
from sandbox.control.routing import ControlRoute as Route
from sandbox.domain.phone_number import QualityRating
from sandbox.domain.quality import ReactionKind
from sandbox.services import quality


def parse_reaction(body: Fields) -> tuple[ReactionKind, str | None, str | None]:
    body.only(("kind", "phone_number_id", "message_id"))
    kind = body.choice("kind", ReactionKind, required=True)
    phone_number_id = body.text("phone_number_id", max_length=ID_LENGTH, required=True)
    return kind, phone_number_id, body.text("message_id", max_length=ID_LENGTH)


def parse_quality_rating(body: Fields) -> QualityRating:
    rating: QualityRating = body.sole_choice("quality_rating", QualityRating)
    return rating


async def post_reaction(request: Request) -> Response:
    tenant = tenant_of(request)
    wa_id = wa_id_of(request.path_params["wa_id"], "wa_id")
    kind, phone_number_id, message_id = parse_reaction(Fields(await json_body(request, required=True)))
    reaction = quality.react(tenant, wa_id, str(kind), str(phone_number_id), message_id)
    return respond({"reaction": reaction.document(), "quality": quality.document(tenant, str(phone_number_id))})


async def get_quality(request: Request) -> Response:
    return respond(quality.document(tenant_of(request), request.path_params["phone_number_id"]))


async def put_quality(request: Request) -> Response:
    tenant = tenant_of(request)
    rating = parse_quality_rating(Fields(await json_body(request, required=True)))
    return respond(quality.force(tenant, request.path_params["phone_number_id"], str(rating)))


routes = [
    Route(
        "/_sandbox/tenants/{tenant}/customers/{wa_id}/reactions",
        post_reaction,
        methods=["POST"],
        body=parse_reaction,
        body_required=True,
    ),
    Route("/_sandbox/tenants/{tenant}/phone_numbers/{phone_number_id}/quality", get_quality, methods=["GET"]),
    Route(
        "/_sandbox/tenants/{tenant}/phone_numbers/{phone_number_id}/quality",
        put_quality,
        methods=["PUT"],
        body=parse_quality_rating,
        body_required=True,
    ),
]
