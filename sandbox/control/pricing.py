"""`GET /_sandbox/tenants/{tenant}/ledger`: the tenant's cost ledger (docs/pricing.md), in USD or, with
`?view=credits`, in the provider's credits (SEED-MSG-4); `limit` bounds the entries shown, newest first."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from sandbox.control.common import LIMIT_QUERY, limit_of, respond, tenant_of
from sandbox.control.routing import ControlRoute as Route
from sandbox.services import pricing


async def get_ledger(request: Request) -> Response:
    tenant = tenant_of(request)
    view = pricing.view_of(request.query_params.get("view"))
    return respond(pricing.ledger_document(tenant, view=view, limit=limit_of(request)))


routes = [
    Route(
        "/_sandbox/tenants/{tenant}/ledger",
        get_ledger,
        methods=["GET"],
        query={**LIMIT_QUERY, "view": {"enum": list(pricing.VIEWS)}},
    ),
]
