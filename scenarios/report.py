"""What people and CI read: failure reports, terminal progress, a summary and JUnit XML."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import orjson

from scenarios.model import Scenario, ScenarioResult, Step, StepFailed
from scenarios.values import render

if TYPE_CHECKING:
    from scenarios.context import Context

MARKS = {"passed": "✓", "failed": "✗", "error": "!", "skipped": "-"}
COLOURS = {"passed": "32", "failed": "31", "error": "31", "skipped": "33"}


def _pretty(value: Any, indent: str) -> str:
    if len(render(value)) <= 100:
        return render(value)
    if isinstance(value, dict | list):
        try:
            text = orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
        except TypeError:
            text = render(value)
        lines = text.splitlines()
        if len(lines) > 30:
            lines = [*lines[:30], "..."]
        return ("\n" + indent).join(lines)
    return render(value)


def format_failure(
    scenario: Scenario, index: str | None, step: Step | None, cause: BaseException, context: Context | None
) -> str:
    """The whole story of one failure: the scenario, the step as written, expected against actual, the journal."""
    lines = [f"{scenario.id}: {scenario.description or scenario.name}"]
    if scenario.rules:
        lines.append(f"  rules: {', '.join(scenario.rules)}")
    if step is not None:
        place = scenario.path or "<scenario>"
        lines.append(f"  at {place}, step {index}" + (f" (line {step.line})" if step.line else ""))
        lines.append(f"    - {step.title()}")
    lines.append(f"  {cause}")
    if isinstance(cause, StepFailed):
        lines += [f"    {line}" for line in cause.lines]
        if cause.expected is not None:
            lines.append(f"  expected: {_pretty(cause.expected, '            ')}")
        if cause.actual is not None:
            lines.append(f"  actual:   {_pretty(cause.actual, '            ')}")
    if context is not None:
        focus = cause.focus if isinstance(cause, StepFailed) else None
        if context.variables:
            shown = {k: v for k, v in context.variables.items() if k not in context.builtins}
            lines.append(f"  variables: {render(shown)}")
        lines += [f"  {line}" for line in context.journal_lines(focus)]
        lines.append(f"  tenant: {context.tenant['id']} ({context.mode})")
    return "\n".join(lines) + "\n"


class Progress:
    """One line per finished scenario (`[3/24] ✓ messages/text  0.04s`), colour on a terminal."""

    def __init__(self, total: int, stream: TextIO | None = None, *, quiet: bool = False) -> None:
        self.total = total
        self.stream = stream or sys.stdout
        self.count = 0
        self.quiet = quiet
        self.colour = hasattr(self.stream, "isatty") and self.stream.isatty()

    def paint(self, outcome: str, text: str) -> str:
        return f"\033[{COLOURS[outcome]}m{text}\033[0m" if self.colour else text

    def __call__(self, result: ScenarioResult) -> None:
        self.count += 1
        if (self.quiet and result.outcome == "passed") or (result.lost_server and not result.report):
            return  # the scenarios not run once the sandbox went away are counted once, in the summary
        width = len(str(self.total))
        line = (
            f"[{self.count:>{width}}/{self.total}] {self.paint(result.outcome, MARKS[result.outcome])} "
            f"{result.scenario.id:<50} {result.seconds:6.2f}s"
        )
        if result.outcome == "skipped":
            line += f"  skipped: {result.message}"
        elif result.outcome != "passed":
            line += f"  {result.outcome}: {result.message.splitlines()[0][:100]}"
        self.stream.write(line + "\n")
        self.stream.flush()

    def summary(self, results: list[ScenarioResult]) -> None:
        bad = [r for r in results if r.outcome in ("failed", "error")]
        for result in bad:
            if result.report:
                self.stream.write("\n" + self.paint(result.outcome, f"{result.outcome.upper()} ") + result.report)
        not_run = [r for r in bad if r.lost_server and not r.report]
        if not_run:
            self.stream.write(f"\n{len(not_run)} scenario(s) not run: the sandbox stopped answering\n")
        counts = {outcome: sum(1 for r in results if r.outcome == outcome) for outcome in MARKS}
        seconds = sum(r.seconds for r in results)
        text = ", ".join(f"{n} {outcome}" for outcome, n in counts.items() if n) or "no scenarios"
        self.stream.write(f"\n{text} ({seconds:.2f}s of scenario time)\n")
        self.stream.flush()


def junit_xml(results: list[ScenarioResult], suite_name: str = "wa-sandbox scenarios") -> bytes:
    """JUnit XML as CI servers read it: one testcase per scenario, classname from its area."""
    suite = ElementTree.Element(
        "testsuite",
        {
            "name": suite_name,
            "tests": str(len(results)),
            "failures": str(sum(1 for r in results if r.outcome == "failed")),
            "errors": str(sum(1 for r in results if r.outcome == "error")),
            "skipped": str(sum(1 for r in results if r.outcome == "skipped")),
            "time": f"{sum(r.seconds for r in results):.3f}",
        },
    )
    for result in results:
        scenario = result.scenario
        classname = "scenarios." + scenario.area.replace("/", ".") if scenario.area else "scenarios"
        case = ElementTree.SubElement(
            suite,
            "testcase",
            {
                "classname": classname,
                "name": scenario.name,
                "time": f"{result.seconds:.3f}",
                **({"file": scenario.path} if scenario.path else {}),
            },
        )
        if scenario.rules:
            properties = ElementTree.SubElement(case, "properties")
            for rule in scenario.rules:
                ElementTree.SubElement(properties, "property", {"name": "rule", "value": rule})
        if result.outcome == "skipped":
            ElementTree.SubElement(case, "skipped", {"message": result.message})
        elif result.outcome in ("failed", "error"):
            tag = "failure" if result.outcome == "failed" else "error"
            element = ElementTree.SubElement(
                case,
                tag,
                {"message": result.message.splitlines()[0] if result.message else result.outcome, "type": tag},
            )
            element.text = result.report
    root = ElementTree.Element("testsuites")
    root.append(suite)
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)


def write_junit(results: list[ScenarioResult], path: str | Path) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(junit_xml(results))
