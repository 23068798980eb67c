"""How the sandbox is served: uvicorn's keep-alive timeout and connection cap, and the read timeouts it lacks.

uvicorn closes an idle keep-alive connection, but waits for ever on one that never finishes its headers or its body,
so a few hundred such connections would hold the server. Here a connection must finish each request's headers
within `read_timeout` of its first byte (or of connecting), and its body within `read_timeout` of the headers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from sandbox.settings import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyReadTimeout:
    """ASGI middleware: read the whole body within `seconds`, then hand it to the app; a body still unfinished then
    is answered 408 and the connection closed (the app never sees the request)."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.seconds
        chunks: list[bytes] = []
        more = True
        while more:
            try:
                message = await asyncio.wait_for(receive(), max(deadline - loop.time(), 0))
            except TimeoutError:
                await _request_timeout(send, self.seconds)
                return
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            more = bool(message.get("more_body", False))
        pending: list[Message] = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]

        async def replay() -> Message:
            return pending.pop() if pending else await receive()

        await self.app(scope, replay, send)


async def _request_timeout(send: Send, seconds: float) -> None:
    body = orjson.dumps({"error": {"message": f"Request Timeout: the body did not arrive within {seconds:g} seconds"}})
    headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": 408, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def header_timeout_protocol(base: type[Any], seconds: float) -> type[Any]:
    """uvicorn's HTTP protocol `base`, closing a connection whose request headers are unfinished after `seconds`."""

    class HeaderTimeout(base):  # type: ignore[misc, valid-type]
        _header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self._between_requests():
                self._arm()
            elif self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def connection_lost(self, exc: Exception | None) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None
            super().connection_lost(exc)

        def _between_requests(self) -> bool:
            return self.cycle is None or self.cycle.response_complete

        def _arm(self) -> None:
            if self._header_timer is None:
                self._header_timer = self.loop.call_later(seconds, self._headers_late)

        def _headers_late(self) -> None:
            self._header_timer = None
            if self._between_requests() and not self.transport.is_closing():
                self.transport.close()

    HeaderTimeout.__name__ = f"HeaderTimeout{base.__name__}"
    return HeaderTimeout


def _http_protocol() -> type[Any]:
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        return HttpToolsProtocol
    except ImportError:  # httptools is optional for uvicorn
        from uvicorn.protocols.http.h11_impl import H11Protocol

        return H11Protocol


def uvicorn_config(app: ASGIApp, settings: Settings, **overrides: Any) -> Any:
    """The uvicorn configuration of the sandbox's server under `settings` (`overrides`: host, port, log level)."""
    import uvicorn

    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "access_log": False,
        # graph.facebook.com names no server; clients and their tests see the headers Graph sends.
        "server_header": False,
        "loop": "auto",
        "http": header_timeout_protocol(_http_protocol(), settings.read_timeout),
        "timeout_keep_alive": settings.timeout_keep_alive,
        "limit_concurrency": settings.limit_concurrency,
    }
    options.update(overrides)
    return uvicorn.Config(BodyReadTimeout(app, settings.read_timeout), **options)
