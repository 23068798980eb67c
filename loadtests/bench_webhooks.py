"""Benchmark: webhook deliveries per second from the outbox to a loopback receiver (not a test; prints a figure).

    .venv/bin/python -m loadtests.bench_webhooks [--deliveries 30000] [--concurrency 64] [--verify]

The receiver (sandbox.sink.WebhookSink under uvicorn) runs in a child process of its own, started and stopped
here by its pid, so the two sides do not share one interpreter. The sandbox side is the real path: events are
published through `Tenant.publish` (render, route, sign with the app secret, enqueue) and sent by the outbox's
workers over the pooled aiohttp transport. The figure is deliveries acknowledged per wall second, from the first
enqueue to the last acknowledgement; render+enqueue time is printed separately.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import aiohttp

from sandbox.context import Sandbox
from sandbox.domain.events import MessageReceived
from sandbox.domain.message import Message, received
from sandbox.services.tenants import create_tenant
from sandbox.settings import Settings
from sandbox.testing import free_port
from sandbox.webhooks.transport import AiohttpTransport

HOST = "127.0.0.1"
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def serve_sink(port: int, app_secret: str | None) -> None:
    import uvicorn

    from sandbox.sink import WebhookSink

    uvicorn.run(
        WebhookSink(app_secret=app_secret), host=HOST, port=port, log_level="error", access_log=False, lifespan="off"
    )


async def _until_up(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(500):
            try:
                async with session.get(url, params={"hub.mode": "subscribe", "hub.challenge": "1"}) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.02)
    raise RuntimeError("the sink did not start")


async def bench(url: str, deliveries: int, concurrency: int, app_secret_holder: list[str]) -> dict[str, float]:
    sandbox = Sandbox(Settings(seed=3, delivery_concurrency=concurrency))
    tenant = create_tenant(sandbox, name="bench", start=START, clock={"mode": "frozen"}, webhook={"url": url})
    tenant.policy.webhook_queue_limit = max(deliveries, tenant.policy.webhook_queue_limit)
    tenant.policy.journal_webhooks = 1000
    app_secret_holder.append(tenant.credentials.app_secret)
    phone = next(iter(tenant.store.phone_numbers))
    transport = AiohttpTransport(concurrency)
    runner = asyncio.create_task(sandbox.outbox.run(transport, concurrency))
    await asyncio.sleep(0)
    now = tenant.clock.now()
    started = time.perf_counter()
    for n in range(deliveries):
        wa_id = f"1650{n % 1_000_000:07d}"
        message = received(
            Message(
                tenant.ids.wamid(wa_id, outbound=False),
                "inbound",
                phone.id,
                wa_id,
                "text",
                {"body": f"Hello number {n}, ünïcödé and a/slash"},
                now,
            ),
            now,
        )
        tenant.publish([MessageReceived(message, "Bench Customer", None, now)])
        if n % 500 == 499:
            await asyncio.sleep(0)  # let the workers start while the rest is rendered
    enqueued = time.perf_counter()
    queue = sandbox.outbox.tenant(tenant.id)
    while queue.counts["delivered"] + queue.counts["dropped_after_retries"] < deliveries:  # noqa: ASYNC110
        await asyncio.sleep(0.005)
    finished = time.perf_counter()
    runner.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await runner
    await transport.close()
    return {
        "deliveries": deliveries,
        "delivered": queue.counts["delivered"],
        "failed_attempts": queue.counts["failed_attempts"],
        "render_enqueue_s": enqueued - started,
        "total_s": finished - started,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deliveries", type=int, default=30_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--verify", action="store_true", help="the sink also checks every signature (costs it CPU)")
    parser.add_argument("--serve-sink", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--secret", help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.serve_sink:
        serve_sink(arguments.serve_sink, arguments.secret)
        return 0

    port = free_port(HOST)
    url = f"http://{HOST}:{port}/hook"
    # The tenant's app secret is deterministic from the seed; build it once to hand it to the sink.
    probe = create_tenant(Sandbox(Settings(seed=3)), name="bench")
    command = [sys.executable, "-m", "loadtests.bench_webhooks", "--serve-sink", str(port)]
    if arguments.verify:
        command += ["--secret", probe.credentials.app_secret]
    sink = subprocess.Popen(command, start_new_session=True)
    try:
        asyncio.run(_until_up(url))
        secrets: list[str] = []
        result = asyncio.run(bench(url, arguments.deliveries, arguments.concurrency, secrets))
    finally:
        os.killpg(sink.pid, signal.SIGTERM)
        sink.wait(timeout=10)
    rate = result["delivered"] / result["total_s"]
    print(
        f"webhook deliveries: {int(result['delivered'])}/{int(result['deliveries'])} acknowledged, "
        f"{int(result['failed_attempts'])} failed attempts"
    )
    print(
        f"render+sign+enqueue: {result['render_enqueue_s']:.2f} s "
        f"({result['deliveries'] / result['render_enqueue_s']:,.0f}/s)"
    )
    print(
        f"end to end: {result['total_s']:.2f} s -> {rate:,.0f} deliveries/s "
        f"(concurrency {arguments.concurrency}, sink {'verifying' if arguments.verify else 'not verifying'} "
        f"signatures, {os.cpu_count()} CPUs)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
