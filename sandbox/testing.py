"""Public helpers for testing against the sandbox: a recording webhook transport, a loopback server, a client."""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from sandbox.context import Sandbox
from sandbox.settings import Settings
from sandbox.sink import WebhookSink as WebhookSink
from sandbox.webhooks.transport import Answer


@dataclass(slots=True)
class Posted:
    url: str
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass
class RecordingTransport:
    """A webhook transport that records every POST and answers as `answer` says (default 200), no sockets."""

    answer: Callable[[Posted], int] = lambda _: 200
    challenge_answer: Callable[[str, Mapping[str, str]], Answer] | None = None
    posted: list[Posted] = field(default_factory=list)

    async def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Answer:
        item = Posted(url, body, dict(headers))
        status = self.answer(item)
        if 200 <= status < 300:
            self.posted.append(item)
        return Answer(status, "")

    async def get(self, url: str, params: Mapping[str, str], timeout: float) -> Answer:
        if self.challenge_answer is not None:
            return self.challenge_answer(url, params)
        return Answer(200, params.get("hub.challenge", ""))

    async def close(self) -> None:
        return None

    def payloads(self) -> list[Any]:
        return [item.json() for item in self.posted]

    def statuses(self, wamid: str | None = None) -> list[str]:
        found = []
        for payload in self.payloads():
            for entry in payload["entry"]:
                for change in entry["changes"]:
                    for status in change["value"].get("statuses", []):
                        if wamid is None or status["id"] == wamid:
                            found.append(status["status"])
        return found


class _PortalTransport(httpx.BaseTransport):
    """A synchronous httpx transport that hands each request to `httpx.ASGITransport` on the portal's event loop."""

    def __init__(self, app: Any, portal: Any) -> None:
        self._asgi = httpx.ASGITransport(app=app)
        self._portal = portal

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        copy = httpx.Request(request.method, request.url, headers=request.headers, content=request.read())
        status, headers, raw = self._portal.call(self._send, copy)
        return httpx.Response(status, headers=headers, content=raw)

    async def _send(self, request: httpx.Request) -> tuple[int, httpx.Headers, bytes]:
        response = await self._asgi.handle_async_request(request)
        # Raw bytes: the calling client decodes them by the response's headers, as from a socket.
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
        return response.status_code, response.headers, raw


class InProcessClient(httpx.Client):
    """An httpx client wired to an ASGI app in this process, its lifespan run as a server would run it.

    What the `wa_client` fixture and in-process scenario runs use instead of starlette's `TestClient` (which warns
    when `httpx2` is not installed). Like `TestClient`, it offers `app` and `portal` (the event loop thread the
    app runs on), so `settle(client)` works with either. Use it as a context manager.
    """

    def __init__(self, app: Any, base_url: str = "http://testserver", **kwargs: Any) -> None:
        self.app = app
        self._stack = contextlib.ExitStack()
        self.portal = self._stack.enter_context(_portal())
        super().__init__(base_url=base_url, transport=_PortalTransport(app, self.portal), **kwargs)

    def __enter__(self) -> InProcessClient:
        super().__enter__()
        try:
            self._stack.enter_context(self.portal.wrap_async_context_manager(_lifespan(self.app)))
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc_info: Any) -> None:
        try:
            super().__exit__(*exc_info)
        finally:
            self._stack.close()


def _portal() -> Any:
    import anyio.from_thread

    return anyio.from_thread.start_blocking_portal()


@contextlib.asynccontextmanager
async def _lifespan(app: Any) -> AsyncIterator[None]:
    """The ASGI lifespan protocol: startup before the first request, shutdown after the last."""
    to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.ensure_future(app(scope, to_app.get, from_app.put))

    async def answer(message: str) -> None:
        await to_app.put({"type": message})
        reply = asyncio.ensure_future(from_app.get())
        await asyncio.wait({task, reply}, return_when=asyncio.FIRST_COMPLETED)
        if not reply.done():
            reply.cancel()
            task.result()  # the app's own error, if it raised
            raise RuntimeError(f"the app returned during {message}")
        if reply.result()["type"].endswith(".failed"):
            raise RuntimeError(f"{message} failed: {reply.result().get('message', '')}")

    await answer("lifespan.startup")
    try:
        yield
    finally:
        await answer("lifespan.shutdown")
        await task


def settle(client: Any, max_rounds: int = 100_000) -> None:
    """Let the outbox of the app behind an `InProcessClient` (or starlette's `TestClient`) attempt everything
    queued, without sleeping.

    Webhooks leave from async workers on the client's event loop; this yields to that loop until the outbox is
    idle, so a test can then read `RecordingTransport.posted`. Deliveries waiting for a retry wait on the tenant
    clock, not here.
    """
    outbox = client.app.state.sandbox.outbox

    async def until_idle() -> None:
        import asyncio

        for _ in range(max_rounds):
            await asyncio.sleep(0)
            if outbox.idle():
                return
        raise RuntimeError("the webhook outbox did not become idle")

    client.portal.call(until_idle)


GRAPH_ERROR_KEYS = frozenset({
    "message", "type", "code", "error_data", "error_subcode", "is_transient", "error_user_title", "error_user_msg",
    "fbtrace_id",
})  # fmt: skip
FBTRACE_ID = re.compile(r"^A[A-Za-z0-9_-]{22}$")


def check_graph_error(
    response: httpx.Response, code: int, http_status: int, *, subcode: int | None = None, type: str | None = None
) -> dict[str, Any]:
    """Assert `response` is Meta's error envelope with this `code` and HTTP status; returns the `error` object.

    Checks the whole shape: only Graph's keys, `(#code)` wording rules, `error_data` with `messaging_product`,
    an `fbtrace_id` in Meta's format that matches the `x-fb-trace-id` header, and the JSON content type.
    """
    assert response.status_code == http_status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) <= GRAPH_ERROR_KEYS, error
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"], error
    assert error["type"] in ("OAuthException", "GraphMethodException"), error
    if type is not None:
        assert error["type"] == type, error
    if "error_data" in error:
        assert error["error_data"]["messaging_product"] == "whatsapp", error
        assert isinstance(error["error_data"]["details"], str), error
    if subcode is not None:
        assert error.get("error_subcode") == subcode, error
    assert FBTRACE_ID.match(error["fbtrace_id"]), error
    assert response.headers.get("x-fb-trace-id") == error["fbtrace_id"]
    return dict(error)


def check_sandbox_error(response: httpx.Response, http_status: int) -> dict[str, Any]:
    """Assert `response` is the control plane's error envelope (`type: SandboxError`) with this HTTP status."""
    assert response.status_code == http_status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"message", "type", "code", "fbtrace_id"}, error
    assert error["type"] == "SandboxError" and error["code"] == http_status, error
    assert isinstance(error["message"], str) and error["message"], error
    assert FBTRACE_ID.match(error["fbtrace_id"]), error
    return dict(error)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def running_server(
    sandbox: Sandbox | None = None, *, app: Any = None, host: str = "127.0.0.1", settings: Settings | None = None
) -> Iterator[str]:
    """Serve `sandbox` (or any ASGI `app`) with uvicorn on a free loopback port in a thread, configured as
    `wa-sandbox serve` is under `settings` (timeouts, connection cap); yields the base URL."""
    import uvicorn

    from sandbox.app import create_app
    from sandbox.domain.commands import CreateTenant
    from sandbox.server import uvicorn_config
    from sandbox.services.tenants import create_tenant

    if app is None:
        if sandbox is None:
            sandbox = Sandbox(Settings())
            create_tenant(sandbox, CreateTenant(name="default"))
        app = create_app(sandbox)
    port = free_port(host)
    config = uvicorn_config(app, settings or Settings(), host=host, port=port, log_level="error", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        ready = threading.Event()
        for _ in range(500):
            if server.started:
                ready.set()
                break
            ready.wait(0.01)
        if not server.started:
            raise RuntimeError("the sandbox server did not start")
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class SandboxClient:
    """Typed calls to the control plane and the Graph API of one tenant, over any httpx client."""

    def __init__(self, http: httpx.Client, tenant: str = "default") -> None:
        self.http = http
        self.tenant = tenant
        self._document: dict[str, Any] | None = None

    @property
    def document(self) -> dict[str, Any]:
        if self._document is None:
            self._document = self.control("GET", "").json()
        return self._document

    def control(self, method: str, path: str, json: Any = None) -> httpx.Response:
        return self.http.request(method, f"/_sandbox/tenants/{self.tenant}{path}", json=json)

    def graph(self, method: str, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.document['access_token']}"}
        return self.http.request(
            method, f"/{self.document['graph_version']}/{path.lstrip('/')}", json=json, headers=headers, **kwargs
        )

    def send(self, body: dict[str, Any], phone_number_id: str | None = None) -> httpx.Response:
        phone = phone_number_id or self.document["phone_number_id"]
        return self.graph("POST", f"{phone}/messages", {"messaging_product": "whatsapp", **body})

    def send_text(self, to: str, text: str) -> httpx.Response:
        return self.send({"to": to, "type": "text", "text": {"body": text}})

    def customer_sends(self, wa_id: str, text: str = "Hello", **extra: Any) -> httpx.Response:
        return self.control("POST", "/inbound", {"from": wa_id, "type": "text", "text": {"body": text}, **extra})

    def advance(self, seconds: float) -> httpx.Response:
        return self.control("POST", "/clock/advance", {"seconds": seconds})

    def freeze(self) -> httpx.Response:
        return self.control("POST", "/clock", {"mode": "frozen"})

    def policy(self, **changes: Any) -> httpx.Response:
        """Patch knobs by flat name (`progression="manual"`) or by group (`messages={"progression": "manual"}`)."""
        return self.control("PATCH", "/policy", changes)

    def webhooks(self, **filters: Any) -> list[dict[str, Any]]:
        response = self.http.get(f"/_sandbox/tenants/{self.tenant}/webhooks", params=filters)
        return list(response.json()["data"])

    def messages(self, **filters: Any) -> list[dict[str, Any]]:
        response = self.http.get(f"/_sandbox/tenants/{self.tenant}/messages", params=filters)
        return list(response.json()["data"])
