"""Runs scenarios: each against a fresh tenant, in-process or at a URL, several at a time if asked."""

from __future__ import annotations

import contextlib
import time
import traceback
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from scenarios import expectations as _expectations  # noqa: F401 - registers the expect_* steps
from scenarios.context import (
    IN_PROCESS_CALLBACK,
    Context,
    FoundSettings,
    Receiver,
    create_tenant,
    in_process,
    loopback_sink,
    reuse_tenant,
    sink_available,
)
from scenarios.loader import discover, load_file
from scenarios.model import Scenario, ScenarioResult, Skip, Step, StepFailed, StepRecord
from scenarios.report import format_failure
from scenarios.steps import STEPS, check_response, step_kind
from scenarios.values import MISSING, ScenarioSyntaxError, lookup, match, render, substitute

TENANT_VARIABLES = (
    "phone_number_id",
    "display_phone_number",
    "waba_id",
    "business_id",
    "access_token",
    "app_id",
    "app_secret",
    "verify_token",
    "graph_version",
)


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How to run: in-process (no `url`), or against a running sandbox at `url`.

    `tenant` reuses (and resets) an existing tenant instead of creating one, for a system under test configured
    with that tenant's credentials; `webhook_url` is the callback of created tenants; `wait` is how long
    expectations keep polling (seconds) for things that happen outside the scenario, such as a system under test;
    `sink` gives each scenario a real loopback webhook receiver it controls (step `receiver`).
    """

    url: str | None = None
    tenant: str | None = None
    webhook_url: str | None = None
    wait: float = 0.0
    admin_token: str | None = None
    keep_failed: bool = True
    sink: bool = False


class StepError(Exception):
    """A failure inside a step, with where it happened."""

    def __init__(self, index: str, step: Step, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.index = index
        self.step = step
        self.cause = cause


def required_features(scenario: Scenario) -> set[str]:
    features = set(scenario.requires)

    def visit(steps: Iterable[Step]) -> None:
        for step in steps:
            features.update(STEPS[step.kind].requires)
            if step.kind == "repeat":
                visit(step.args["steps"])

    visit(scenario.steps)
    return features


def execute(context: Context, step: Step, index: str, records: list[StepRecord] | None = None) -> Any:
    """Run one step: substitute variables, run it, check its `expect`, `save` what it asks for."""
    started = time.perf_counter()
    try:
        kind = STEPS[step.kind]
        args = substitute(step.args, context.variables) if kind.substitute else step.args
        result = kind.run(context, step, args)
        expect = substitute(step.expect, context.variables) if step.expect else None
        if kind.call:
            subject = check_response(result, expect)
        else:
            subject = result
            problems = [
                line for path, wanted in (expect or {}).items() for line in match(wanted, lookup(subject, path), path)
            ]
            if problems:
                raise StepFailed(f"{step.kind} is not as expected", expected=expect, actual=subject, lines=problems)
        for name, path in (step.save or {}).items():
            value = lookup(subject, path)
            if value is MISSING:
                raise StepFailed(f"save: nothing at {path!r} to save as ${name}", actual=subject)
            context.variables[name] = value
    except StepError:
        raise
    except (StepFailed, ScenarioSyntaxError, httpx.HTTPError) as error:
        if records is not None:
            records.append(StepRecord(index, step, time.perf_counter() - started, False))
        raise StepError(index, step, error) from error
    if records is not None:
        records.append(StepRecord(index, step, time.perf_counter() - started, True))
    return subject


@step_kind("repeat", "run steps several times: {times, steps: [...]}; $i counts from 1", substitute=False)
def repeat(context: Context, step: Step, args: Any) -> list[Any]:
    results = []
    for i in range(1, int(args["times"]) + 1):
        context.variables["i"] = i
        for number, inner in enumerate(args["steps"], 1):
            results.append(execute(context, inner, f"{number} of repeat {i}/{args['times']}"))
    return results


@contextlib.contextmanager
def _client(options: RunOptions) -> Iterator[tuple[httpx.Client, Receiver | None, str, str | None]]:
    if options.url is None:
        with in_process() as (http, receiver):
            yield http, receiver, "in-process", IN_PROCESS_CALLBACK
        return
    headers = {"Authorization": f"Bearer {options.admin_token}"} if options.admin_token else {}
    with contextlib.ExitStack() as stack:
        http = stack.enter_context(httpx.Client(base_url=options.url.rstrip("/"), headers=headers, timeout=30))
        callback, receiver = options.webhook_url, None
        if options.sink and options.tenant is None and sink_available():
            callback, receiver = stack.enter_context(loopback_sink())
        yield http, receiver, options.url, callback


def run_scenario(scenario: Scenario, options: RunOptions | None = None) -> ScenarioResult:
    options = options or RunOptions()
    started = time.perf_counter()
    with _client(options) as (http, receiver, where, callback):
        result = _run(scenario, http, receiver, options, where, callback)
    result.seconds = time.perf_counter() - started
    return result


def _run(
    scenario: Scenario,
    http: httpx.Client,
    receiver: Receiver | None,
    options: RunOptions,
    where: str,
    callback: str | None,
) -> ScenarioResult:
    result = ScenarioResult(scenario, "passed")
    context: Context | None = None
    created = options.tenant is None
    found: FoundSettings | None = None
    try:
        if options.tenant:
            found = FoundSettings.read(http, options.tenant)
            tenant = reuse_tenant(http, scenario, options.tenant)
        else:
            tenant = create_tenant(http, scenario, callback=callback)
        result.tenant = tenant["id"]
        context = Context(http, tenant, where, receiver, options.wait)
        context.variables.update({"tenant": tenant["id"]} | {k: tenant[k] for k in TENANT_VARIABLES if k in tenant})
        context.builtins = frozenset(context.variables)
        context.variables.update(substitute(scenario.variables, context.variables))
        context.check_features(scenario, required_features(scenario))
        if scenario.policy:
            execute(context, Step("policy", scenario.policy), "0 (policy:)", result.steps)
        for number, step in enumerate(scenario.steps, 1):
            execute(context, step, str(number), result.steps)
    except Skip as skip:
        result.outcome, result.message = "skipped", str(skip)
    except StepError as error:
        cause = error.cause
        if isinstance(cause, httpx.TransportError) and options.url is not None:
            _lost(result, where, cause, f"step {error.index}: ")
            return result
        result.outcome = "failed" if isinstance(cause, StepFailed) else "error"
        result.message = f"step {error.index}: {cause}"
        result.report = format_failure(scenario, error.index, error.step, cause, context)
    except StepFailed as failure:
        result.outcome, result.message = "error", str(failure)
        result.report = format_failure(scenario, None, None, failure, context)
    except httpx.TransportError as lost:
        if options.url is None:
            raise
        _lost(result, where, lost)
    except Exception as unexpected:
        result.outcome, result.message = "error", f"{type(unexpected).__name__}: {unexpected}"
        result.report = "".join(traceback.format_exception(unexpected))
    finally:
        if found is not None:
            _restore(found, http, result)
        keep = (
            options.keep_failed
            and options.url is not None
            and result.outcome in ("failed", "error")
            and not result.lost_server
        )
        if created and context is not None and not keep:
            with contextlib.suppress(httpx.HTTPError):
                http.delete(f"/_sandbox/tenants/{context.tenant['id']}")
        elif keep and context is not None:
            result.report += (
                f"\n  tenant {context.tenant['id']} kept for inspection: "
                f"GET {where}/_sandbox/tenants/{context.tenant['id']}/state\n"
            )
    return result


def _lost(result: ScenarioResult, where: str, cause: BaseException, at: str = "") -> None:
    result.outcome, result.lost_server = "error", True
    result.message = f"{at}no answer from {where} ({type(cause).__name__}: {cause})"
    result.report = f"  {result.message}\n"


def answers(url: str, timeout: float = 5.0) -> bool:
    """Whether anything answers at `url` (any HTTP status counts: 503 while degraded, 401 without the token)."""
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/_sandbox/health", timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _restore(found: FoundSettings, http: httpx.Client, result: ScenarioResult) -> None:
    """Leave a reused tenant as the scenario found it; a failure to do so fails the scenario, saying why."""
    try:
        found.restore(http)
    except (StepFailed, httpx.HTTPError) as error:
        result.outcome, result.message = "error", f"tenant {found.tenant_id} not restored: {error}"
        result.report += f"  {result.message}\n"


def load_all(paths: Iterable[str | Path]) -> list[Scenario | ScenarioResult]:
    """Every scenario under `paths`; a file that cannot be read becomes an `error` result naming the problem."""
    loaded: list[Scenario | ScenarioResult] = []
    for file, root in discover(paths):
        try:
            loaded.append(load_file(file, root))
        except (ScenarioSyntaxError, OSError, UnicodeDecodeError) as error:
            stub = Scenario(name=file.stem, steps=(), path=str(file), area=_area(file, root))
            loaded.append(ScenarioResult(stub, "error", message=str(error), report=f"  {error}\n"))
    return loaded


def _area(file: Path, root: Path) -> str:
    with contextlib.suppress(ValueError):
        area = file.parent.relative_to(root).as_posix()
        return "" if area == "." else area
    return ""


def run_all(
    items: list[Scenario | ScenarioResult],
    options: RunOptions | None = None,
    jobs: int = 1,
    progress: Callable[[ScenarioResult], None] | None = None,
) -> list[ScenarioResult]:
    """Run scenarios (`jobs` at a time); `progress` hears of each result as it completes."""
    options = options or RunOptions()
    if options.tenant is not None:
        jobs = 1  # one shared tenant cannot host two scenarios at once
    results: list[ScenarioResult] = []

    def done(result: ScenarioResult) -> None:
        results.append(result)
        if progress is not None:
            progress(result)

    pending = []
    for item in items:
        if isinstance(item, ScenarioResult):
            done(item)
        else:
            pending.append(item)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(run_scenario, scenario, options): scenario for scenario in pending}
        stopped = False
        for future in as_completed(futures):
            if future.cancelled():
                continue
            result = future.result()
            done(result)
            if result.lost_server and not stopped and options.url is not None and not answers(options.url):
                # Every scenario left would fail the same way: say it once and stop.
                stopped = True
                for waiting, scenario in futures.items():
                    if waiting.cancel():
                        message = f"not run: {options.url} stopped answering"
                        done(ScenarioResult(scenario, "error", message=message, lost_server=True))
    order = {id(item if isinstance(item, Scenario) else item.scenario): n for n, item in enumerate(items)}
    return sorted(results, key=lambda r: order.get(id(r.scenario), 0))


__all__ = ["RunOptions", "execute", "load_all", "render", "run_all", "run_scenario"]
