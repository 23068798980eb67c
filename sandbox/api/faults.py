"""Injected faults at the Graph surface: the facts a fault matches, added latency, and dropped connections."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from sandbox import json_bodies
from sandbox.clock import pause
from sandbox.domain.fault import Fault, GraphCall
from sandbox.errors import GraphError
from sandbox.services import customers, faults
from sandbox.services.messaging import recipient_wa_id

if TYPE_CHECKING:
    from sandbox.api.graph import GraphRequest

# Outside 100–599: the ASGI server cannot write a status line for it (see `DroppedConnection`).
_UNSENDABLE_STATUS = 0


class ConnectionDropped(Exception):
    """Raised to an in-process client (TestClient, httpx.ASGITransport) that cannot see a closed socket."""


class DroppedConnection(Response):
    """Close the connection without answering.

    ASGI has no "abort"; starting a response whose status line cannot be encoded does it. uvicorn marks the
    response started, fails before writing a byte, and when the app returns without completing the response it
    closes the socket (it logs "ASGI callable returned without completing response."). The client sees a
    connection closed with no response at all. In-process transports write nothing either, so they get
    `ConnectionDropped` raised instead.
    """

    def __init__(self) -> None:
        super().__init__(b"", status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await send({"type": "http.response.start", "status": _UNSENDABLE_STATUS, "headers": []})
        except Exception:  # the server refused the status line: the connection goes down unanswered
            return
        raise ConnectionDropped("the connection was dropped by an injected fault")


async def call_facts(graph: GraphRequest) -> GraphCall:
    """What faults match on this call; a send's body is read (and kept for the handler) only when faults exist."""
    path = f"/{graph.node_id}" + (f"/{graph.edge}" if graph.edge else "")
    phone_number_id = graph.query.get("phone_number_id")
    if graph.kind == "phone_number":
        phone_number_id = graph.node_id
    elif graph.kind == "media":
        phone_number_id = getattr(graph.node, "phone_number_id", None) or phone_number_id
    if graph.kind == "phone_number" and graph.edge == "messages" and graph.method == "POST":
        body = await _peek_json(graph)
        if body.get("status") is None:
            to = body.get("to") if isinstance(body.get("to"), str) else ""
            message_type = body.get("type") if isinstance(body.get("type"), str) else "text"
            template = body.get("template")
            name = template.get("name") if isinstance(template, dict) else None
            name = name if isinstance(name, str) else None
            try:
                wa_id: str | None = recipient_wa_id(to, graph.node) if to else None
            except GraphError:
                wa_id = None
            if not to and isinstance(body.get("recipient"), str):  # a send by BSUID matches as its customer
                known = customers.known_user(graph.tenant, body["recipient"])
                wa_id = known.wa_id if known is not None else None
            return faults.send_call(graph.node, to, wa_id, message_type, name)
    return GraphCall(method=graph.method, path=path, phone_number_id=phone_number_id)


async def _peek_json(graph: GraphRequest) -> dict[str, Any]:
    content_type = graph.request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        body = await graph.body()
        return body if isinstance(body, dict) else {}
    try:
        parsed = json_bodies.loads(await graph.raw())
    except ValueError:  # the handler answers a malformed or too deep body
        return {}
    return parsed if isinstance(parsed, dict) else {}


async def injected_fault(graph: GraphRequest) -> Fault | None:
    """The sync fault that fires on this call, with its latency already waited out."""
    if not graph.tenant.faults.faults:
        return None
    fault = faults.sync_fault(graph.tenant, await call_facts(graph))
    if fault is not None:
        await pause(faults.latency_seconds(fault))
    return fault
