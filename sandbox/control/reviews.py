"""The humans at Meta: `GET|POST /_sandbox/tenants/{tenant}/reviews` lists what is pending and forces a decision."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from sandbox.clock import to_rfc3339
from sandbox.control.common import json_body, respond, tenant_of
from sandbox.control.parse import Fields
from sandbox.control.routing import ControlRoute as Route
from sandbox.domain.commands import ForceDecision
from sandbox.domain.decision import ReviewKind
from sandbox.services import decisions

MAX_ID = 256
MAX_REASON = 1024


def parse_force_decision(body: Fields) -> ForceDecision:
    body.only(("kind", "target", "decision", "reason"))
    kind = body.choice("kind", ReviewKind, required=True)
    target = body.text("target", max_length=MAX_ID, required=True)
    decision = body.text("decision", max_length=64, required=True)
    assert target is not None and decision is not None
    return ForceDecision(str(kind), target, decision, body.text("reason", max_length=MAX_REASON))


async def list_reviews(request: Request) -> Response:
    tenant = tenant_of(request)
    pending = [pending.document() for pending in decisions.pending_decisions(tenant)]
    return respond({"data": pending, "kinds": sorted(decisions.reviewers())})


async def force_review(request: Request) -> Response:
    tenant = tenant_of(request)
    command = parse_force_decision(Fields(await json_body(request, required=True)))
    decided = decisions.force(tenant, command)
    return respond(decided.document() | {"decided_at": to_rfc3339(tenant.clock.now()), "forced": True})


routes = [
    Route("/_sandbox/tenants/{tenant}/reviews", list_reviews, methods=["GET"], answer="List"),
    Route(
        "/_sandbox/tenants/{tenant}/reviews",
        force_review,
        methods=["POST"],
        body=parse_force_decision,
        body_required=True,
    ),
]
