"""Connections that never finish are closed and endless bodies refused (issue 15 item 6): raw sockets against a
real loopback server, and the edge middleware driven as an ASGI app."""

from __future__ import annotations

import asyncio
import contextlib
import select
import socket
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import pytest

from sandbox.app import create_app
from sandbox.server import BodyReadTimeout
from sandbox.settings import Settings
from sandbox.testing import running_server

READ_TIMEOUT = 0.5
MAX_BODY = 65_536


@pytest.fixture(scope="module")
def address() -> Iterator[tuple[str, int]]:
    settings = Settings(read_timeout=READ_TIMEOUT, timeout_keep_alive=1, limit_concurrency=4, max_body_bytes=MAX_BODY)
    with running_server(settings=settings) as url:
        parts = urlsplit(url)
        yield str(parts.hostname), int(parts.port or 0)


def connect(address: tuple[str, int]) -> socket.socket:
    sock = socket.create_connection(address, timeout=5)
    return sock


def read_until_closed(sock: socket.socket) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and how long that took."""
    started, data = time.monotonic(), b""
    while chunk := sock.recv(65536):
        data += chunk
    return data, time.monotonic() - started


def test_a_connection_that_sends_nothing_is_closed(address: tuple[str, int]) -> None:
    with connect(address) as sock:
        data, took = read_until_closed(sock)
    assert data == b""
    assert took < READ_TIMEOUT + 2


def test_unfinished_headers_are_closed_within_the_timeout(address: tuple[str, int]) -> None:
    with connect(address) as sock:
        sock.sendall(b"GET /_sandbox/health HTTP/1.1\r\nHost: sandbox\r\nX-Slow: ")
        data, took = read_until_closed(sock)
    assert data == b""
    assert took < READ_TIMEOUT + 2


@pytest.mark.parametrize(
    "head",
    [
        b"POST /_sandbox/tenants HTTP/1.1\r\nHost: sandbox\r\nContent-Type: application/json\r\nContent-Length: 100\r\n"
        b'\r\n{"name": ',
        b"POST /_sandbox/tenants HTTP/1.1\r\nHost: sandbox\r\nContent-Type: application/json\r\n"
        b'Transfer-Encoding: chunked\r\n\r\n5\r\n{"nam\r\n',
    ],
    ids=["slow-body", "unfinished-chunked"],
)
def test_a_body_that_never_finishes_is_answered_408_and_closed(address: tuple[str, int], head: bytes) -> None:
    with connect(address) as sock:
        sock.sendall(head)
        data, took = read_until_closed(sock)
    assert data.startswith(b"HTTP/1.1 408 "), data
    assert b"Request Timeout" in data
    assert took < READ_TIMEOUT + 2
    envelope = orjson.loads(data.partition(b"\r\n\r\n")[2])["error"]
    assert (envelope["type"], envelope["code"]) == ("SandboxError", 408)


def send_until_answered(sock: socket.socket, head: bytes, chunk: bytes) -> bytes:
    """`head`, then `chunk` again and again as fast as the socket takes it, until the server answers and closes."""
    sock.sendall(head)
    sock.setblocking(False)
    data, sent, deadline = b"", 0, time.monotonic() + 5
    while time.monotonic() < deadline:
        readable, writable, _ = select.select([sock], [sock], [], 1)
        if readable:
            try:
                got = sock.recv(65536)
            except ConnectionResetError:
                break
            if not got:
                break
            data += got
        elif writable:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                sent += sock.send(chunk)
    assert sent < 64 * MAX_BODY, "the server kept reading"
    return data


@pytest.mark.parametrize("path", ["/_sandbox/tenants", "/v23.0/1234/messages"])
def test_an_endless_chunked_body_is_answered_413_without_reading_it(address: tuple[str, int], path: str) -> None:
    head = f"POST {path} HTTP/1.1\r\nHost: sandbox\r\nContent-Type: application/json\r\n".encode()
    chunk = b"%x\r\n%s\r\n" % (8192, b"x" * 8192)
    with connect(address) as sock:
        data = send_until_answered(sock, head + b"Transfer-Encoding: chunked\r\n\r\n", chunk)
    assert data.startswith(b"HTTP/1.1 413 "), data[:200]
    assert b"connection: close" in data.lower()
    error = orjson.loads(data.partition(b"\r\n\r\n")[2])["error"]
    assert error["message"] == f"Request Entity Too Large: the body is over {MAX_BODY} bytes"
    assert (error["type"], error["code"]) == (
        ("SandboxError", 413) if path.startswith("/_sandbox/") else ("OAuthException", 1)
    )
    assert error["fbtrace_id"]


def test_a_declared_length_over_the_cap_is_answered_413_at_once(address: tuple[str, int]) -> None:
    with connect(address) as sock:
        sock.sendall(
            b"POST /v23.0/1234/media HTTP/1.1\r\nHost: sandbox\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            b"Content-Length: " + str(MAX_BODY + 1).encode() + b"\r\n\r\n--b\r\n"
        )
        data, took = read_until_closed(sock)
    assert data.startswith(b"HTTP/1.1 413 "), data
    assert took < READ_TIMEOUT


def test_a_body_at_the_cap_is_served(address: tuple[str, int]) -> None:
    body = orjson.dumps({"name": "capped", "note": "x" * (MAX_BODY - 40)})
    body += b" " * (MAX_BODY - len(body))
    response = httpx.post(f"http://{address[0]}:{address[1]}/_sandbox/tenants", content=body)
    assert response.status_code in (201, 400), response.text  # the control plane's own answer, not the edge's
    assert "Too Large" not in response.text


def test_finished_requests_are_served_and_an_idle_keep_alive_is_closed(address: tuple[str, int]) -> None:
    with connect(address) as sock:
        for _ in range(2):
            sock.sendall(b"GET /_sandbox/health HTTP/1.1\r\nHost: sandbox\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
        body = b'{"name": "keepalive"}'
        sock.sendall(
            b"POST /_sandbox/tenants HTTP/1.1\r\nHost: sandbox\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        assert sock.recv(65536).startswith(b"HTTP/1.1 201 ")
        data, took = read_until_closed(sock)
    assert data == b""
    assert took < 1 + 2


def eventually(url: str, status: int) -> int:
    """The health status, asked until it is `status` or two seconds have passed (the server sees sockets late)."""
    deadline = time.monotonic() + 2
    while (got := httpx.get(url).status_code) != status and time.monotonic() < deadline:
        pass
    return got


def test_connections_beyond_the_cap_are_answered_503(address: tuple[str, int]) -> None:
    url = f"http://{address[0]}:{address[1]}/_sandbox/health"
    held = [connect(address) for _ in range(4)]
    try:
        assert eventually(url, 503) == 503
    finally:
        for sock in held:
            sock.close()
    assert eventually(url, 200) == 200


@pytest.mark.parametrize(
    ("variable", "value"),
    [("READ_TIMEOUT", "0"), ("READ_TIMEOUT", "x"), ("LIMIT_CONCURRENCY", "0"), ("TIMEOUT_KEEP_ALIVE", "1e9")],
)
def test_server_settings_are_bounded(variable: str, value: str) -> None:
    with pytest.raises(ValueError, match=variable.lower()):
        Settings.from_env({f"WA_SANDBOX_{variable}": value})


def test_server_settings_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {"WA_SANDBOX_READ_TIMEOUT": "2.5", "WA_SANDBOX_LIMIT_CONCURRENCY": "50", "WA_SANDBOX_TIMEOUT_KEEP_ALIVE": "7"}
    )
    assert (settings.read_timeout, settings.limit_concurrency, settings.timeout_keep_alive) == (2.5, 50, 7)


async def drive(app: Any, path: str, messages: list[dict[str, Any]], endless: bool) -> list[dict[str, Any]]:
    """`app` as uvicorn runs it: `messages` then (endless) 8 KiB chunks for ever; returns what it sent."""
    scope = {"type": "http", "method": "POST", "path": path, "raw_path": path.encode(), "query_string": b""}
    scope |= {"headers": [(b"content-type", b"application/json")], "http_version": "1.1", "scheme": "http"}
    queue, sent, reads = list(messages), [], 0

    async def receive() -> dict[str, Any]:
        nonlocal reads
        reads += 1
        if queue:
            return queue.pop(0)
        if endless:
            return {"type": "http.request", "body": b"x" * 8192, "more_body": True}
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await asyncio.wait_for(app(scope, receive, send), 5)
    assert reads <= MAX_BODY // 8192 + 2
    return sent


@pytest.mark.parametrize("path", ["/v23.0/1234/messages", "/_sandbox/tenants"])
def test_the_edge_refuses_an_endless_body_in_the_asgi_app(path: str) -> None:
    app = BodyReadTimeout(create_app(), 30, MAX_BODY)
    sent = asyncio.run(drive(app, path, [], endless=True))
    assert sent[0]["status"] == 413
    assert (b"connection", b"close") in sent[0]["headers"]
    assert "Too Large" in orjson.loads(sent[1]["body"])["error"]["message"]


def test_the_edge_hands_a_chunked_body_to_the_app_whole() -> None:
    body = orjson.dumps({"name": "chunked"})
    messages = [{"type": "http.request", "body": body[:5], "more_body": True}]
    messages.append({"type": "http.request", "body": body[5:], "more_body": False})
    sent = asyncio.run(drive(BodyReadTimeout(create_app(), 30, MAX_BODY), "/_sandbox/tenants", messages, False))
    assert sent[0]["status"] == 201, sent


def test_the_edge_answers_408_in_the_asgi_app_and_the_task_stays_uncancelled() -> None:
    edge, cancelling = BodyReadTimeout(create_app(), 0.05, MAX_BODY), []

    async def checked(scope: Any, receive: Any, send: Any) -> None:
        await edge(scope, receive, send)
        task = asyncio.current_task()
        cancelling.append(task.cancelling() if task else -1)

    messages = [{"type": "http.request", "body": b"{", "more_body": True}]
    sent = asyncio.run(drive(checked, "/v23.0/1234/messages", messages, False))
    assert sent[0]["status"] == 408
    assert orjson.loads(sent[1]["body"])["error"]["code"] == 1
    assert cancelling == [0]


def test_the_edge_refuses_a_body_over_the_cap_that_came_in_one_piece() -> None:
    messages = [{"type": "http.request", "body": b"x" * (MAX_BODY + 1), "more_body": False}]
    sent = asyncio.run(drive(BodyReadTimeout(create_app(), 30, MAX_BODY), "/_sandbox/tenants", messages, False))
    assert sent[0]["status"] == 413
    assert orjson.loads(sent[1]["body"])["error"]["type"] == "SandboxError"
