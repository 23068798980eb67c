"""The lean HTTP/1.1 client for plain-http receivers, against scripted raw-socket receivers on loopback: framing
(Content-Length, chunked, read-until-close), keep-alive and `Connection: close`, a receiver that closes an idle
connection, timeouts, refused connections, malformed answers; and the scheme routing of `HttpTransport`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

import pytest

from sandbox.testing import free_port
from sandbox.webhooks.http1 import LeanHttpTransport, ProtocolError, parse_target
from sandbox.webhooks.transport import Answer, HttpTransport

HOST = "127.0.0.1"
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, "Receiver"], Awaitable[None]]


class Receiver:
    """A loopback TCP server whose every connection runs `handler`; records connections and request heads."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.requests: list[tuple[bytes, dict[bytes, bytes], bytes]] = []
        self.server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> Receiver:
        self.server = await asyncio.start_server(self._serve, HOST, 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/webhook/t1?x=1"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self.handler(reader, writer, self)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def read_request(self, reader: asyncio.StreamReader) -> bool:
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, *lines = head[:-4].split(b"\r\n")
        headers = {name.strip().lower(): value.strip() for name, value in (line.split(b":", 1) for line in lines)}
        body = await reader.readexactly(int(headers.get(b"content-length", b"0")))
        self.requests.append((request_line, headers, body))
        return True


def answering(*answers: bytes, then_close: bool = False) -> Handler:
    """Answer each request on a connection with the next of `answers` (the last repeats)."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, receiver: Receiver) -> None:
        index = 0
        while True:
            try:
                await receiver.read_request(reader)
            except asyncio.IncompleteReadError:
                return
            writer.write(answers[min(index, len(answers) - 1)])
            await writer.drain()
            index += 1
            if then_close:
                return

    return handler


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def run(coroutine: Awaitable[None]) -> None:
    asyncio.run(coroutine)  # type: ignore[arg-type]


async def _post(transport: LeanHttpTransport | HttpTransport, url: str, timeout: float = 5.0) -> Answer:
    headers: Mapping[str, str] = {"Content-Type": "application/json", "X-Hub-Signature-256": "sha256=ab"}
    return await transport.post(url, b'{"object":"whatsapp_business_account"}', headers, timeout)


def test_posts_the_body_and_headers_and_keeps_the_connection_alive() -> None:
    async def scenario() -> None:
        async with Receiver(answering(OK)) as receiver:
            transport = LeanHttpTransport()
            answers = [await _post(transport, receiver.url) for _ in range(3)]
            await transport.close()
        assert answers == [Answer(200, "ok")] * 3
        assert receiver.connections == 1
        request_line, headers, body = receiver.requests[0]
        assert request_line == b"POST /webhook/t1?x=1 HTTP/1.1"
        assert headers[b"host"] == f"{HOST}:{receiver.port}".encode()
        assert headers[b"content-type"] == b"application/json"
        assert headers[b"x-hub-signature-256"] == b"sha256=ab"
        assert body == b'{"object":"whatsapp_business_account"}'

    run(scenario())


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
            Answer(200, "abcde"),
        ),
        (b"HTTP/1.1 204 No Content\r\n\r\n", Answer(204, "")),
        (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", Answer(200, "ok")),
        (b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nboom", Answer(500, "boom")),
    ],
    ids=["chunked", "no-content", "interim-100", "server-error"],
)
def test_reads_each_framing_and_reuses_the_connection(answer: bytes, expected: Answer) -> None:
    async def scenario() -> None:
        async with Receiver(answering(answer)) as receiver:
            transport = LeanHttpTransport()
            assert await _post(transport, receiver.url) == expected
            assert await _post(transport, receiver.url) == expected
            await transport.close()
        assert receiver.connections == 1

    run(scenario())


def test_an_answer_read_until_close_and_connection_close_open_a_new_connection_next_time() -> None:
    async def scenario() -> None:
        until_close = b"HTTP/1.1 200 OK\r\n\r\nthe whole body"
        closing = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
        for answer, body in ((until_close, "the whole body"), (closing, "ok")):
            async with Receiver(answering(answer, then_close=True)) as receiver:
                transport = LeanHttpTransport()
                assert await _post(transport, receiver.url) == Answer(200, body)
                assert await _post(transport, receiver.url) == Answer(200, body)
                await transport.close()
            assert receiver.connections == 2

    run(scenario())


def test_a_long_answer_is_cut_for_the_log_and_the_connection_stays_usable() -> None:
    async def scenario() -> None:
        big = b"x" * 100_000
        answer = b"HTTP/1.1 500 Oops\r\nContent-Length: %d\r\n\r\n%s" % (len(big), big)
        async with Receiver(answering(answer, OK)) as receiver:
            transport = LeanHttpTransport()
            first = await _post(transport, receiver.url)
            assert (first.status, len(first.body)) == (500, 2048)
            assert await _post(transport, receiver.url) == Answer(200, "ok")
            await transport.close()
        assert receiver.connections == 1

    run(scenario())


def test_a_kept_alive_connection_the_receiver_hung_up_is_replaced_not_failed() -> None:
    async def one_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, receiver: Receiver) -> None:
        # Answers one request without saying `Connection: close`, then hangs up on the next without a byte.
        await receiver.read_request(reader)
        writer.write(OK)
        await writer.drain()
        await receiver.read_request(reader)

    async def scenario() -> None:
        async with Receiver(one_answer) as receiver:
            transport = LeanHttpTransport()
            assert await _post(transport, receiver.url) == Answer(200, "ok")
            assert await _post(transport, receiver.url) == Answer(200, "ok")
            await transport.close()
        assert receiver.connections == 2

    run(scenario())


def test_a_receiver_that_never_answers_times_out_and_its_connection_is_dropped() -> None:
    async def scenario() -> None:
        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, receiver: Receiver) -> None:
            await receiver.read_request(reader)
            await reader.read()  # until the client gives up and closes

        async with Receiver(silent) as receiver:
            transport = LeanHttpTransport()
            with pytest.raises(TimeoutError):
                await _post(transport, receiver.url, timeout=0.05)
            await transport.close()
            assert transport._checkout(parse_target(receiver.url).key) is None  # type: ignore[union-attr]

    run(scenario())


def test_refused_connections_and_hang_ups_and_garbage_are_errors() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, receiver: Receiver) -> None:
        await receiver.read_request(reader)

    async def scenario() -> None:
        transport = LeanHttpTransport()
        with pytest.raises(ConnectionRefusedError):
            await _post(transport, f"http://{HOST}:{free_port(HOST)}/hook")
        async with Receiver(hang_up) as receiver:
            with pytest.raises(ConnectionResetError):
                await _post(transport, receiver.url)
        async with Receiver(answering(b"SMTP ready\r\n\r\n")) as receiver:
            with pytest.raises(ProtocolError):
                await _post(transport, receiver.url)
        truncated = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nok"
        async with Receiver(answering(truncated, then_close=True)) as receiver:
            with pytest.raises(ConnectionResetError):
                await _post(transport, receiver.url)
        await transport.close()

    run(scenario())


def test_verification_get_carries_the_query() -> None:
    async def scenario() -> None:
        async with Receiver(answering(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n123")) as receiver:
            transport = LeanHttpTransport()
            answer = await transport.get(receiver.url, {"hub.mode": "subscribe", "hub.challenge": "123"}, 5.0)
            await transport.close()
        assert answer == Answer(200, "123")
        assert receiver.requests[0][0] == b"GET /webhook/t1?x=1&hub.mode=subscribe&hub.challenge=123 HTTP/1.1"

    run(scenario())


@pytest.mark.parametrize(
    ("url", "lean"),
    [
        ("http://127.0.0.1:9000/webhook", True),
        ("http://localhost/webhook?a=b", True),
        ("http://[::1]:8080/hook", True),
        ("https://example.com/webhook", False),
        ("http://user:secret@127.0.0.1/hook", False),
        ("ftp://127.0.0.1/hook", False),
        ("http://127.0.0.1:99999/hook", False),
    ],
)
def test_plain_http_goes_over_the_lean_client_and_the_rest_over_aiohttp(url: str, lean: bool) -> None:
    assert (parse_target(url) is not None) is lean
    assert (HttpTransport().lean.target(url) is not None) is lean


def test_a_path_with_spaces_is_quoted_and_a_header_with_a_newline_is_refused() -> None:
    target = parse_target("http://127.0.0.1/web hook?q=a b")
    assert target is not None and target.request_target == "/web%20hook?q=a%20b"

    async def scenario() -> None:
        with pytest.raises(ValueError, match="cannot be sent"):
            await LeanHttpTransport().post("http://127.0.0.1:9/hook", b"{}", {"X-Evil": "a\r\nHost: b"}, 1.0)

    run(scenario())


def test_idle_connections_are_capped_across_receivers_and_forgotten_when_the_receiver_closes_them() -> None:
    async def scenario() -> None:
        transport = LeanHttpTransport(concurrency=2)
        async with Receiver(answering(OK)) as a, Receiver(answering(OK)) as b, Receiver(answering(OK)) as c:
            for receiver in (a, b, c):
                assert await _post(transport, receiver.url) == Answer(200, "ok")
            # a's connection was the least recently used when c's came back: closed to keep two idle.
            assert transport.idle_connections == 2
            await _post(transport, c.url)
            await _post(transport, a.url)
            assert (a.connections, b.connections, c.connections) == (2, 1, 1)
        async with Receiver(answering(OK, then_close=True)) as closing:
            await _post(transport, closing.url)
            for _ in range(200):  # the receiver's hang-up reaches the client within a few loop passes
                if transport.idle_connections == 1:
                    break
                await asyncio.sleep(0.005)
            # Parking it evicted c's; the hang-up took it out of the pool: only a's is left.
            assert transport.idle_connections == 1
            assert [key[1] for key in transport._idle] == [a.port]
        await transport.close()
        assert transport.idle_connections == 0

    run(scenario())
