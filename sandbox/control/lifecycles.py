"""`GET /_sandbox/lifecycles`: every declared lifecycle, its states and the moves its table allows, read off the
registry (sandbox/domain/lifecycle.py), so what a test, the docs and a dashboard offer is what the machines do."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from sandbox.control.common import respond
from sandbox.control.routing import ControlRoute as Route
from sandbox.domain.lifecycle import Lifecycle, lifecycles


def describe(lifecycle: Lifecycle) -> dict[str, Any]:
    return {
        "name": lifecycle.name,
        "attribute": lifecycle.attribute,
        "description": lifecycle.description,
        "states": [str(state) for state in lifecycle.states],
        "final": [str(state) for state in lifecycle.states if lifecycle.is_final(state)],
        "transitions": [
            {"trigger": trigger, "from": sources, "to": dest} for trigger, sources, dest in lifecycle.table()
        ],
    }


async def list_lifecycles(request: Request) -> Response:
    return respond({"data": [describe(lifecycle) for lifecycle in lifecycles().values()]})


routes = [Route("/_sandbox/lifecycles", list_lifecycles, methods=["GET"], answer="List")]
