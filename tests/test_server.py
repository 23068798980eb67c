"""Connections that never finish are closed (issue 15 item 6): raw sockets against a real loopback server."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from sandbox.settings import Settings
from sandbox.testing import running_server

READ_TIMEOUT = 0.5


@pytest.fixture(scope="module")
def address() -> Iterator[tuple[str, int]]:
    settings = Settings(read_timeout=READ_TIMEOUT, timeout_keep_alive=1, limit_concurrency=4)
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
