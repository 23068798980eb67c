"""What a scenario is (data), and what running one produced."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Outcome = Literal["passed", "failed", "error", "skipped"]
COMMON_KEYS = ("name", "save", "expect", "within")


@dataclass(frozen=True, slots=True)
class Step:
    """One step: its `kind` (`send`, `advance`, `expect_webhooks` ...), its argument as written, and the common
    options every step may carry (`name`, `save`, `expect`, `within`)."""

    kind: str
    args: Any
    name: str | None = None
    save: dict[str, str] | None = None
    expect: dict[str, Any] | None = None
    within: float | None = None
    line: int | None = None

    def title(self) -> str:
        from scenarios.values import render

        text = f"{self.kind}: {render(self.args)}"
        if len(text) > 100:
            text = text[:97] + "..."
        return f"{self.name} ({text})" if self.name else text


@dataclass(frozen=True, slots=True)
class Scenario:
    """A named script of steps against one fresh tenant, citing the rules it checks."""

    name: str
    steps: tuple[Step, ...]
    rules: tuple[str, ...] = ()
    description: str = ""
    requires: tuple[str, ...] = ()
    tenant: dict[str, Any] = field(default_factory=dict)
    policy: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    path: str | None = None
    area: str = ""

    @property
    def id(self) -> str:
        """`area/name` as shown in reports and JUnit (`messages/text` for scenarios/library/messages/text.yaml)."""
        return f"{self.area}/{self.name}" if self.area else self.name


class StepFailed(AssertionError):
    """An expectation that did not hold, or a call the sandbox refused: what was expected, what happened."""

    def __init__(
        self,
        summary: str,
        *,
        expected: Any = None,
        actual: Any = None,
        lines: list[str] | None = None,
        focus: str | None = None,
    ) -> None:
        super().__init__(summary)
        self.summary = summary
        self.expected = expected
        self.actual = actual
        self.lines = lines or []
        self.focus = focus


class Skip(Exception):
    """The scenario needs something this sandbox (or this way of running it) does not offer yet."""


@dataclass(slots=True)
class StepRecord:
    index: str
    step: Step
    seconds: float
    ok: bool


@dataclass(slots=True)
class ScenarioResult:
    scenario: Scenario
    outcome: Outcome
    seconds: float = 0.0
    message: str = ""
    report: str = ""
    steps: list[StepRecord] = field(default_factory=list)
    tenant: str | None = None
    # The sandbox at `--url` stopped answering during this scenario (the run stops rather than fail every other).
    lost_server: bool = False

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"
