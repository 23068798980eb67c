"""`wa-sandbox load`: one bounded load run on loopback, with its report (docs/loadtesting.md)."""

from __future__ import annotations

import argparse
import importlib.util
import shlex
import sys
from pathlib import Path
from typing import Any

import orjson


def register(subparsers: Any) -> None:
    from loadtests.run import PROFILES

    parser = subparsers.add_parser(
        "load",
        help="load-test the sandbox: sandbox + webhook sink + locust, then a report in reports/<timestamp>/",
        description="Starts the sandbox (uvicorn, uvloop+httptools, 1 worker), a webhook sink and locust headless "
        "on 127.0.0.1 for --duration seconds, then writes a report (CSV, Markdown, PNG). Needs the `load` extra "
        f"({LOAD_EXTRA}).",
    )
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load, 1..3600 (default 60)")
    parser.add_argument("--rate", type=float, default=80.0, help="messages/s offered per number (default 80)")
    parser.add_argument("--numbers", type=int, default=1, help="business numbers, one tenant each (default 1)")
    parser.add_argument(
        "--profile",
        choices=list(PROFILES),
        default="steady",
        help="; ".join(f"{name}: {text}" for name, text in PROFILES.items()) + " (default steady)",
    )
    parser.add_argument("--inbound-rate", type=float, help="customer messages/s per number (mixed; default rate/10)")
    parser.add_argument("--users-per-number", type=int, help="locust users per number (default: rate/20)")
    parser.add_argument("--processes", type=int, help="locust processes (default 1, 2 above 1,500 req/s)")
    parser.add_argument(
        "--throughput",
        choices=["auto", "STANDARD", "HIGH"],
        default="auto",
        help="throughput level of the numbers; auto (the default) = HIGH above 80/s except for the overload profile",
    )
    parser.add_argument("--no-webhooks", action="store_true", help="no callback URL: no sink, no webhook figures")
    parser.add_argument("--mix", help="message mix as JSON weights, e.g. '{\"text\": 1}'")
    parser.add_argument(
        "--out", type=Path, default=Path("reports"), help="parent directory of the report (default reports)"
    )
    parser.add_argument("--port", type=int, help="sandbox port (default: a free one)")
    parser.add_argument(
        "--drain-timeout", type=float, default=60.0, help="max seconds to wait for late webhooks (default 60)"
    )
    parser.add_argument(
        "--seed", type=int, default=1, help="seeds the load tenants' worlds: tenant i gets seed × 1000 + i (default 1)"
    )
    parser.add_argument("--py-spy", action="store_true", help="profile the sandbox with py-spy (speedscope JSON)")
    parser.add_argument(
        "--workers", type=int, default=1, help="start the sandbox as serve --workers N: shards behind HAProxy (1..64)"
    )
    parser.add_argument(
        "--locust-workers",
        type=int,
        default=0,
        metavar="N",
        help="locust's master/worker mode on this machine: a master and N worker processes",
    )
    parser.add_argument(
        "--remote-workers",
        type=int,
        default=0,
        metavar="N",
        help="a locust master that waits for N workers started on other hosts (it prints their command)",
    )
    parser.add_argument("--master-host", default="0.0.0.0", help="where the master listens for remote workers")
    parser.add_argument("--master-port", type=int, help="the master's port for its workers (default: a free one)")
    parser.add_argument(
        "--sink-host",
        default="127.0.0.1",
        help="the webhook sink's address: loopback, or a private one the sandbox's hosts reach (default 127.0.0.1)",
    )
    distributed = parser.add_argument_group("distributed mode (docs/loadtesting.md)")
    distributed.add_argument(
        "--prepare-only",
        action="store_true",
        help="only create the tenants on the running sandbox at --sandbox-url and write --plan; no load",
    )
    distributed.add_argument(
        "--sandbox-url", help="a running sandbox (one process or a front of shards) instead of starting one"
    )
    distributed.add_argument("--sink-url", help="a running sink, e.g. http://127.0.0.1:9000 (with --prepare-only)")
    distributed.add_argument(
        "--plan", type=Path, default=Path("plan.json"), help="where --prepare-only writes (default plan.json)"
    )
    parser.set_defaults(handler=handle)


LOAD_EXTRA = "pip install 'wa-sandbox[load]'"


def missing_load_extra() -> list[str]:
    """The packages of the `load` extra that are not installed (locust drives the load; the report needs the rest)."""
    return [name for name in ("locust", "psutil", "matplotlib") if importlib.util.find_spec(name) is None]


def handle(arguments: argparse.Namespace) -> int:
    from loadtests.run import RunOptions, run

    missing = missing_load_extra()
    if missing and not arguments.prepare_only:
        sys.stderr.write(f"wa-sandbox load: needs the `load` extra ({', '.join(missing)} missing): {LOAD_EXTRA}\n")
        return 2

    try:
        mix = orjson.loads(arguments.mix) if arguments.mix else None
        options = RunOptions(
            duration=arguments.duration,
            rate=arguments.rate,
            numbers=arguments.numbers,
            profile=arguments.profile,
            inbound_rate=arguments.inbound_rate,
            users_per_number=arguments.users_per_number,
            processes=arguments.processes,
            throughput=arguments.throughput,
            webhooks=not arguments.no_webhooks,
            out=arguments.out,
            port=arguments.port,
            drain_timeout=arguments.drain_timeout,
            seed=arguments.seed,
            py_spy=arguments.py_spy,
            command="wa-sandbox " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
            mix=mix,
            workers=arguments.workers,
            sandbox_url=None if arguments.prepare_only else arguments.sandbox_url,
            sink_host=arguments.sink_host,
            locust_workers=arguments.locust_workers,
            remote_workers=arguments.remote_workers,
            master_host=arguments.master_host,
            master_port=arguments.master_port,
        )
        options.check()
    except (ValueError, orjson.JSONDecodeError) as error:
        sys.stderr.write(f"wa-sandbox load: {error}\n")
        return 2
    if arguments.prepare_only:
        from loadtests.run import prepare_only

        if not arguments.sandbox_url:
            sys.stderr.write("wa-sandbox load: --prepare-only needs --sandbox-url\n")
            return 2
        plan = prepare_only(options, arguments.sandbox_url, arguments.sink_url, arguments.plan)
        users = plan.users_per_number * len(plan.numbers)
        sys.stdout.write(
            f"plan written to {arguments.plan}: {len(plan.numbers)} number(s), {users} BusinessUser(s)\n"
            f"  export WA_LOAD_PLAN={arguments.plan.resolve()}\n"
            f"  locust -f loadtests/locustfile.py --master --headless --host {arguments.sandbox_url} -u {users} "
            f"-r {max(10, users)} -t {int(options.duration)}s --expect-workers N BusinessUser\n"
            "  locust -f loadtests/locustfile.py --worker --master-host <master address>   # on each worker\n"
        )
        return 0
    try:
        run_dir = run(options)
    except RuntimeError as error:
        sys.stderr.write(f"wa-sandbox load: {error}\n")
        return 1
    sys.stdout.write((run_dir / "report.md").read_text() + f"\nReport: {run_dir}/report.md\n")
    return 0
