"""`create_app`: the Starlette application around one `Sandbox`."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hmac
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route, get_route_path
from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.api import graph_router
from sandbox.api.error_handlers import starlette_graph_error
from sandbox.api.media import download_media
from sandbox.clock import ticker
from sandbox.context import Sandbox
from sandbox.control import control_routes
from sandbox.control.common import domain_status, error_response
from sandbox.control.index import is_public
from sandbox.domain.commands import CreateTenant
from sandbox.domain.errors import DomainError
from sandbox.errors import GraphError, GraphErrorCode, SandboxError
from sandbox.services.persistence import Checkpointer
from sandbox.services.tenants import create_tenant
from sandbox.ui import auth as ui_auth
from sandbox.ui import ui_routes
from sandbox.webhooks.transport import HttpTransport, WebhookTransport

log = logging.getLogger("sandbox")
GRAPH_METHODS = ["GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"]
# The serving process's cyclic GC: the sandbox keeps up to journal_messages messages alive, which only refcounting
# ever frees, yet the default thresholds rescan them all again and again (a full pass over 100,000 messages takes
# ~0.4 s, a p99 spike). Young passes every 10,000 allocations instead of 700: ~13 µs less per send.
GC_THRESHOLDS = (10_000, 10, 10)
# What the first route below matches; the fallback sends the rest of such paths (e.g. a decoded newline) to the
# Graph router as well.
_VERSIONED_PATH = re.compile(r"/v\d{1,2}\.\d{1,2}/")


class _GraphVersion(Convertor[str]):
    """`v23.0`-style path prefix (the same pattern `api.graph.VERSION` accepts)."""

    regex = r"v\d{1,2}\.\d{1,2}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("graph_version", _GraphVersion())


async def _sandbox_error(request: Request, exc: Exception) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    if isinstance(exc, SandboxError):
        return error_response(sandbox, exc.status, exc.message)
    if isinstance(exc, DomainError):
        return error_response(sandbox, domain_status(exc), exc.message)
    if isinstance(exc, HTTPException):
        return error_response(sandbox, exc.status_code, str(exc.detail))
    log.exception("unexpected error in the control plane", exc_info=exc)
    return error_response(sandbox, 500, f"internal error: {type(exc).__name__}")


async def _unknown_control_path(request: Request) -> Response:
    allowed = sorted(
        method
        for route in request.app.router.routes
        if isinstance(route, Route)
        and route.path != "/_sandbox/{rest:path}"
        and route.matches(request.scope)[0] == Match.PARTIAL
        for method in route.methods or ()
    )
    if allowed:
        raise SandboxError(405, f"{request.method} is not allowed on {request.url.path}; use {', '.join(allowed)}")
    raise SandboxError(404, f"no control-plane endpoint {request.method} {request.url.path}")


class AdminTokenGuard:
    """With an admin token set, every `/_sandbox/` call needs `Authorization: Bearer <admin token>` (or the
    dashboard's cookie, sandbox/ui/auth.py), but for the control plane's description and its viewer
    (sandbox/control/index.py)."""

    def __init__(self, app: ASGIApp, sandbox: Sandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = self.sandbox.settings.admin_token
        if (
            token
            and scope["type"] == "http"
            and scope["path"].startswith("/_sandbox/")
            and not is_public(scope["path"])
        ):
            headers = dict(scope["headers"])
            # Compared in constant time: how long a refusal takes must not tell how much of the token was right.
            bearer = hmac.compare_digest(headers.get(b"authorization", b""), b"Bearer " + token.encode())
            if not bearer and not ui_auth.cookie_admits(scope, token):
                response = ui_auth.login(scope, token)
                if response is None:
                    dashboard = scope["path"].startswith(ui_auth.PREFIX)
                    message = "the control plane needs the admin token"
                    response = ui_auth.refusal() if dashboard else error_response(self.sandbox, 401, message)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _graph_fallback(graph: Callable[[Request], Awaitable[Response]], default: ASGIApp) -> ASGIApp:
    """Paths no route pattern matches (e.g. a decoded newline, which `{path:path}` does not span) are still
    Graph paths: they get Graph's unknown-object error, not a bare 404."""

    async def fallback(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sandbox/"):
            await default(scope, receive, send)
            return
        response = await graph(Request(scope, receive))
        await response(scope, receive, send)

    return fallback


class SandboxApp(Starlette):
    """Starlette, with versioned Graph calls handed straight to the Graph router.

    Every such call ends in `GraphRouter.handle`, which answers every error itself through the one renderer, so
    the middleware stack, route matching and Starlette's per-route exception wrapper only cost time there
    (~11 µs per send, measured in process). Everything else (control plane, unversioned paths) takes Starlette's way.
    """

    graph: Callable[[Request], Awaitable[Response]]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in GRAPH_METHODS
            and _VERSIONED_PATH.match(get_route_path(scope))
        ):
            scope["app"] = self
            request = Request(scope, receive)
            try:
                response = await self.graph(request)
            except Exception as exc:  # what the exception handlers below would have answered
                render = starlette_graph_error if isinstance(exc, GraphError) else _sandbox_error
                response = await render(request, exc)
            await response(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    def edge_error(self, scope: Scope, status: int, message: str) -> bytes:
        """The body the server's edge answers a refused request with (a body too slow or too large): the control
        plane's SandboxError envelope on `/_sandbox/`, Graph's envelope (code 1) elsewhere."""
        sandbox: Sandbox = self.state.sandbox
        if scope["path"].startswith("/_sandbox/"):
            return bytes(error_response(sandbox, status, message).body)
        error = GraphError(GraphErrorCode.API_UNKNOWN, None, message=message, http_status=status)
        return orjson.dumps(error.envelope(sandbox.ids.fbtrace_id()))


@contextlib.contextmanager
def _serving_gc() -> Iterator[None]:
    """While the app serves: objects from start-up (modules, fake data) frozen out of GC passes, larger thresholds;
    both restored afterwards, so an in-process app (tests) leaves the interpreter as it found it."""
    previous = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()


def create_app(sandbox: Sandbox | None = None, *, transport: WebhookTransport | None = None) -> Starlette:
    """The sandbox as an ASGI app. Without a `sandbox`, one is built from default settings with its
    `default` tenant; `transport` replaces the HttpTransport that delivers webhooks (tests pass a fake)."""
    if sandbox is None:
        sandbox = Sandbox()
        create_tenant(sandbox, CreateTenant(name="default"))
    delivery_transport: WebhookTransport = transport or HttpTransport(sandbox.settings.delivery_concurrency)
    router = graph_router()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        sandbox.tasks = {
            "outbox": asyncio.create_task(
                sandbox.outbox.run(delivery_transport, sandbox.settings.delivery_concurrency)
            ),
            "ticker": asyncio.create_task(ticker(sandbox.run_due)),
        }
        checkpointer = Checkpointer(sandbox, sandbox.settings.checkpoint_mode) if sandbox.data_dir else None
        if checkpointer is not None:
            interval = sandbox.settings.checkpoint_interval
            sandbox.tasks["checkpoint"] = asyncio.create_task(ticker(checkpointer.tick, interval))
        tasks = list(sandbox.tasks.values())
        try:
            with _serving_gc():
                yield {}
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if checkpointer is not None:
                checkpointer.close()
            await delivery_transport.close()

    app = SandboxApp(
        routes=[
            # Versioned Graph paths first: otherwise every send is matched against each control route in turn.
            Route("/{version:graph_version}/{path:path}", router.handle, methods=GRAPH_METHODS),
            *control_routes(),
            *ui_routes(),
            Route("/_sandbox/{rest:path}", _unknown_control_path, methods=GRAPH_METHODS),
            Route("/whatsapp_business/attachments/", download_media, methods=["GET"]),
            Route("/{path:path}", router.handle, methods=GRAPH_METHODS),
        ],
        exception_handlers={
            SandboxError: _sandbox_error,
            DomainError: _sandbox_error,
            HTTPException: _sandbox_error,
            GraphError: starlette_graph_error,
            Exception: _sandbox_error,
        },
        lifespan=lifespan,
    )
    app.state.sandbox = sandbox
    app.graph = router.handle
    app.router.default = _graph_fallback(router.handle, app.router.default)
    app.state.transport = delivery_transport
    app.add_middleware(AdminTokenGuard, sandbox=sandbox)
    return app
