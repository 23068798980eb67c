"""A lean HTTP/1.1 client for plain-http receivers: keep-alive connections pooled per (host, port), one request at
a time on each, answers parsed by httptools (the parser uvicorn uses).

Why not aiohttp for these: at 1,000 messages/s the sandbox sends 3,000 webhooks/s on a 2-core box while it also
serves the sends, and aiohttp's request machinery (URL objects, header multidicts, timers, response and stream
objects) costs ~150 µs of CPU per POST there, about half of the sandbox's CPU per accepted message. A webhook POST
needs little of it: no TLS (https:// goes through aiohttp), no redirects, proxies, cookies, compression or
pipelining. What it does need is here: Content-Length, chunked and read-until-close answers, `Connection: close`,
a timeout over connect + send + answer (connection errors, timeouts and malformed answers fail the attempt), and a
kept-alive connection the receiver closed while idle is replaced rather than counted as a failed attempt.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlencode, urlsplit

import httptools

# Headers the client writes itself; a caller's copy of them is ignored.
_OWN_HEADERS = frozenset({"host", "content-length", "connection", "transfer-encoding"})
_SAFE_TARGET = "/?=&%:@!$'()*+,;-._~"


@dataclass(frozen=True, slots=True)
class Answer:
    """A receiver's answer: the status code and the start of the body (for the delivery log)."""

    status: int
    body: str


class ProtocolError(Exception):
    """The receiver's answer is not HTTP/1.1 we can read."""


class _Stale(Exception):
    """A kept-alive connection was closed by the receiver before any byte of the answer (safe to resend)."""


@dataclass(frozen=True, slots=True)
class Target:
    key: tuple[str, int]
    host_header: str
    request_target: str


def parse_target(url: str) -> Target | None:
    """Where a plain-http URL points, or None when this client does not speak it (https, userinfo, no host)."""
    try:
        parts = urlsplit(url)
        port = parts.port or 80
    except ValueError:
        return None
    if parts.scheme != "http" or not parts.hostname or "@" in parts.netloc:
        return None
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if any(char <= " " or char == "\x7f" for char in target) or not target.isascii():
        target = quote(target, safe=_SAFE_TARGET)
    return Target((parts.hostname, port), parts.netloc, target)


class _Connection(asyncio.Protocol):
    """One keep-alive connection; `exchange` sends a request and resolves with the answer."""

    def __init__(self, loop: asyncio.AbstractEventLoop, key: tuple[str, int]) -> None:
        self._loop = loop
        self.key = key
        # Set while the connection waits in the pool: the pool forgets it if the receiver closes it meanwhile.
        self.on_idle_close: Callable[[_Connection], None] | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        self._answer: asyncio.Future[Answer] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._limit = 0
        self._status = 0
        self._chunks: list[bytes] = []
        self._size = 0
        self._received = False
        self._until_close = False
        self._framed = False
        self.closed = False
        self.reused = False

    # -- asyncio.Protocol ---------------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self._answer is None:  # nothing asked: an idle connection that talks is not reusable
            self.close()
            return
        self._received = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(ProtocolError(f"malformed HTTP answer: {error}"))
            self.close()

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.on_idle_close is not None:
            self.on_idle_close(self)
        answer = self._answer
        if answer is None or answer.done():
            return
        if self._until_close:
            self._complete()
        elif not self._received and self.reused:
            self._fail(_Stale())
        else:
            self._fail(exc or ConnectionResetError("the receiver closed the connection before answering"))

    # -- httptools callbacks ------------------------------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() in (b"content-length", b"transfer-encoding"):
            self._framed = True

    def on_headers_complete(self) -> None:
        self._status = self._parser.get_status_code()
        self._until_close = not self._framed and self._status >= 200 and self._status not in (204, 304)

    def on_body(self, body: bytes) -> None:
        if self._size < self._limit:
            self._chunks.append(body)
            self._size += len(body)

    def on_message_complete(self) -> None:
        if 100 <= self._status < 200:  # an interim answer; the real one follows on the same connection
            self._reset_answer()
            return
        self._complete()
        if not self._parser.should_keep_alive():
            self.close()

    # -- used by the pool ---------------------------------------------------------------------------------------

    def exchange(self, data: bytes, limit: int, deadline: float) -> asyncio.Future[Answer]:
        """Send `data`; the future resolves with the answer, or fails (TimeoutError at `deadline`, loop time)."""
        assert self._transport is not None
        self._answer = self._loop.create_future()
        # One loop timer per request: asyncio.timeout() costs ~4 µs more per POST at 3,000 POSTs/s.
        self._timer = self._loop.call_at(deadline, self._timed_out)
        self._limit = limit
        self._received = False
        self._reset_answer()
        self._transport.write(data)
        return self._answer

    def close(self) -> None:
        self.closed = True
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        self.closed = True
        if self._transport is not None:
            self._transport.abort()

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _reset_answer(self) -> None:
        self._status = 0
        self._chunks = []
        self._size = 0
        self._framed = False
        self._until_close = False

    def _timed_out(self) -> None:
        self._timer = None
        self._fail(TimeoutError())
        self.abort()

    def _complete(self) -> None:
        answer, self._answer = self._answer, None
        self._stop_timer()
        if answer is not None and not answer.done():
            body = b"".join(self._chunks)[: self._limit]
            answer.set_result(Answer(self._status, body.decode(errors="replace")))

    def _fail(self, error: BaseException) -> None:
        answer, self._answer = self._answer, None
        self._stop_timer()
        if answer is not None and not answer.done():
            answer.set_exception(error)


class LeanHttpTransport:
    """Plain-http webhook transport: keep-alive connections pooled per (host, port); at most `concurrency` wait
    idle in all (the least recently used goes first), so many receivers cannot pile up open sockets."""

    def __init__(self, concurrency: int = 64) -> None:
        self._keep = concurrency
        self._idle: dict[tuple[str, int], list[_Connection]] = {}
        self._parked: OrderedDict[_Connection, None] = OrderedDict()
        self._targets: dict[str, Target | None] = {}
        self._closing = False

    def target(self, url: str) -> Target | None:
        target = self._targets.get(url, False)
        if target is False:
            if len(self._targets) >= 4096:
                self._targets.clear()
            target = self._targets[url] = parse_target(url)
        return target  # type: ignore[return-value]

    async def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Answer:
        target = self._require(url)
        head = _head("POST", target.request_target, target.host_header, headers, len(body))
        return await self._send(target, head + body, timeout, 2048)

    async def get(self, url: str, params: Mapping[str, str], timeout: float) -> Answer:
        target = self._require(url)
        request_target = target.request_target
        if params:
            request_target += ("&" if "?" in request_target else "?") + urlencode(params)
        return await self._send(target, _head("GET", request_target, target.host_header, {}, None), timeout, 4096)

    async def close(self) -> None:
        self._closing = True
        while self._parked:
            connection, _ = self._parked.popitem(last=False)
            self._unpark(connection)
            connection.close()

    @property
    def idle_connections(self) -> int:
        return len(self._parked)

    def _require(self, url: str) -> Target:
        target = self.target(url)
        if target is None:
            raise ValueError(f"not a plain http URL: {url}")
        return target

    async def _send(self, target: Target, data: bytes, timeout: float, limit: int) -> Answer:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            connection = self._checkout(target.key)
            if connection is None:
                connection = await self._connect(loop, target, deadline)
            try:
                answer = await connection.exchange(data, limit, deadline)
            except _Stale:
                continue  # only ever a reused connection; a fresh one raises a real error
            except BaseException:
                connection.abort()
                raise
            self._checkin(target.key, connection)
            return answer

    async def _connect(self, loop: asyncio.AbstractEventLoop, target: Target, deadline: float) -> _Connection:
        async with asyncio.timeout_at(deadline):
            _, connection = await loop.create_connection(lambda: _Connection(loop, target.key), *target.key)
        return connection

    def _checkout(self, key: tuple[str, int]) -> _Connection | None:
        idle = self._idle.get(key)
        while idle:
            connection = idle[-1]  # the most recently used: the likeliest to be alive
            self._parked.pop(connection, None)
            self._unpark(connection)
            if not connection.closed:
                return connection
        return None

    def _checkin(self, key: tuple[str, int], connection: _Connection) -> None:
        if connection.closed:
            return
        if self._closing:
            connection.close()
            return
        if len(self._parked) >= self._keep:
            oldest, _ = self._parked.popitem(last=False)
            self._unpark(oldest)
            oldest.close()
        connection.reused = True
        connection.on_idle_close = self._forget
        self._idle.setdefault(key, []).append(connection)
        self._parked[connection] = None

    def _forget(self, connection: _Connection) -> None:
        """An idle connection the receiver closed."""
        self._parked.pop(connection, None)
        self._unpark(connection)

    def _unpark(self, connection: _Connection) -> None:
        connection.on_idle_close = None
        idle = self._idle.get(connection.key)
        if idle is None:
            return
        if idle and idle[-1] is connection:
            idle.pop()
        elif connection in idle:
            idle.remove(connection)
        if not idle:
            del self._idle[connection.key]


def _head(method: str, request_target: str, host: str, headers: Mapping[str, str], length: int | None) -> bytes:
    lines = [f"{method} {request_target} HTTP/1.1\r\nHost: {host}\r\n"]
    if length is not None:
        lines.append(f"Content-Length: {length}\r\n")
    for name, value in headers.items():
        if name.lower() in _OWN_HEADERS:
            continue
        if "\r" in value or "\n" in value or "\r" in name or "\n" in name or ":" in name:
            raise ValueError(f"header {name!r} cannot be sent")
        lines.append(f"{name}: {value}\r\n")
    lines.append("\r\n")
    return "".join(lines).encode("latin-1")
