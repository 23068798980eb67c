"""How the sandbox is served: uvicorn's keep-alive timeout and connection cap, and the read timeouts it lacks.

uvicorn closes an idle keep-alive connection, but waits for ever on one that never finishes its headers or its body,
so a few hundred such connections would hold the server. Here a connection must finish each request's headers
within `read_timeout` of its first byte (or of connecting), and its body within `read_timeout` of the headers; a
body is at most `max_body_bytes`, however fast it comes.
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
    """ASGI middleware: read the whole body within `seconds` and at most `max_bytes` of it, then hand it to the app.

    A body still unfinished after `seconds` is answered 408, one larger than `max_bytes` (declared or sent) 413,
    both with `Connection: close` and without reading the rest; the app never sees such a request. The deadline is
    one timer per request that cancels the reading task when it fires (`asyncio.wait_for` around every `receive()`
    made a Task per call, ~12 µs of every send on Python 3.11).
    """

    def __init__(self, app: ASGIApp, seconds: float, max_bytes: int) -> None:
        self.app = app
        self.seconds = seconds
        self.max_bytes = max_bytes
        # The app's own envelope for a refused request (SandboxApp.edge_error); any other app gets a plain one.
        self.render: Callable[[Scope, int, str], bytes] | None = getattr(app, "edge_error", None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        task = asyncio.current_task()
        late: list[bool] = []
        timer = asyncio.get_running_loop().call_later(self.seconds, _cancel_late, task, late)
        refusal: tuple[int, str] | None = None
        try:
            message = await receive()
            if message.get("more_body", False):
                message = await self._rest(scope, message, receive)
            elif len(message.get("body", b"")) > self.max_bytes:
                raise BodyTooLarge()
        except asyncio.CancelledError:
            if not late or task is None:
                raise
            task.uncancel()
            refusal = 408, f"Request Timeout: the body did not arrive within {self.seconds:g} seconds"
        except BodyTooLarge:
            refusal = 413, f"Request Entity Too Large: the body is over {self.max_bytes} bytes"
        finally:
            # Before the refusal is sent: a client that does not read it must not be cancelled again mid-answer.
            timer.cancel()
        if refusal is not None:
            await self.refuse(scope, send, *refusal)
            return
        if message["type"] == "http.disconnect":
            return
        await self.app(scope, _Replay(message, receive), send)

    async def _rest(self, scope: Scope, first: Message, receive: Receive) -> Message:
        """The whole body of a request whose first message did not hold all of it (disconnect: that message)."""
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            raise BodyTooLarge()
        chunks = [first.get("body", b"")]
        size = len(chunks[0])
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return message
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                raise BodyTooLarge()
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

    async def refuse(self, scope: Scope, send: Send, status: int, message: str) -> None:
        """Answer a request refused before the app saw it, in the envelope of its plane, and close the connection."""
        if self.render is not None:
            body = self.render(scope, status, message)
        else:
            body = orjson.dumps({"error": {"message": message, "code": status}})
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class BodyTooLarge(Exception):
    """The request body is larger than the server's `max_body_bytes`."""


class _Replay:
    """The app's `receive`: the whole body once, then the server's own (a disconnect, when it comes)."""

    __slots__ = ("message", "receive")

    def __init__(self, message: Message, receive: Receive) -> None:
        self.message: Message | None = message
        self.receive = receive

    async def __call__(self) -> Message:
        message, self.message = self.message, None
        return message if message is not None else await self.receive()


def _cancel_late(task: asyncio.Task[Any] | None, late: list[bool]) -> None:
    if task is not None and not task.done():
        late.append(True)
        task.cancel()


def _content_length(scope: Scope) -> int | None:
    for key, value in scope["headers"]:
        if key == b"content-length":
            # More digits than any int64 is too large whatever the cap; int() of thousands of digits is refused.
            return (int(value) if len(value) < 19 else 2**63) if value.isdigit() else None
    return None


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
    return uvicorn.Config(BodyReadTimeout(app, settings.read_timeout, settings.max_body_bytes), **options)
