"""A fast webhook receiver for load runs: verifies `X-Hub-Signature-256`, records per wamid when each status came.

It runs as its own process (`python -m loadtests.sink`) so that its CPU is not the sandbox's. The HTTP layer is
a bare asyncio protocol over `httptools` (the parser uvicorn uses), about 5× cheaper per request than a
framework, because at 1,000 messages/s the sink takes 3,000+ webhooks/s on the same two cores as everything else.

Paths:

- `GET  /webhook/{key}?hub.mode=subscribe&hub.challenge=...`  Meta's verification: echoes the challenge.
- `POST /webhook/{key}`  a webhook; signed with the app secret registered for `key` (one key per tenant).
- `POST /_sink/secrets`  `{"<key>": "<app secret>", ...}` registers secrets.
- `GET  /_sink/stats`    counters and lag percentiles (ms) as JSON.
- `GET  /_sink/records`  one CSV row per wamid: send time and the arrival time of each status.
- `POST /_sink/reset`    forgets everything but the secrets.

The send time comes from `biz_opaque_callback_data` (`lt:<unix seconds>`), which Meta echoes on every status
webhook; the load users stamp it right before the send call, so lag = arrival − send needs no join.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import hashlib
import hmac
import ipaddress
import math
import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httptools
import orjson

STATUSES = ("sent", "delivered", "read", "failed")
_SLOT = {status: index + 1 for index, status in enumerate(STATUSES)}
OPAQUE_PREFIX = "lt:"
_NAN = float("nan")


def percentiles(values: Iterable[float], points: Iterable[float] = (50, 90, 95, 99, 99.9)) -> dict[str, float | None]:
    """Nearest-rank percentiles of `values` (None when empty)."""
    ordered = sorted(values)
    result: dict[str, float | None] = {}
    for point in points:
        key = f"p{point:g}"
        if not ordered:
            result[key] = None
            continue
        rank = max(0, min(len(ordered) - 1, math.ceil(point / 100 * len(ordered)) - 1))
        result[key] = ordered[rank]
    return result


@dataclass
class SinkState:
    """What the sink has seen. `records[wamid]` = [send time, sent, delivered, read, failed] (unix seconds, NaN
    when not seen)."""

    secrets: dict[str, bytes] = field(default_factory=dict)
    records: dict[str, list[float]] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    duplicates: Counter[str] = field(default_factory=Counter)
    failure_codes: Counter[int] = field(default_factory=Counter)
    started_at: float = field(default_factory=time.time)
    last_webhook_at: float | None = None

    def reset(self) -> None:
        self.records.clear()
        self.counts.clear()
        self.duplicates.clear()
        self.failure_codes.clear()
        self.started_at = time.time()
        self.last_webhook_at = None

    def accept(self, key: str, body: bytes, signature: bytes | None, now: float) -> None:
        self.counts["posts"] += 1
        self.last_webhook_at = now
        secret = self.secrets.get(key)
        if secret is None:
            self.counts["unknown_key"] += 1
        elif signature is None:
            self.counts["unsigned"] += 1
        else:
            # Checked here, not with sandbox.webhooks.signing: a signer's bug must not pass its own check.
            expected = b"sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest().encode()
            if not hmac.compare_digest(expected, signature):
                self.counts["bad_signature"] += 1
        try:
            payload = orjson.loads(body)
            changes = [change for entry in payload["entry"] for change in entry["changes"]]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            self.counts["malformed"] += 1
            return
        for change in changes:
            value = change.get("value") or {}
            for status in value.get("statuses") or ():
                self._status(status, now)
            messages = value.get("messages")
            if messages:
                self.counts["inbound_messages"] += len(messages)
            if change.get("field") != "messages":
                self.counts["field:" + str(change.get("field"))] += 1

    def _status(self, status: dict[str, Any], now: float) -> None:
        name = status.get("status")
        slot = _SLOT.get(name)  # type: ignore[arg-type]
        if slot is None:
            self.counts["unknown_status"] += 1
            return
        wamid = status.get("id", "")
        record = self.records.get(wamid)
        if record is None:
            record = self.records[wamid] = [_NAN, _NAN, _NAN, _NAN, _NAN]
            opaque = status.get("biz_opaque_callback_data")
            if isinstance(opaque, str) and opaque.startswith(OPAQUE_PREFIX):
                with contextlib.suppress(ValueError):
                    record[0] = float(opaque[len(OPAQUE_PREFIX) :])
        self.counts[name] += 1  # type: ignore[index]
        if record[slot] == record[slot]:  # not NaN: this status came before
            self.duplicates[name] += 1  # type: ignore[index]
            return
        record[slot] = now
        if name == "failed":
            for error in status.get("errors") or ():
                self.failure_codes[int(error.get("code", 0))] += 1

    def lags_ms(self, status: str) -> list[float]:
        slot = _SLOT[status]
        return [(r[slot] - r[0]) * 1000 for r in self.records.values() if r[0] == r[0] and r[slot] == r[slot]]

    def stats(self) -> dict[str, Any]:
        return {
            "counts": dict(self.counts),
            "messages": len(self.records),
            "duplicates": dict(self.duplicates),
            "failure_codes": {str(code): n for code, n in self.failure_codes.items()},
            "lag_ms": {status: percentiles(self.lags_ms(status)) for status in ("sent", "delivered", "read")},
            "started_at": self.started_at,
            "last_webhook_at": self.last_webhook_at,
        }

    def records_csv(self) -> bytes:
        lines = ["wamid,t_send,t_sent,t_delivered,t_read,t_failed"]
        for wamid, record in self.records.items():
            lines.append(wamid + "," + ",".join("" if value != value else f"{value:.6f}" for value in record))
        return ("\n".join(lines) + "\n").encode()


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; requests are answered in order, one at a time (no pipelining needed)."""

    def __init__(self, state: SinkState) -> None:
        self.state = state
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.url = b""
        self.signature: bytes | None = None
        self.body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self._reply(400, b"bad request", keep_alive=False)

    # httptools callbacks
    def on_message_begin(self) -> None:
        self.url, self.signature, self.body = b"", None, []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"x-hub-signature-256":
            self.signature = value

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        method = self.parser.get_method()
        keep_alive = self.parser.should_keep_alive()
        try:
            status, content, content_type = self._handle(method, self.url, b"".join(self.body))
        except Exception as error:
            status, content, content_type = 500, repr(error).encode(), b"text/plain"
        self._reply(status, content, keep_alive=keep_alive, content_type=content_type)

    def _handle(self, method: bytes, raw_url: bytes, body: bytes) -> tuple[int, bytes, bytes]:
        parts = urlsplit(raw_url.decode("latin-1"))
        path = parts.path
        if path.startswith("/webhook/"):
            key = path[len("/webhook/") :]
            if method == b"POST":
                self.state.accept(key, body, self.signature, time.time())
                return 200, b"EVENT_RECEIVED", b"text/plain"
            if method == b"GET":
                query = parse_qs(parts.query)
                if query.get("hub.mode") == ["subscribe"] and "hub.challenge" in query:
                    return 200, query["hub.challenge"][0].encode(), b"text/plain"
                return 403, b"verification failed", b"text/plain"
        if path == "/_sink/stats" and method == b"GET":
            return 200, orjson.dumps(self.state.stats()), b"application/json"
        if path == "/_sink/records" and method == b"GET":
            return 200, self.state.records_csv(), b"text/csv"
        if path == "/_sink/secrets" and method == b"POST":
            given = orjson.loads(body or b"{}")
            if not isinstance(given, dict):
                return 400, b'{"error":"a JSON object of key: secret"}', b"application/json"
            self.state.secrets.update({str(key): str(secret).encode() for key, secret in given.items()})
            return 200, orjson.dumps({"keys": sorted(self.state.secrets)}), b"application/json"
        if path == "/_sink/reset" and method == b"POST":
            self.state.reset()
            return 200, b'{"success":true}', b"application/json"
        if path == "/_sink/health":
            return 200, b'{"status":"ok"}', b"application/json"
        return 404, b"not found", b"text/plain"

    def _reply(self, status: int, content: bytes, *, keep_alive: bool, content_type: bytes = b"text/plain") -> None:
        if self.transport is None or self.transport.is_closing():
            return
        head = b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s\r\n" % (
            status,
            b"OK" if status == 200 else b"ERR",
            content_type,
            len(content),
            b"" if keep_alive else b"Connection: close\r\n",
        )
        self.transport.write(head + content)
        if not keep_alive:
            self.transport.close()


async def start_sink(
    host: str = "127.0.0.1", port: int = 0, state: SinkState | None = None
) -> tuple[asyncio.Server, SinkState]:
    """Serve a sink on `host:port` in the running loop; returns the server (its port in `sockets`) and its state."""
    if not _is_loopback(host) and not _is_private(host):
        raise ValueError(f"the sink listens on loopback or one private address only, not {host}")
    state = state or SinkState()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Connection(state), host, port, backlog=1024)
    return server, state


def _is_loopback(host: str) -> bool:
    # sandbox.settings.is_loopback's twin: importing anything of `sandbox` would load the whole app (0.34 s,
    # faker and all) into the sink's lean process.
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_private(host: str) -> bool:
    """One address of a private network (10/8, 172.16/12, 192.168/16, fc00::/7): where shards on other hosts of a
    team's own network reach it; never every interface, never a public address."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_private and not address.is_unspecified and not address.is_link_local


async def _serve(host: str, port: int, duration: float | None) -> None:
    server, _ = await start_sink(host, port)
    bound = server.sockets[0].getsockname()[1]
    sys.stdout.write(f"sink listening on http://{host}:{bound}\n")
    sys.stdout.flush()
    async with server:
        if duration is None:
            await server.serve_forever()
        else:
            await asyncio.wait_for(server.serve_forever(), duration)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.sink", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed on the first line)")
    parser.add_argument("--max-seconds", type=float, default=3600.0, help="stop after this long (default 1 h)")
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error("--port must be from 0 to 65535")
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        runner = asyncio.run
    else:
        runner = uvloop.run  # type: ignore[assignment]
    try:
        with contextlib.suppress(KeyboardInterrupt, TimeoutError):
            runner(_serve(args.host, args.port, args.max_seconds))
    except OSError as error:
        sys.stderr.write(f"python -m loadtests.sink: {_bind_failure(args.host, args.port, error)}\n")
        return 1
    except ValueError as error:
        sys.stderr.write(f"python -m loadtests.sink: {error}\n")
        return 2
    return 0


def _bind_failure(host: str, port: int, error: OSError) -> str:
    # sandbox.cli.bind_failure's twin, for the same reason as _is_loopback's.
    if error.errno == errno.EADDRINUSE:
        return f"port {port} is in use: pick another with --port (0 picks a free one)"
    return f"cannot listen on {host}:{port}: {error.strerror or error}"


if __name__ == "__main__":
    raise SystemExit(main())
