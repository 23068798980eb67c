"""The same step vocabulary in Python: build a `Scenario` to run later, or drive a live tenant step by step.

    scenario = (
        ScenarioBuilder("late reply fails", rules=["SEED-MSG-1"])
        .customer_writes(from_="15551234567", text="Hi")
        .advance("25h")
        .send(to="15551234567", text="Sorry for the wait", save={"msg": "messages[0].id"})
        .advance("1m")
        .expect_webhooks(wamid="$msg", statuses=["failed"], error=131047)
    )
    scenario.check()            # runs in-process; raises AssertionError with the failure report

A keyword that is a Python word gets a trailing underscore (`from_=`); it is written without it in the step.
"""

from __future__ import annotations

from typing import Any

import httpx

from scenarios.context import Context, Receiver
from scenarios.model import Scenario, ScenarioResult, Step
from scenarios.report import format_failure
from scenarios.runner import RunOptions, StepError, execute, run_scenario
from scenarios.steps import STEPS
from scenarios.values import parse_duration

COMMON = ("name", "save", "expect", "within")


def make_step(kind: str, positional: Any, fields: dict[str, Any]) -> Step:
    """A `Step` from Python arguments: either one positional argument or keywords (common options apart)."""
    if kind not in STEPS:
        raise ValueError(f"unknown step {kind!r}")
    common = {key: fields.pop(key) for key in COMMON if key in fields}
    args = positional if positional is not None else {key.rstrip("_"): value for key, value in fields.items()}
    if kind == "repeat":
        args = {"times": args["times"], "steps": tuple(args["steps"])}
    within = common.get("within")
    return Step(
        kind,
        args,
        common.get("name"),
        common.get("save"),
        common.get("expect"),
        parse_duration(within) if within is not None else None,
    )


class Steps:
    """One method per step kind; `_step` decides whether it is recorded (builder) or run now (session)."""

    def _step(self, kind: str, positional: Any = None, **fields: Any) -> Any:
        raise NotImplementedError

    def graph(self, method: str = "GET", path: str = "", **fields: Any) -> Any:
        return self._step("graph", None, method=method, path=path, **fields)

    def control(self, method: str = "GET", path: str = "", **fields: Any) -> Any:
        return self._step("control", None, method=method, path=path, **fields)

    def send(self, **fields: Any) -> Any:
        return self._step("send", None, **fields)

    def mark_read(self, message: str, **fields: Any) -> Any:
        return self._step("mark_read", None, message=message, **fields)

    def customer_writes(self, **fields: Any) -> Any:
        return self._step("customer_writes", None, **fields)

    def customer_reacts(self, **fields: Any) -> Any:
        return self._step("customer_reacts", None, **fields)

    def customer(self, wa_id: str, **fields: Any) -> Any:
        return self._step("customer", None, wa_id=wa_id, **fields)

    def deliver(self, message: str, **fields: Any) -> Any:
        return self._step("deliver", message, **fields)

    def read(self, message: str, **fields: Any) -> Any:
        return self._step("read", message, **fields)

    def fail(self, message: str, code: int, **fields: Any) -> Any:
        common = {key: fields.pop(key) for key in COMMON if key in fields}
        return self._step("fail", {"message": message, "code": code, **fields}, **common)

    def advance(self, duration: str | float, **fields: Any) -> Any:
        return self._step("advance", duration, **fields)

    def clock(self, **fields: Any) -> Any:
        return self._step("clock", None, **fields)

    def policy(self, **fields: Any) -> Any:
        return self._step("policy", None, **fields)

    def fault(self, **fields: Any) -> Any:
        return self._step("fault", None, **fields)

    def webhook(self, **fields: Any) -> Any:
        return self._step("webhook", None, **fields)

    def review(self, **fields: Any) -> Any:
        return self._step("review", None, **fields)

    def receiver(self, status: int, **fields: Any) -> Any:
        return self._step("receiver", status, **fields)

    def set(self, **variables: Any) -> Any:
        return self._step("set", dict(variables))

    def repeat(self, times: int, steps: list[Step], **fields: Any) -> Any:
        return self._step("repeat", None, times=times, steps=steps, **fields)

    def expect_webhooks(self, **fields: Any) -> Any:
        return self._step("expect_webhooks", None, **fields)

    def expect_message(self, id: str, **fields: Any) -> Any:
        return self._step("expect_message", None, id=id, **fields)

    def expect_messages(self, **fields: Any) -> Any:
        return self._step("expect_messages", None, **fields)

    def expect_state(self, checks: dict[str, Any], **fields: Any) -> Any:
        return self._step("expect_state", checks, **fields)

    def expect_requests(self, **fields: Any) -> Any:
        return self._step("expect_requests", None, **fields)

    def expect(self, **fields: Any) -> Any:
        return self._step("expect", None, **fields)


class StepList(Steps):
    """Steps recorded for `repeat(times, steps=StepList().send(...).advance(...).steps)`."""

    def __init__(self) -> None:
        self.steps: list[Step] = []

    def _step(self, kind: str, positional: Any = None, **fields: Any) -> StepList:
        self.steps.append(make_step(kind, positional, fields))
        return self


class ScenarioBuilder(StepList):
    """A scenario written in Python; `build()` gives the same `Scenario` a YAML file would."""

    def __init__(
        self,
        name: str,
        *,
        rules: list[str],
        description: str = "",
        tenant: dict[str, Any] | None = None,
        policy: dict[str, Any] | None = None,
        variables: dict[str, Any] | None = None,
        requires: list[str] | None = None,
        area: str = "python",
    ) -> None:
        super().__init__()
        if not rules:
            raise ValueError("a scenario names the rules it checks, e.g. rules=['SEED-MSG-1']")
        self.meta: dict[str, Any] = {
            "name": name,
            "rules": tuple(rules),
            "description": description,
            "tenant": dict(tenant or {}),
            "policy": dict(policy or {}),
            "variables": dict(variables or {}),
            "requires": tuple(requires or ()),
            "area": area,
        }

    def build(self) -> Scenario:
        return Scenario(steps=tuple(self.steps), **self.meta)

    def run(self, url: str | None = None, **options: Any) -> ScenarioResult:
        return run_scenario(self.build(), RunOptions(url=url, **options))

    def check(self, url: str | None = None, **options: Any) -> ScenarioResult:
        result = self.run(url, **options)
        if result.outcome == "skipped":
            import pytest

            pytest.skip(result.message)
        if not result.passed:
            raise AssertionError("\n" + result.report)
        return result


class Session(Steps):
    """Steps run at once against a live tenant; each returns what it produced (a response body, the matched
    webhooks, the message ...). A failing step raises `AssertionError` with the same report the runner prints."""

    def __init__(
        self, http: httpx.Client, tenant: dict[str, Any], *, receiver: Receiver | None = None, wait: float = 0.0
    ) -> None:
        self.context = Context(http, tenant, "session", receiver, wait)
        self.context.variables.update(
            {"tenant": tenant["id"]}
            | {
                key: tenant[key]
                for key in ("phone_number_id", "waba_id", "business_id", "display_phone_number")
                if key in tenant
            }
        )
        self.scenario = Scenario(name="session", steps=(), area="python")
        self.count = 0

    @property
    def variables(self) -> dict[str, Any]:
        return self.context.variables

    def _step(self, kind: str, positional: Any = None, **fields: Any) -> Any:
        self.count += 1
        step = make_step(kind, positional, fields)
        try:
            return execute(self.context, step, str(self.count))
        except StepError as error:
            report = format_failure(self.scenario, error.index, error.step, error.cause, self.context)
            raise AssertionError("\n" + report) from error.cause
