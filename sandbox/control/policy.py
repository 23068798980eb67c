"""`GET|PATCH /_sandbox/tenants/{tenant}/policy`: every knob of the tenant's simulated behaviour, by group;
`GET /_sandbox/policy/knobs`: what each knob is and accepts, from its declaration (docs/policy.md)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from sandbox.context import Tenant
from sandbox.control.common import SandboxError, json_body, respond, tenant_of
from sandbox.control.routing import ControlRoute as Route
from sandbox.domain.policy import Policy

SHAPES = ("grouped", "flat")


def _shape(request: Request) -> str:
    """`?shape=flat` answers with the ungrouped knob names of earlier versions."""
    shape = request.query_params.get("shape", "grouped")
    if shape not in SHAPES:
        raise SandboxError(400, f"shape must be one of {', '.join(SHAPES)}")
    return shape


def _rendered(tenant: Tenant, shape: str) -> Response:
    return respond(tenant.policy.flat_snapshot() if shape == "flat" else tenant.policy.snapshot())


async def get_policy(request: Request) -> Response:
    return _rendered(tenant_of(request), _shape(request))


async def patch_policy(request: Request) -> Response:
    """Grouped and flat knob names both apply; one bad knob (`Invalid`, a 400) and nothing changes."""
    tenant, shape = tenant_of(request), _shape(request)
    changes = await json_body(request, required=True)
    before = tenant.policy.snapshot()
    tenant.policy.patch(changes)
    try:
        _resize_journals(tenant)
    except Exception:
        # All or nothing: the knobs go back, and so do the journals sized from them.
        tenant.policy.patch(before)
        _resize_journals(tenant)
        raise
    return _rendered(tenant, shape)


def _resize_journals(tenant: Tenant) -> None:
    tenant.store.requests.resize(tenant.policy.journal.requests)
    tenant.store.messages.max_size = tenant.policy.journal.messages
    tenant.store.ledger.resize(tenant.policy.pricing.ledger_entries)


async def get_knobs(request: Request) -> Response:
    return respond({"data": Policy.describe()})


def knob_schema(knob: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema of one knob, from its declaration (`Policy.describe()`, the knobs' own `check` bounds)."""
    kind, low, high = knob["type"], knob.get("min"), knob.get("max")
    bounded = {"minimum": low} | ({"exclusiveMaximum": high} if knob.get("max_exclusive") else {"maximum": high})
    schema: dict[str, Any]
    if kind in ("number", "integer"):
        schema = {"type": kind} | bounded
    elif kind == "boolean":
        schema = {"type": "boolean"}
    elif kind == "choice":
        schema = {"enum": knob["choices"]}
    elif kind == "span":
        schema = {"type": "array", "items": {"type": "number"} | bounded, "minItems": 2, "maxItems": 2}
    elif kind == "number_list":
        items = {"type": "number"} | bounded
        schema = {"type": "array", "items": items, "minItems": knob["min_items"], "maxItems": knob["max_items"]}
    elif kind == "levels":
        level = {"type": "integer"} | bounded
        schema = {"type": "object", "properties": dict.fromkeys(knob["levels"], level), "additionalProperties": False}
    else:
        raise TypeError(f"no schema for a {kind!r} knob")
    return schema | {"description": knob["description"]}


def patch_schema() -> dict[str, Any]:
    """A policy patch: groups of knobs, or the knobs' flat names, never both for one knob."""
    knobs = Policy.describe()
    groups: dict[str, dict[str, Any]] = {}
    for knob in knobs:
        groups.setdefault(knob["group"], {})[knob["name"]] = knob_schema(knob)
    properties = {
        group: {"type": "object", "properties": members, "additionalProperties": False}
        for group, members in groups.items()
    } | {knob["flat_name"]: knob_schema(knob) for knob in knobs}
    return {"type": "object", "properties": properties, "additionalProperties": False}


routes = [
    Route("/_sandbox/tenants/{tenant}/policy", get_policy, methods=["GET"], query={"shape": {"enum": list(SHAPES)}}),
    Route(
        "/_sandbox/tenants/{tenant}/policy",
        patch_policy,
        methods=["PATCH"],
        body_schema=patch_schema,
        body_required=True,
        query={"shape": {"enum": list(SHAPES)}},
    ),
    Route("/_sandbox/policy/knobs", get_knobs, methods=["GET"], answer="List"),
]
