"""Send-path throughput: `POST /{phone-number-id}/messages` on the sandbox (webhooks off) against a bare Starlette
handler that only parses and echoes the same JSON with orjson, side by side in one run. Prints the ratio.

    python -m loadtests.bench_send_path [--rounds 5] [--seconds 5] [--connections 50] [--baseline DIR]

`--baseline DIR` also serves the sandbox of another checkout (e.g. `git worktree add /tmp/wt-base main`) and
interleaves its rounds with this tree's, so a before/after comparison sees the same box at the same time.

Both servers run under uvicorn (uvloop + httptools, one worker) on 127.0.0.1 at the same time; rounds alternate
between them (order rotated), so drift on a noisy box hits both. The load generator is a bare asyncio client with
pre-built requests (keep-alive, closed loop), several times cheaper per request than either server, so the
servers, not the generator, set the pace. Target (issue 6): sandbox / bare >= 0.6.

WireMock's static stub of the same answer (loadtests/wiremock.py: from npm, cached, JIT warmed for
`--wiremock-warmup` seconds) runs in the same rounds unless `--no-wiremock`; the sandbox is compared to it per
round and per server core (requests per CPU-second of each server's processes). Target (issue 19): >= 1 per core.

The sandbox tenant keeps the send call's behaviour on (token, node lookup, validation, limits, window, pricing,
journal) with no callback URL; its throughput and pair-rate limits are raised so that the send path, not a
130429, is measured. Progression is `manual` by default, so what a send causes later (status moves, webhook
rendering) is left out; `--progression scheduled` includes it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from typing import Any

import orjson

from loadtests import wiremock
from loadtests.processes import HOST, free_port, sandbox_argv, stop_group, tree_cpu_seconds

TEMPLATE_BODY = {
    "messaging_product": "whatsapp",
    "recipient_type": "individual",
    "type": "template",
    "template": {"name": "hello_world", "language": {"code": "en_US"}},
}
RECIPIENTS = 2000


def bare_app() -> Any:
    """The yardstick: Starlette routing, body read, orjson parse and echo. Nothing else."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def echo(request: Request) -> Response:
        return Response(orjson.dumps(orjson.loads(await request.body())), media_type="application/json")

    return Starlette(routes=[Route("/{version}/{phone_number_id}/messages", echo, methods=["POST"])])


def _serve_bare(port: int) -> None:
    import uvicorn

    uvicorn.run(
        bare_app(), host=HOST, port=port, log_level="warning", access_log=False, loop="uvloop", http="httptools"
    )


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int

    def stop(self) -> None:
        stop_group(self.process)


def _start(name: str, argv: list[str], port: int, cwd: str | None = None) -> Server:
    process = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, cwd=cwd
    )
    server = Server(name, process, port)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}")
        try:
            with socket_probe(port):
                return server
        except OSError:
            asyncio.run(asyncio.sleep(0.1))
    server.stop()
    raise RuntimeError(f"{name} did not start")


@contextlib.contextmanager
def socket_probe(port: int) -> Any:
    import socket

    with socket.create_connection((HOST, port), timeout=1) as sock:
        yield sock


def _control(port: int, method: str, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        f"http://{HOST}:{port}{path}",
        method=method,
        data=orjson.dumps(body) if body is not None else None,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # loopback only
        return orjson.loads(response.read())


def prepare_sandbox(port: int, progression: str) -> tuple[str, str]:
    """A `live` tenant without a callback URL, its number on HIGH, limits raised; returns (path, token)."""
    doc = _control(port, "POST", "/_sandbox/tenants", {"name": "bench", "profile": "live", "seed": 7})
    _control(
        port,
        "PATCH",
        "/_sandbox/tenants/bench/policy",
        {
            "throughput_mps": {"STANDARD": 100_000, "HIGH": 100_000},
            "pair_rate_burst": 1_000_000,
            "progression": progression,
        },
    )
    phone = doc["phone_number_id"]
    with contextlib.suppress(OSError):
        _control(port, "PUT", f"/_sandbox/tenants/bench/phone_numbers/{phone}/throughput", {"level": "HIGH"})
    return f"/v23.0/{phone}/messages", doc["access_token"]


def requests_for(path: str, token: str) -> list[bytes]:
    """The same bodies for both servers; recipients rotate so the sandbox's per-customer state stays realistic."""
    out = []
    for i in range(RECIPIENTS):
        body = orjson.dumps({**TEMPLATE_BODY, "to": f"+1650{i:07d}"})
        out.append(
            f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
    return out


class _Client(asyncio.Protocol):
    """One keep-alive connection sending the next request as soon as the previous answer is complete."""

    def __init__(self, bench: _Bench) -> None:
        self.bench = bench
        self.buffer = b""
        self.transport: asyncio.Transport | None = None
        self.sent_at = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._next()

    def _next(self) -> None:
        if self.bench.stopping or self.transport is None:
            if self.transport is not None:
                self.transport.close()
            return
        self.sent_at = time.perf_counter()
        self.transport.write(self.bench.next_request())

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = self.buffer[:head_end].lower()
            start = head.find(b"content-length:")
            length = int(head[start + 15 : head.find(b"\r\n", start) if head.find(b"\r\n", start) > 0 else None])
            end = head_end + 4 + length
            if len(self.buffer) < end:
                return
            status = int(self.buffer[9:12])
            self.buffer = self.buffer[end:]
            self.bench.done(status, time.perf_counter() - self.sent_at)
            self._next()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


class _Bench:
    def __init__(self, requests: list[bytes]) -> None:
        self.requests = requests
        self.index = 0
        self.stopping = False
        self.ok = 0
        self.other = 0
        self.latencies: list[float] = []

    def next_request(self) -> bytes:
        self.index = (self.index + 1) % len(self.requests)
        return self.requests[self.index]

    def done(self, status: int, latency: float) -> None:
        if status == 200:
            self.ok += 1
        else:
            self.other += 1
        self.latencies.append(latency)


async def _drive(port: int, requests: list[bytes], seconds: float, connections: int) -> dict[str, float]:
    loop = asyncio.get_running_loop()
    bench = _Bench(requests)
    transports = []
    for _ in range(connections):
        transport, _ = await loop.create_connection(lambda: _Client(bench), HOST, port)
        transports.append(transport)
    started = time.perf_counter()
    await asyncio.sleep(seconds)
    bench.stopping = True
    elapsed = time.perf_counter() - started
    await asyncio.sleep(0.2)
    for transport in transports:
        transport.close()
    latencies = sorted(bench.latencies)
    return {
        "req_s": bench.ok / elapsed,
        "non_200": bench.other,
        "p50_ms": latencies[len(latencies) // 2] * 1000 if latencies else 0.0,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000 if latencies else 0.0,
    }


def _cpu_seconds(pid: int) -> float:
    return tree_cpu_seconds(pid)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.bench_send_path", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each measured round (max 60)")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument(
        "--progression",
        choices=["manual", "scheduled", "immediate"],
        default="manual",
        help="the sandbox tenant's status progression: manual measures the send call alone; scheduled adds the "
        "status moves and their (undelivered) webhook rendering that each send causes later",
    )
    parser.add_argument("--baseline", metavar="DIR", help="another checkout whose sandbox is measured alongside")
    parser.add_argument(
        "--data-dir", nargs="?", const="", default=None, help="also measure a sandbox with a data dir (temp default)"
    )
    parser.add_argument("--checkpoint-mode", choices=["fork", "inline"], default="fork")
    parser.add_argument("--no-wiremock", action="store_true", help="leave WireMock's static stub out")
    parser.add_argument(
        "--wiremock-journal", action="store_true", help="keep WireMock's request journal and logging (its defaults)"
    )
    parser.add_argument(
        "--wiremock-warmup",
        type=float,
        default=wiremock.DEFAULT_WARMUP_S,
        metavar="SECONDS",
        help=f"load WireMock this long before the rounds, for its JIT (default {wiremock.DEFAULT_WARMUP_S:.0f})",
    )
    parser.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_bare:
        _serve_bare(args.serve_bare)
        return 0
    if not (1 <= args.rounds <= 20 and 0 < args.seconds <= 60 and 1 <= args.connections <= 500):
        parser.error("rounds 1..20, seconds up to 60, connections 1..500")
    if not 0 <= args.wiremock_warmup <= 600:
        parser.error("--wiremock-warmup 0..600 seconds")
    import uvloop

    sandbox_port, bare_port = free_port(), free_port()
    servers = [
        _start("sandbox", sandbox_argv(sandbox_port), sandbox_port),
        _start("bare", [sys.executable, "-m", "loadtests.bench_send_path", "--serve-bare", str(bare_port)], bare_port),
    ]
    order = ["sandbox", "bare"]
    if args.baseline:
        port = free_port()
        # An older checkout may not know `--quiet`; it has no console lines to switch off either.
        argv = [arg for arg in sandbox_argv(port) if arg != "--quiet"]
        servers.append(_start("baseline", argv, port, cwd=args.baseline))
        order.insert(1, "baseline")
    scratch = tempfile.TemporaryDirectory(prefix="wa-bench-") if args.data_dir == "" else None
    if args.data_dir is not None:
        port = free_port()
        data_dir = scratch.name if scratch is not None else args.data_dir
        persisted = [*sandbox_argv(port), "--data-dir", data_dir, "--checkpoint-mode", args.checkpoint_mode]
        servers.append(_start("data-dir", persisted, port))
        order.insert(1, "data-dir")
    if not args.no_wiremock:
        try:
            servers.append(wiremock.start(free_port(), journal=args.wiremock_journal))
            order.append("wiremock")
        except wiremock.Unavailable as error:
            sys.stdout.write(f"WireMock not measured: {error}\n")
    try:
        targets = {server.name: (server.port, server) for server in servers}
        requests_of = {
            name: requests_for(*prepare_sandbox(targets[name][0], args.progression))
            for name in order
            if name not in ("bare", "wiremock")
        }
        requests_of["bare"] = requests_of["wiremock"] = requests_of["sandbox"]
        for name in order:  # warm-up: customers created, code paths hot, WireMock's JIT at speed
            warmup = args.wiremock_warmup if name == "wiremock" else 2.0
            uvloop.run(_drive(targets[name][0], requests_of[name], warmup, args.connections))
        results: dict[str, list[dict[str, float]]] = {name: [] for name in order}
        for round_ in range(args.rounds):
            for name in order[round_ % len(order) :] + order[: round_ % len(order)]:
                requests = requests_of[name]
                port, server = targets[name]
                cpu_before = _cpu_seconds(server.process.pid)
                result = uvloop.run(_drive(port, requests, args.seconds, args.connections))
                result["server_cpu_pct"] = (_cpu_seconds(server.process.pid) - cpu_before) / args.seconds * 100
                result["req_per_core_s"] = result["req_s"] / max(0.01, result["server_cpu_pct"] / 100)
                results[name].append(result)
                sys.stdout.write(
                    f"round {round_ + 1} {name:8s} {result['req_s']:8.0f} req/s  p50 {result['p50_ms']:6.2f} ms  "
                    f"p99 {result['p99_ms']:6.2f} ms  server CPU {result['server_cpu_pct']:5.1f} %  "
                    f"non-200 {int(result['non_200'])}\n"
                )
                sys.stdout.flush()
    finally:
        for server in servers:
            server.stop()
        if scratch is not None:
            scratch.cleanup()
    bare_rps = statistics.median(r["req_s"] for r in results["bare"])
    sys.stdout.write(f"\nbare starlette+orjson {bare_rps:,.0f} req/s (median)\n")
    for name in [name for name in order if name not in ("bare", "wiremock")]:
        sys.stdout.write(_summary(name, results[name], results["bare"], target=name == "sandbox"))
    if "wiremock" in results:
        sys.stdout.write(wiremock.summary(results["sandbox"], results["wiremock"], args.wiremock_warmup))
    if "data-dir" in results:
        kept = [d["req_s"] / s["req_s"] for d, s in zip(results["data-dir"], results["sandbox"], strict=True)]
        sys.stdout.write(
            f"ratio data-dir/memory ({args.checkpoint_mode} checkpoints): {statistics.median(kept):.3f} "
            f"(per round: {', '.join(f'{r:.3f}' for r in kept)}); "
            f"target >= 0.9: {'met' if statistics.median(kept) >= 0.9 else 'NOT met'}\n"
        )
    return 0


def _summary(name: str, runs: list[dict[str, float]], bare: list[dict[str, float]], target: bool) -> str:
    ratios = [s["req_s"] / b["req_s"] for s, b in zip(runs, bare, strict=True)]
    core_ratios = [s["req_per_core_s"] / b["req_per_core_s"] for s, b in zip(runs, bare, strict=True)]
    ratio = statistics.median(ratios)
    label = {"sandbox": "sandbox", "baseline": "baseline sandbox"}.get(name, f"sandbox with a {name}")
    text = (
        f"{label} {statistics.median(r['req_s'] for r in runs):,.0f} req/s (median); "
        f"ratio {label}/bare: {ratio:.3f} (per round: {', '.join(f'{r:.3f}' for r in ratios)}); "
        f"per server core: {statistics.median(core_ratios):.3f}\n"
    )
    return text + (f"target >= 0.6: {'met' if ratio >= 0.6 else 'NOT met'}\n" if target else "")


if __name__ == "__main__":
    raise SystemExit(main())
