"""Profile the sandbox's send path and webhook path in one process, without sockets or a load generator.

`python -m loadtests.profile_paths --messages 20000 [--recipients 8000] [--cprofile out.pstats]` drives
`POST /{phone}/messages` through the ASGI app directly (each recipient's window opened first), with the tenant's
statuses moving on a frozen clock that advances 1 ms per send (the throughput window sees 1,000/s), and a transport
that answers 200 at once. It prints resident memory as it goes, CPU microseconds per message for the send call and
for rendering, signing and queueing its sent/delivered/read webhooks, and with `--cprofile` the top functions. The
box's noise hardly matters here: the figures are CPU time, not wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import time
from collections.abc import Mapping
from typing import Any

import orjson

from loadtests.plan import recipient
from sandbox.app import create_app
from sandbox.context import Sandbox
from sandbox.domain.commands import ConfigureClock, CreateTenant
from sandbox.services.tenants import create_tenant
from sandbox.settings import Settings
from sandbox.webhooks.transport import Answer


class NullTransport:
    """Answers every delivery with 200 after one trip through the event loop."""

    def __init__(self) -> None:
        self.posted = 0

    async def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Answer:
        await asyncio.sleep(0)
        self.posted += 1
        return Answer(200, "")

    async def get(self, url: str, params: Mapping[str, str], timeout: float) -> Answer:
        return Answer(200, params.get("hub.challenge", ""))

    async def close(self) -> None:
        return None


async def _call(app: Any, method: str, path: str, body: bytes, headers: list[tuple[bytes, bytes]]) -> tuple[int, bytes]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8000"), (b"content-length", str(len(body)).encode()), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


def _rss_mb() -> float:
    import psutil

    return round(psutil.Process().memory_info().rss / 2**20, 1)


async def _drained(sandbox: Sandbox) -> None:
    """Yield to the outbox workers until they have nothing left (each pass lets every ready worker run once)."""
    for _ in range(10_000_000):
        if sandbox.outbox.idle():
            return
        await asyncio.sleep(0)


async def run(
    messages: int,
    webhooks: bool,
    profiler: cProfile.Profile | None,
    progression: str = "immediate",
    recipients: int = 8000,
    windows: int | None = None,
    settle: float = 0.0,
) -> dict[str, float]:
    sandbox = Sandbox(Settings(seed=1))
    transport = NullTransport()
    app = create_app(sandbox, transport=transport)
    command = CreateTenant(
        name="profile",
        clock=ConfigureClock(mode="frozen"),
        webhook_url="http://127.0.0.1:9/webhook" if webhooks else None,
    )
    tenant = create_tenant(sandbox, command)
    tenant.policy.messages.progression = progression  # type: ignore[assignment]
    phone = next(iter(tenant.store.phone_numbers))
    phone.throughput_level = "HIGH"
    pool = recipients
    rss: dict[str, float] = {"rss_mb_at_start": _rss_mb()}
    # A send to a recipient without an open window is accepted and then fails with 131047, as Meta's does.
    for i in range(
        pool if windows is None else min(windows, pool)
    ):  # open every recipient's window, as the load runs do
        status, answer = await _call(
            app,
            "POST",
            "/_sandbox/tenants/profile/inbound",
            orjson.dumps({"from": recipient(i), "type": "text", "text": {"body": "hi"}}),
            [(b"content-type", b"application/json")],
        )
        assert status == 200, answer
        tenant.clock.advance(0.001)
    tenant.clock.advance(2)
    worker = asyncio.create_task(sandbox.outbox.run(transport, 64))
    await _drained(sandbox)
    posted_before = transport.posted
    path = f"/v23.0/{phone.id}/messages"
    headers = [
        (b"content-type", b"application/json"),
        (b"authorization", f"Bearer {tenant.credentials.access_token}".encode()),
    ]
    rss["rss_mb_after_windows"] = _rss_mb()

    def body_of(i: int) -> bytes:
        return orjson.dumps(
            {
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": "+" + recipient(i),
                "type": "text",
                "text": {"body": "Your order #4711 has shipped and arrives tomorrow."},
                "biz_opaque_callback_data": "lt:1795250345.614738",
            }
        )

    bodies = [body_of(i) for i in range(min(pool, 8000))]
    if profiler is not None:
        profiler.enable()
    cpu_send = 0.0
    started = time.process_time()
    for index in range(messages):
        body = bodies[index % pool] if pool <= len(bodies) else body_of(index % pool)
        if index % 50_000 == 0:
            rss[f"rss_mb_at_{index}"] = _rss_mb()
        t0 = time.process_time()
        status, answer = await _call(app, "POST", path, body, headers)
        cpu_send += time.process_time() - t0
        if status != 200:
            raise RuntimeError(f"send failed: {status} {answer[:300]!r}")
        tenant.clock.advance(0.001)
        # let the outbox workers drain as they would between requests on a live server
        await asyncio.sleep(0)
    if settle:  # scheduled progression: let every status still pending fall due, so each message counts whole
        tenant.clock.advance(settle)
    await _drained(sandbox)
    total = time.process_time() - started
    if profiler is not None:
        profiler.disable()
    worker.cancel()
    rss[f"rss_mb_at_{messages}"] = _rss_mb()
    return {
        **rss,
        "messages": messages,
        "recipients": pool,
        "open_windows": pool if windows is None else min(windows, pool),
        "webhooks_posted": transport.posted - posted_before,
        "cpu_us_per_message_total": total / messages * 1e6,
        "cpu_us_per_send_call_incl_progression": cpu_send / messages * 1e6,
        "cpu_us_per_message_outbox_and_loop": (total - cpu_send) / messages * 1e6,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.profile_paths", description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--no-webhooks", action="store_true", help="no callback URL (webhooks rendered, not sent)")
    parser.add_argument("--cprofile", help="write pstats here and print the top 30 functions")
    parser.add_argument(
        "--progression",
        choices=["immediate", "scheduled", "manual"],
        default="immediate",
        help="immediate: each send also moves to sent/delivered/read with webhooks; scheduled: the same moves after "
        "the policy's delays (the clock advances 1 ms per send, then 20 s at the end); manual: the send call alone",
    )
    parser.add_argument(
        "--recipients",
        type=int,
        default=8000,
        help="distinct recipients, each with an open window first (1..1000000; default 8000)",
    )
    parser.add_argument(
        "--windows", type=int, help="open the window of only the first so many recipients (default: every one)"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.messages <= 1_000_000:
        parser.error("--messages must be 1..1000000")
    if not 1 <= args.recipients <= 1_000_000:
        parser.error("--recipients must be 1..1000000")
    profiler = cProfile.Profile() if args.cprofile else None
    result = asyncio.run(
        run(
            args.messages,
            not args.no_webhooks,
            profiler,
            args.progression,
            args.recipients,
            args.windows,
            settle=20.0 if args.progression == "scheduled" else 0.0,
        )
    )
    sys.stdout.write(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")
    if profiler is not None:
        profiler.dump_stats(args.cprofile)
        stats = pstats.Stats(args.cprofile, stream=sys.stdout)
        stats.sort_stats("tottime").print_stats(30)
        stats.sort_stats("cumulative").print_stats(45)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
