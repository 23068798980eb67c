"""What persistence costs: pickling, writing and restoring one tenant with many messages (issue 17, item 5).

    python -m loadtests.bench_snapshots [--messages 100000] [--rounds 5]

Builds a `live` tenant in process and sends it `--messages` text messages (immediate progression, so each message
has moved to `read`, with its deliveries logged), then prints, as medians over `--rounds`: the world's size,
the time to pickle it (what a checkpoint costs per changed tenant), to save it as a named snapshot, to restore
that snapshot (the tenant back as saved, its clock at the saved instant), to read the newest and then the oldest
saved message after a restore (which read the message table's rows, left for then, newest part first), to export
and import it, and how long a checkpoint of it to a data directory takes in process and how long the server
pauses for a forked one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pickle
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import orjson

from loadtests.profile_paths import NullTransport, _call
from sandbox.app import create_app
from sandbox.context import Sandbox
from sandbox.domain.commands import ConfigureClock, CreateTenant
from sandbox.services import persistence, snapshots
from sandbox.services.tenants import create_tenant
from sandbox.settings import Settings


async def _world(messages: int) -> Sandbox:
    sandbox = Sandbox(Settings(seed=1))
    app = create_app(sandbox, transport=NullTransport())
    command = CreateTenant(name="bench", clock=ConfigureClock(mode="frozen"), webhook_url="http://127.0.0.1:9/hook")
    tenant = create_tenant(sandbox, command)
    tenant.policy.messages.progression = "immediate"
    tenant.policy.journal.webhooks = 10_000
    phone = next(iter(tenant.store.phone_numbers))
    phone.throughput_level = "HIGH"
    headers = [
        (b"content-type", b"application/json"),
        (b"authorization", f"Bearer {tenant.credentials.access_token}".encode()),
    ]
    for index in range(messages):
        body = {"messaging_product": "whatsapp", "to": f"+1650{index % 8000:07d}", "type": "template"}
        body["template"] = {"name": "hello_world", "language": {"code": "en_US"}}
        status, answer = await _call(app, "POST", f"/v23.0/{phone.id}/messages", orjson.dumps(body), headers)
        if status != 200:
            raise RuntimeError(f"send failed: {status} {answer[:300]!r}")
        tenant.clock.advance(0.001)
    return sandbox


def _timed(action: Callable[[], Any], rounds: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(rounds):
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.bench_snapshots", description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    if not (1 <= args.messages <= 1_000_000 and 1 <= args.rounds <= 50):
        parser.error("messages 1..1,000,000, rounds 1..50")
    started = time.perf_counter()
    sandbox = asyncio.run(_world(args.messages))
    tenant = sandbox.tenants["bench"]
    sys.stdout.write(
        f"built a tenant with {len(tenant.store.messages):,} messages and "
        f"{len(sandbox.outbox.log('bench')):,} logged deliveries in {time.perf_counter() - started:.1f} s\n"
    )
    pickle_ms, blob = _timed(lambda: persistence.world_blob(sandbox, tenant), args.rounds)
    save_ms, _ = _timed(lambda: snapshots.save(sandbox, "bench", sandbox.tenants["bench"]), args.rounds)
    restore_ms, _ = _timed(lambda: snapshots.restore(sandbox, "bench"), args.rounds)
    newest_read: list[float] = []
    oldest_read: list[float] = []
    for _ in range(args.rounds):
        [restored] = snapshots.restore(sandbox, "bench")
        keys = list(restored.store.messages._rows)
        begun = time.perf_counter()
        restored.store.messages.get(keys[-1])  # reads the newest part of the rows (sandbox/store/worlds.py)
        newest_read.append(time.perf_counter() - begun)
        begun = time.perf_counter()
        restored.store.messages.get(keys[0])  # reads the other parts
        oldest_read.append(time.perf_counter() - begun)
    export_ms, exported = _timed(lambda: snapshots.export_file(sandbox, "bench"), args.rounds)
    import_ms, _ = _timed(lambda: snapshots.import_file(sandbox, exported), args.rounds)
    with tempfile.TemporaryDirectory(prefix="wa-bench-") as data_dir:
        persistence.open_data_dir(sandbox, data_dir)

        def inline() -> int:
            sandbox.dirty.add("bench")
            return persistence.checkpoint(sandbox)

        inline_ms, _ = _timed(inline, args.rounds)
        pauses, totals = [], []
        checkpointer = persistence.Checkpointer(sandbox, "fork")
        for _ in range(args.rounds):
            sandbox.dirty.add("bench")
            begun = time.perf_counter()
            checkpointer.tick()
            pauses.append(time.perf_counter() - begun)
            checkpointer.close()
            totals.append(time.perf_counter() - begun)
    rows = [
        ("world size", f"{len(blob) / 1e6:.1f} MB pickled"),
        ("pickle the world (a checkpoint's serialisation)", f"{pickle_ms:.0f} ms"),
        ("save a named snapshot", f"{save_ms:.0f} ms"),
        ("restore that snapshot", f"{restore_ms:.0f} ms"),
        ("then a read of the newest saved message (newest part)", f"{statistics.median(newest_read) * 1000:.0f} ms"),
        ("then of the oldest (every other part)", f"{statistics.median(oldest_read) * 1000:.0f} ms"),
        ("export to one file / import it", f"{export_ms:.0f} ms / {import_ms:.0f} ms"),
        ("checkpoint in process (pickle + SQLite transaction)", f"{inline_ms:.0f} ms"),
        ("forked checkpoint: server paused / child done", f"{statistics.median(pauses) * 1000:.1f} ms / "
         f"{statistics.median(totals) * 1000:.0f} ms"),
    ]  # fmt: skip
    for label, value in rows:
        sys.stdout.write(f"  {label:54s} {value}\n")
    calibration = [(index, str(index), b"x" * 100) for index in range(300_000)]
    calibrate_ms, _ = _timed(lambda: pickle.dumps(calibration, 5), args.rounds)
    sys.stdout.write(
        f"(medians of {args.rounds} rounds; pid {os.getpid()}; calibration: pickling 300,000 small tuples took "
        f"{calibrate_ms:.0f} ms on this machine now)\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
