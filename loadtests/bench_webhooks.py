"""Benchmark: webhook deliveries per second from the outbox to a loopback receiver (not a test; prints figures).

    .venv/bin/python -m loadtests.bench_webhooks [--deliveries 30000] [--kind status|inbound] [--rounds 3]
        [--transport auto|aiohttp|lean] [--loop uvloop|asyncio] [--concurrency 64] [--verify]

The receiver runs in a child process of its own, started and stopped here by its pid, so the two sides do not
share one interpreter or one core's CPU accounting: `loadtests.sink` (the fast httptools receiver the load runs
use), or with `--sink asgi` sandbox.sink.WebhookSink under uvicorn. The sandbox side is the real path: events are
published through `Tenant.publish` (render, route, sign with the app secret, enqueue) and sent by the outbox's
workers over `--transport`: `auto` is HttpTransport (the lean keep-alive client for http://, aiohttp for
https://), `aiohttp` and `lean` force one of them.

`--kind status` (default) publishes each message's sent, delivered and read statuses, as a send at load does;
`inbound` publishes inbound text messages. Printed per round: deliveries acknowledged per wall second (first
enqueue to last acknowledgement), and the sandbox process's CPU time per delivery, in total and for render+sign+
enqueue alone. CPU per delivery is the steadier figure on a noisy box.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from sandbox.context import Sandbox, Tenant
from sandbox.domain.commands import ConfigureClock, CreateTenant
from sandbox.domain.events import Event, MessageReceived, MessageStatusChanged
from sandbox.domain.message import Message, Pricing, received
from sandbox.services.tenants import create_tenant
from sandbox.settings import Settings
from sandbox.testing import free_port
from sandbox.webhooks.transport import AiohttpTransport, HttpTransport, LeanHttpTransport, WebhookTransport

HOST = "127.0.0.1"
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
STATUSES = ("sent", "delivered", "read")


def serve_sink(port: int, app_secret: str | None, kind: str) -> None:
    if kind == "asgi":
        import uvicorn

        from sandbox.sink import WebhookSink

        uvicorn.run(
            WebhookSink(app_secret=app_secret),
            host=HOST,
            port=port,
            log_level="error",
            access_log=False,
            lifespan="off",
        )
        return
    from loadtests import sink

    sys.argv = ["sink", "--port", str(port)]
    sink.main()


async def _until_up(url: str, app_secret: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(500):
            try:
                async with session.get(url, params={"hub.mode": "subscribe", "hub.challenge": "1"}) as response:
                    if response.status == 200:
                        break
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.02)
        else:
            raise RuntimeError("the sink did not start")
        base = url.rsplit("/webhook/", 1)[0]
        with contextlib.suppress(aiohttp.ClientError):  # only loadtests.sink has secrets to register
            async with session.post(f"{base}/_sink/secrets", json={"bench": app_secret}):
                pass


def _transport(name: str, concurrency: int) -> WebhookTransport:
    if name == "aiohttp":
        return AiohttpTransport(concurrency)
    if name == "lean":
        return LeanHttpTransport(concurrency)
    return HttpTransport(concurrency)


def _events(tenant: Tenant, kind: str, n: int, now: datetime) -> list[Event]:
    phone_id = next(iter(tenant.store.phone_numbers)).id
    wa_id = f"1650{n % 1_000_000:07d}"
    if kind == "inbound":
        message = Message(
            tenant.ids.wamid(wa_id, outbound=False),
            "inbound",
            phone_id,
            wa_id,
            "text",
            {"body": f"Hello number {n}, ünïcödé and a/slash"},
            now,
        )
        return [MessageReceived(received(message, now), "Bench Customer", None, now)]
    message = Message(
        tenant.ids.wamid(wa_id),
        "outbound",
        phone_id,
        wa_id,
        "text",
        {"body": f"Order {n} has shipped"},
        now,
        biz_opaque_callback_data=f"lt:{1767603600 + n / 1000:.6f}",
        pricing=Pricing("service", "free_customer_service", False, f"conv{n}", now + timedelta(hours=24)),
    )
    return [MessageStatusChanged(message, status, now) for status in STATUSES]


async def bench(url: str, arguments: argparse.Namespace) -> dict[str, float]:
    concurrency = arguments.concurrency
    sandbox = Sandbox(Settings(seed=3, delivery_concurrency=concurrency))
    tenant = create_tenant(
        sandbox, CreateTenant(name="bench", clock=ConfigureClock(mode="frozen"), webhook_url=url), start=START
    )
    tenant.policy.webhooks.queue_limit = max(arguments.deliveries, tenant.policy.webhooks.queue_limit)
    tenant.policy.journal.webhooks = 1000
    transport = _transport(arguments.transport, concurrency)
    runner = asyncio.create_task(sandbox.outbox.run(transport, concurrency))
    await asyncio.sleep(0)
    now = tenant.clock.now()
    per_item = len(STATUSES) if arguments.kind == "status" else 1
    items = arguments.deliveries // per_item
    deliveries = items * per_item
    render_cpu = 0.0
    cpu_started = time.process_time()
    started = time.perf_counter()
    for n in range(items):
        events = _events(tenant, arguments.kind, n, now)
        before = time.process_time()
        tenant.publish(events)
        render_cpu += time.process_time() - before
        if n % 200 == 199:
            await asyncio.sleep(0)  # let the workers send while the rest is rendered, as at load
    enqueued = time.perf_counter()
    queue = sandbox.outbox.tenant(tenant.id)
    while queue.counts["delivered"] + queue.counts["dropped_after_retries"] < deliveries:  # noqa: ASYNC110
        await asyncio.sleep(0.005)
    finished = time.perf_counter()
    cpu = time.process_time() - cpu_started
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
        "cpu_us": cpu / deliveries * 1e6,
        "render_cpu_us": render_cpu / deliveries * 1e6,
    }


def _run_loop(arguments: argparse.Namespace, url: str) -> dict[str, float]:
    if arguments.loop == "uvloop":
        import uvloop

        return uvloop.run(bench(url, arguments))
    return asyncio.run(bench(url, arguments))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deliveries", type=int, default=30_000)
    parser.add_argument("--kind", choices=("status", "inbound"), default="status")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--transport", choices=("auto", "aiohttp", "lean"), default="auto")
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    parser.add_argument("--sink", choices=("fast", "asgi"), default="fast")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--verify", action="store_true", help="the ASGI sink also checks every signature")
    parser.add_argument("--serve-sink", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--secret", help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.serve_sink:
        serve_sink(arguments.serve_sink, arguments.secret, arguments.sink)
        return 0

    port = free_port(HOST)
    url = f"http://{HOST}:{port}/webhook/bench"
    # The tenant's app secret is deterministic from the seed; build it once to hand it to the sink.
    secret = create_tenant(Sandbox(Settings(seed=3)), CreateTenant(name="bench")).credentials.app_secret
    command = [sys.executable, "-m", "loadtests.bench_webhooks", "--serve-sink", str(port), "--sink", arguments.sink]
    if arguments.verify:
        command += ["--secret", secret]
    sink = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL)
    results: list[dict[str, Any]] = []
    try:
        asyncio.run(_until_up(url, secret))
        for round_number in range(1, arguments.rounds + 1):
            result = _run_loop(arguments, url)
            results.append(result)
            rate = result["delivered"] / result["total_s"]
            print(
                f"round {round_number}: {int(result['delivered'])}/{int(result['deliveries'])} acknowledged, "
                f"{int(result['failed_attempts'])} failed attempts; {rate:,.0f} deliveries/s; "
                f"CPU {result['cpu_us']:.0f} µs/delivery (render+sign+enqueue {result['render_cpu_us']:.0f} µs)",
                flush=True,
            )
    finally:
        os.killpg(sink.pid, signal.SIGTERM)
        sink.wait(timeout=10)
    rates = [r["delivered"] / r["total_s"] for r in results]
    cpus = [r["cpu_us"] for r in results]
    print(
        f"{arguments.kind} webhooks, transport {arguments.transport}, {arguments.loop}, {arguments.sink} sink, "
        f"concurrency {arguments.concurrency}, {os.cpu_count()} CPUs: median {statistics.median(rates):,.0f} "
        f"deliveries/s (min {min(rates):,.0f}, max {max(rates):,.0f}); median CPU {statistics.median(cpus):.0f} "
        f"µs/delivery"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
