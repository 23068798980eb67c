"""`wa-sandbox scenario run PATH...` and `wa-sandbox scenario list PATH...` (discovered by sandbox/cli.py)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from scenarios.loader import LIBRARY
from scenarios.model import Scenario
from scenarios.report import Progress, write_junit
from scenarios.runner import RunOptions, answers, load_all, run_all
from scenarios.values import ScenarioSyntaxError, parse_duration


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("scenario", help="run scenario files (QA suites) against the sandbox")
    commands = parser.add_subparsers(dest="scenario_command", required=True)
    run = commands.add_parser("run", help="run scenario files or directories; exit 1 if any fails")
    run.add_argument("paths", nargs="*", metavar="PATH", help=f"files or directories (default: {LIBRARY})")
    run.add_argument("--url", help="a running sandbox (default: in-process, on a virtual clock)")
    run.add_argument("--junit", metavar="FILE", help="write JUnit XML here")
    run.add_argument("--jobs", "-j", type=int, default=1, help="scenarios run at once (default 1)")
    run.add_argument(
        "--tenant",
        help="with --url: reuse and reset this tenant (e.g. default) instead of "
        "creating one per scenario, for a system under test configured with its credentials",
    )
    run.add_argument("--webhook-url", help="with --url: callback URL of the tenants created for scenarios")
    run.add_argument(
        "--sink",
        action="store_true",
        help="with --url: give each scenario a webhook receiver on a "
        "loopback port of this machine, so receiver scenarios (retries) run against a real server too",
    )
    run.add_argument(
        "--wait", default="0", help="how long expectations keep polling for a system under test (e.g. 10s; default 0)"
    )
    run.add_argument("--admin-token", help="the sandbox's admin token, if it has one")
    run.add_argument("--quiet", "-q", action="store_true", help="print only scenarios that did not pass")
    run.set_defaults(handler=run_command)
    listing = commands.add_parser("list", help="list scenarios with the rules they check")
    listing.add_argument("paths", nargs="*", metavar="PATH")
    listing.set_defaults(handler=list_command)


def run_command(arguments: argparse.Namespace) -> int:
    try:
        wait = parse_duration(arguments.wait)
        items = load_all(arguments.paths or [LIBRARY])
    except ScenarioSyntaxError as error:
        sys.stderr.write(f"wa-sandbox scenario: {error}\n")
        return 2
    if arguments.tenant and not arguments.url:
        sys.stderr.write("wa-sandbox scenario: --tenant needs --url\n")
        return 2
    options = RunOptions(
        url=arguments.url,
        tenant=arguments.tenant,
        webhook_url=arguments.webhook_url,
        wait=wait,
        admin_token=arguments.admin_token,
        sink=arguments.sink,
    )
    if arguments.url:
        problem = unreachable(arguments.url)
        if problem is not None:
            sys.stderr.write(f"wa-sandbox scenario: {problem}\n")
            return 2
    where = arguments.url or "in-process"
    sys.stdout.write(f"running {len(items)} scenario(s) {where}, {max(1, arguments.jobs)} at a time\n")
    progress = Progress(len(items), quiet=arguments.quiet)
    results = run_all(items, options, jobs=arguments.jobs, progress=progress)
    progress.summary(results)
    if arguments.junit:
        write_junit(results, arguments.junit)
        sys.stdout.write(f"JUnit XML written to {arguments.junit}\n")
    return 1 if any(r.outcome in ("failed", "error") for r in results) or not results else 0


def unreachable(url: str, timeout: float = 5.0) -> str | None:
    """One line when nothing answers at `url`, before any scenario runs (and fails for the same reason)."""
    if answers(url, timeout):
        return None  # even a 503 while degraded or a 401 without the admin token: the scenarios say more
    return f"cannot reach {url}: is the sandbox running? (wa-sandbox serve)"


def list_command(arguments: argparse.Namespace) -> int:
    items = load_all(arguments.paths or [LIBRARY])
    for item in items:
        if isinstance(item, Scenario):
            needs = f"  (requires {', '.join(item.requires)})" if item.requires else ""
            sys.stdout.write(f"{item.id:<50} {', '.join(item.rules)}{needs}\n")
        else:
            sys.stdout.write(f"{item.scenario.id:<50} ERROR {item.message}\n")
    return 0
