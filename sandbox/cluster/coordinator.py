"""The control plane of a front: `/_sandbox/...` forwarded to the shard of its tenant, or fanned out to every shard.

Not on the hot path (HAProxy sends Graph calls to the shards directly), so plain httpx calls are fine here. Where
each tenant lives is what the shards say (`GET /_sandbox/shard`); a tenant is created on `shard_for(name)`.
"""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send

from sandbox.cluster.haproxy import TokenMap
from sandbox.control.tenants import process_figures
from sandbox.ids import shard_for
from sandbox.version import __version__

TENANT_PATH = re.compile(r"^/_sandbox/(?:ui/)?tenants/([^/]+)(/[^?]*)?$")
# Tenant routes after which the shard's tokens may have changed (a creation, a reset, a token, a partner app).
TOKEN_SUFFIXES = ("", "/reset", "/tokens", "/apps")
HOP_HEADERS = frozenset({b"host", b"content-length", b"connection", b"transfer-encoding", b"keep-alive"})
SHARD_TIMEOUT = httpx.Timeout(120.0, connect=5.0)
HEALTH_TIMEOUT = 5.0


def _error(status: int, message: str) -> Response:
    body = {"error": {"message": message, "type": "SandboxError", "code": status}}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _passed(response: httpx.Response) -> Response:
    passed = Response(response.content, status_code=response.status_code)
    # Raw pairs: a dashboard login answers with a Set-Cookie that a dict of headers could merge away.
    passed.raw_headers = [
        (key.lower().encode("latin-1"), value.encode("latin-1"))
        for key, value in response.headers.multi_items()
        if key.lower().encode("latin-1") not in HOP_HEADERS and key.lower() != "content-encoding"
    ] + [(b"content-length", str(len(response.content)).encode())]
    return passed


class Coordinator:
    """An ASGI app over `shards` (base URLs, in shard order); `tokens` is HAProxy's map (None: no HAProxy)."""

    def __init__(self, shards: list[str], admin_token: str | None, tokens: TokenMap | None) -> None:
        self.shards = [url.rstrip("/") for url in shards]
        self.admin = {"authorization": f"Bearer {admin_token}"} if admin_token else {}
        self.tokens = tokens
        self.placement: dict[str, int] = {}
        self.counter = 0
        self.creating = asyncio.Lock()
        self._http: httpx.AsyncClient | None = None

    @property
    def http(self) -> httpx.AsyncClient:
        # Made in the serving loop: an httpx client is bound to the event loop of its first call.
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=SHARD_TIMEOUT)
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def sync(self, index: int) -> dict[str, Any]:
        """Read shard `index`'s tenants and token keys into the placement and HAProxy's map."""
        answer = await self.http.get(f"{self.shards[index]}/_sandbox/shard", headers=self.admin)
        answer.raise_for_status()
        document: dict[str, Any] = answer.json()
        for name in [name for name, owner in self.placement.items() if owner == index]:
            del self.placement[name]
        self.placement.update(dict.fromkeys(document["tenants"], index))
        if self.tokens is not None:
            await self.tokens.replace_shard(index, document["token_keys"])
        return document

    async def sync_all(self) -> None:
        for index in range(len(self.shards)):
            await self.sync(index)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.sync_all()
                except (httpx.HTTPError, RuntimeError, OSError) as error:
                    await send({"type": "lifespan.startup.failed", "message": f"the shards: {error}"})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await self.dispatch(request)
        except httpx.HTTPError as error:
            response = _error(503, f"a shard did not answer: {type(error).__name__}")
        await response(scope, receive, send)

    async def dispatch(self, request: Request) -> Response:
        path, method = request.url.path, request.method
        tenant = TENANT_PATH.match(path)
        if tenant is not None:
            return await self._tenant_route(request, tenant.group(1), tenant.group(2) or "")
        fanned: dict[tuple[str, str], Callable[[Request], Awaitable[Response]]] = {
            ("GET", "/_sandbox/tenants"): self._list_tenants,
            ("POST", "/_sandbox/tenants"): self._create_tenant,
            ("POST", "/_sandbox/reset"): self._reset,
            ("GET", "/_sandbox/health"): self._health,
            ("GET", "/_sandbox/ui/"): self._dashboard,
        }
        handler = fanned.get((method, path))
        if handler is not None:
            return await handler(request)
        if path.startswith("/_sandbox/snapshots"):
            return await self._snapshots(request)
        if path.startswith("/_sandbox/numbers/") and method != "GET":
            # The directory of WhatsApp users is every shard's: each keeps its own copy.
            answers = await self._everywhere(request, await request.body())
            return _passed(next((a for a in answers if a.status_code >= 400), answers[0]))
        return _passed(await self._forward(0, request, await request.body()))

    async def _forward(self, index: int, request: Request, body: bytes, path: str | None = None) -> httpx.Response:
        headers = [(k, v) for k, v in request.headers.raw if k.lower() not in HOP_HEADERS]
        url = f"{self.shards[index]}{path or request.url.path}"
        query = request.url.query if path is None else ""
        return await self.http.request(
            request.method, url + (f"?{query}" if query else ""), headers=headers, content=body
        )

    async def _everywhere(self, request: Request, body: bytes, path: str | None = None) -> list[httpx.Response]:
        return list(await asyncio.gather(*(self._forward(i, request, body, path) for i in range(len(self.shards)))))

    async def _shard_of(self, name: str) -> int:
        if name not in self.placement:
            await self.sync_all()
        return self.placement.get(name, shard_for(name, len(self.shards)))

    async def _tenant_route(self, request: Request, name: str, suffix: str) -> Response:
        index = await self._shard_of(name)
        answer = await self._forward(index, request, await request.body())
        if request.method != "GET" and suffix in TOKEN_SUFFIXES:
            await self.sync(index)
        return _passed(answer)

    async def _list_tenants(self, request: Request) -> Response:
        answers = await self._everywhere(request, b"")
        refused = next((a for a in answers if a.status_code != 200), None)
        if refused is not None:
            return _passed(refused)
        return _json({"data": [doc for a in answers for doc in a.json()["data"]]})

    async def _create_tenant(self, request: Request) -> Response:
        body = await request.body()
        try:
            command = orjson.loads(body) if body.strip() else {}
        except orjson.JSONDecodeError:
            command = None
        if not isinstance(command, dict):
            return _passed(await self._forward(0, request, body))  # the shard's own 400
        async with self.creating:
            if command.get("name") is None:
                command["name"] = self._next_name()
                body = orjson.dumps(command)
            name = command["name"]
            index = shard_for(name, len(self.shards)) if isinstance(name, str) else 0
            if isinstance(name, str) and name in self.placement:
                index = self.placement[name]  # its shard answers the 409
            answer = await self._forward(index, request, body)
            if answer.status_code == 201:
                await self.sync(index)
        return _passed(answer)

    def _next_name(self) -> str:
        # As one server names them: tenant-1, tenant-2, ... skipping names taken.
        self.counter += 1
        while f"tenant-{self.counter}" in self.placement:
            self.counter += 1
        return f"tenant-{self.counter}"

    async def _reset(self, request: Request) -> Response:
        """The owner of `default` resets first (a bad body changes nothing); every other shard then empties."""
        body = await request.body()
        owner = shard_for("default", len(self.shards))
        answer = await self._forward(owner, request, body)
        if answer.status_code == 200:
            for index in range(len(self.shards)):
                if index != owner:
                    await self._forward(index, request, b"{}")
                    await self._forward(index, _delete(request), b"", "/_sandbox/tenants/default")
            self.counter = 0
            await self.sync_all()
        return _passed(answer)

    async def _health(self, request: Request) -> Response:
        async def one(index: int) -> dict[str, Any]:
            url = f"{self.shards[index]}/_sandbox/health"
            headers = [(k, v) for k, v in request.headers.raw if k.lower() not in HOP_HEADERS]
            try:
                answer = await self.http.get(url, headers=headers, timeout=HEALTH_TIMEOUT)
            except httpx.HTTPError as error:
                return {"index": index, "url": self.shards[index], "status": "down", "error": type(error).__name__}
            if answer.status_code == 401:
                return {"index": index, "refused": answer}
            document = answer.json()
            return {"index": index, "url": self.shards[index], **document}

        shards = list(await asyncio.gather(*(one(i) for i in range(len(self.shards)))))
        refused = next((s["refused"] for s in shards if "refused" in s), None)
        if refused is not None:
            return _passed(refused)
        healthy = all(shard.get("status") == "ok" for shard in shards)
        incidents: dict[str, int] = {}
        for shard in shards:
            incidents.update(shard.get("incidents", {}))
        document = {
            "status": "ok" if healthy else "degraded",
            "version": __version__,
            "tenants": sum(shard.get("tenants", 0) for shard in shards),
            "ticker": {"running": all(shard.get("ticker", {}).get("running") for shard in shards)},
            "incidents": incidents,
            "process": process_figures(),
            "shards": shards,
        }
        return _json(document, 200 if healthy else 503)

    async def _dashboard(self, request: Request) -> Response:
        """A listing of every shard's tenants; each tenant's pages are its shard's own."""
        if "token" in request.query_params:
            return _passed(await self._forward(0, request, b""))  # the shard sets the dashboard's cookie
        answers = await self._everywhere(request, b"", "/_sandbox/tenants")
        if any(a.status_code != 200 for a in answers):
            return _passed(await self._forward(0, request, b""))  # the shard's own refusal page
        rows = "".join(
            f'<li><a href="/_sandbox/ui/tenants/{html.escape(doc["id"])}">{html.escape(doc["id"])}</a> '
            f"(profile {html.escape(str(doc['profile']))}, shard {index})</li>"
            for index, answer in enumerate(answers)
            for doc in answer.json()["data"]
        )
        return HTMLResponse(
            f"<!doctype html><title>wa-sandbox</title><h1>wa-sandbox {__version__}</h1>"
            f"<p>{len(self.shards)} shards behind one address.</p><ul>{rows}</ul>"
        )

    async def _snapshots(self, request: Request) -> Response:
        path, method = request.url.path, request.method
        body = await request.body()
        if method == "POST" and path == "/_sandbox/snapshots":
            command = _object(body)
            tenant = command.get("tenant") if command is not None else None
            if isinstance(tenant, str):
                return _passed(await self._forward(await self._shard_of(tenant), request, body))
            answers = await self._everywhere(request, body)
            failed = next((a for a in answers if a.status_code >= 400), None)
            if failed is not None:
                return _passed(failed)
            documents = [a.json() for a in answers]
            return _json({**documents[0], "size": sum(d["size"] for d in documents)}, 201)
        if method == "GET" and path == "/_sandbox/snapshots":
            answers = await self._everywhere(request, b"")
            merged: dict[str, dict[str, Any]] = {}
            for answer in answers:
                if answer.status_code != 200:
                    return _passed(answer)
                for document in answer.json()["data"]:
                    seen = merged.setdefault(document["name"], {**document, "size": 0})
                    seen["size"] += document["size"]
            return _json({"data": list(merged.values())})
        if path == "/_sandbox/snapshots/import":
            # A file holds no shard: it lands on the first one, and the placement follows it.
            answer = await self._forward(0, request, body)
            await self.sync(0)
            return _passed(answer)
        return await self._named_snapshot(request, body)

    async def _named_snapshot(self, request: Request, body: bytes) -> Response:
        """Restore, delete or export a snapshot on every shard that holds a part of it (404 only when none does)."""
        answers = await self._everywhere(request, body)
        found = [(i, a) for i, a in enumerate(answers) if a.status_code != 404]
        if not found:
            return _passed(answers[0])
        failed = next((a for _, a in found if a.status_code >= 400), None)
        if failed is not None:
            return _passed(failed)
        if request.method == "GET":
            if len(found) > 1:
                return _error(409, "this snapshot of the whole server spans several shards: export it per tenant")
            return _passed(found[0][1])
        if request.url.path.endswith("/restore"):
            await self.sync_all()
            documents = [a.json() for _, a in found]
            if len(documents) == 1:
                return _json(documents[0])
            return _json({"data": [d for document in documents for d in document.get("data", [document])]})
        return _passed(found[0][1])


def _object(body: bytes) -> dict[str, Any] | None:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _delete(request: Request) -> Request:
    scope = dict(request.scope)
    scope["method"] = "DELETE"
    return Request(scope)


def _json(document: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(document), status_code=status, media_type="application/json")
