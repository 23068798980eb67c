"""Aggregate send throughput of `serve --workers 2` against `--workers 1`, side by side in one run. Prints both, their
ratio and the server CPU per message (every process of the server: shards, coordinator, HAProxy).

    python -m loadtests.bench_workers [--rounds 5] [--seconds 5] [--connections 50] [--workers 2]

Both servers get the same two tenants, named so that on the sharded server they land on different shards, and the
same requests, alternating between the two tenants' numbers; rounds alternate between the servers (order rotated).
The load generator is bench_send_path's closed-loop client (keep-alive, pre-built requests), in this process: on a
box with as many cores as workers it competes with them, so the ratio is a floor, not the shards' ceiling.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from typing import Any

from loadtests.bench_send_path import _control, _drive, _start, requests_for
from loadtests.processes import free_port, sandbox_argv, tree_cpu_seconds
from sandbox.ids import shard_for

POLICY = {"throughput_mps": {"STANDARD": 100_000, "HIGH": 100_000}, "pair_rate_burst": 1_000_000}


def tenant_names(workers: int) -> list[str]:
    """One tenant per shard of a `workers`-shard server."""
    names: list[str] = []
    for shard in range(workers):
        names.append(next(f"bench-{n}" for n in range(1000) if shard_for(f"bench-{n}", workers) == shard))
    return names


def prepare(port: int, names: list[str], progression: str) -> list[bytes]:
    per_tenant = []
    for name in names:
        doc = _control(port, "POST", "/_sandbox/tenants", {"name": name, "profile": "live", "seed": 7})
        _control(port, "PATCH", f"/_sandbox/tenants/{name}/policy", {**POLICY, "progression": progression})
        phone = doc["phone_number_id"]
        _control(port, "PUT", f"/_sandbox/tenants/{name}/phone_numbers/{phone}/throughput", {"level": "HIGH"})
        per_tenant.append(requests_for(f"/v23.0/{phone}/messages", doc["access_token"]))
    return [request for group in zip(*per_tenant, strict=True) for request in group]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.bench_workers", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each measured round (max 60)")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="processes of the sharded server (2..8)")
    parser.add_argument("--progression", choices=["manual", "scheduled"], default="scheduled")
    args = parser.parse_args(argv)
    if not (1 <= args.rounds <= 20 and 0 < args.seconds <= 60 and 1 <= args.connections <= 500):
        parser.error("rounds 1..20, seconds up to 60, connections 1..500")
    if not 2 <= args.workers <= 8:
        parser.error("--workers 2..8")
    import uvloop

    names = tenant_names(args.workers)
    order = ["workers-1", f"workers-{args.workers}"]
    servers = []
    for name, workers in zip(order, (1, args.workers), strict=True):
        port = free_port()
        servers.append(_start(name, [*sandbox_argv(port), "--workers", str(workers)], port))
    try:
        requests_of = {server.name: prepare(server.port, names, args.progression) for server in servers}
        targets = {server.name: server for server in servers}
        for name in order:  # warm-up
            uvloop.run(_drive(targets[name].port, requests_of[name], 2.0, args.connections))
        results: dict[str, list[dict[str, Any]]] = {name: [] for name in order}
        for round_ in range(args.rounds):
            for name in order[round_ % 2 :] + order[: round_ % 2]:
                server = targets[name]
                before = tree_cpu_seconds(server.process.pid)
                result: dict[str, Any] = uvloop.run(
                    _drive(server.port, requests_of[name], args.seconds, args.connections)
                )
                cpu = tree_cpu_seconds(server.process.pid) - before
                messages = result["req_s"] * args.seconds
                result["server_cpu_pct"] = cpu / args.seconds * 100
                result["cpu_ms_per_message"] = cpu / max(1.0, messages) * 1000
                results[name].append(result)
                sys.stdout.write(
                    f"round {round_ + 1} {name:10s} {result['req_s']:8.0f} req/s  p50 {result['p50_ms']:6.2f} ms  "
                    f"p99 {result['p99_ms']:6.2f} ms  server CPU {result['server_cpu_pct']:5.1f} %  "
                    f"{result['cpu_ms_per_message']:.3f} ms CPU/message  non-200 {int(result['non_200'])}\n"
                )
                sys.stdout.flush()
    finally:
        for server in servers:
            server.stop()
    sys.stdout.write("\n")
    for name in order:
        runs = results[name]
        sys.stdout.write(
            f"{name:10s} {statistics.median(r['req_s'] for r in runs):8,.0f} req/s (median), "
            f"server CPU {statistics.median(r['server_cpu_pct'] for r in runs):5.1f} %, "
            f"{statistics.median(r['cpu_ms_per_message'] for r in runs):.3f} ms CPU per message\n"
        )
    ratios = [s["req_s"] / o["req_s"] for o, s in zip(results[order[0]], results[order[1]], strict=True)]
    sys.stdout.write(
        f"ratio {order[1]}/{order[0]}: {statistics.median(ratios):.2f} "
        f"(per round: {', '.join(f'{r:.2f}' for r in ratios)})\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
