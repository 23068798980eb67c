"""A webhook receiver for tests and load runs: verifies Meta's handshake and signatures, records, answers as told.

`WebhookSink` is a plain ASGI app. Serve it on loopback with `sandbox.testing.running_server(app=sink)` and point a
tenant's callback at it; the test thread reads what arrived (`received`, `accepted`, `statuses`, `wait_for`).

Answers: `ok` (200), `error` (500), `slow` (200 after `slow_seconds` of wall time, to trip the sender's timeout)
and `drop` (no answer at all until the sender gives up, like a receiver that hangs). Script the next answers with
`answer_next("error", times=3)`; the default answer is `mode`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qs

import orjson

from sandbox.webhooks.signing import verify

SinkMode = Literal["ok", "error", "slow", "drop"]
SINK_MODES = ("ok", "error", "slow", "drop")
Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]


@dataclass(slots=True)
class Received:
    """One POST the sink saw: raw body and headers, whether the signature checked out, and what it answered."""

    path: str
    body: bytes
    headers: dict[str, str]
    signature_ok: bool | None
    answer: int | None

    @property
    def accepted(self) -> bool:
        return self.answer is not None and 200 <= self.answer < 300

    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass
class WebhookSink:
    """Meta's receiver side, done right: 403 on a wrong verify token or signature, 401 on a missing signature."""

    app_secret: str | None = None
    verify_token: str | None = None
    mode: SinkMode = "ok"
    slow_seconds: float = 10.0
    drop_seconds: float = 60.0
    received: list[Received] = field(default_factory=list)
    handshakes: list[dict[str, str]] = field(default_factory=list)
    _script: deque[SinkMode] = field(default_factory=deque)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    # -- controlling it ---------------------------------------------------------------------------------------

    def answer_next(self, mode: SinkMode, times: int = 1) -> None:
        if mode not in SINK_MODES:
            raise ValueError(f"mode must be one of {', '.join(SINK_MODES)}")
        with self._changed:
            self._script.extend([mode] * times)

    def clear(self) -> None:
        with self._changed:
            self.received.clear()
            self.handshakes.clear()
            self._script.clear()

    # -- reading what came ------------------------------------------------------------------------------------

    @property
    def accepted(self) -> list[Received]:
        with self._changed:
            return [item for item in self.received if item.accepted]

    def payloads(self) -> list[Any]:
        return [item.json() for item in self.accepted]

    def statuses(self, wamid: str | None = None) -> list[str]:
        """Statuses acknowledged, in arrival order (every status of every change of every entry)."""
        found = []
        for payload in self.payloads():
            for entry in payload.get("entry", []):
                for change in entry.get("changes", []):
                    for status in change.get("value", {}).get("statuses", []):
                        if wamid is None or status.get("id") == wamid:
                            found.append(status["status"])
        return found

    def wait_for(self, predicate: Callable[[WebhookSink], bool], timeout: float = 10.0) -> bool:
        """Block the calling (test) thread until `predicate(sink)` holds or `timeout` wall seconds pass."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self), timeout)

    def wait_for_accepted(self, count: int, timeout: float = 10.0) -> bool:
        return self.wait_for(lambda sink: sum(1 for item in sink.received if item.accepted) >= count, timeout)

    # -- ASGI ---------------------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        if scope["method"] == "GET":
            await self._handshake(scope, send)
            return
        if scope["method"] != "POST":
            await _answer(send, 405, b"Method Not Allowed")
            return
        body = await _read_body(receive)
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        signature = headers.get("x-hub-signature-256")
        checked: bool | None = None
        status: int | None
        if self.app_secret is not None:
            checked = verify(self.app_secret, body, signature)
        if checked is False:
            status = 401 if signature is None else 403
        else:
            status = await self._scripted_answer(receive)
        self._record(Received(scope["path"], body, headers, checked, status))
        if status is not None:
            await _answer(send, status, b"ok" if status == 200 else b"error")

    async def _scripted_answer(self, receive: Receive) -> int | None:
        with self._changed:
            mode = self._script.popleft() if self._script else self.mode
        if mode == "error":
            return 500
        if mode == "slow":
            await asyncio.sleep(self.slow_seconds)
            return 200
        if mode == "drop":
            # Hold the request without answering until the sender hangs up (or drop_seconds pass).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_until_disconnect(receive), self.drop_seconds)
            return None
        return 200

    async def _handshake(self, scope: Scope, send: Send) -> None:
        query = {key: values[-1] for key, values in parse_qs(scope.get("query_string", b"").decode()).items()}
        with self._changed:
            self.handshakes.append(query)
            self._changed.notify_all()
        if query.get("hub.mode") == "subscribe" and (
            self.verify_token is None
            or hmac.compare_digest(query.get("hub.verify_token", "").encode(), self.verify_token.encode())
        ):
            await _answer(send, 200, query.get("hub.challenge", "").encode(), b"text/plain")
        else:
            await _answer(send, 403, b"Forbidden", b"text/plain")

    def _record(self, item: Received) -> None:
        with self._changed:
            self.received.append(item)
            self._changed.notify_all()

    @staticmethod
    async def _lifespan(receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        continue


async def _answer(send: Send, status: int, body: bytes, content_type: bytes = b"text/plain") -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
