"""Scenario suites: a YAML scenario language, a runner and a library covering every rule the sandbox implements.

from scenarios import load_file, run_scenario
result = run_scenario(load_file(Path("scenarios/library/window/free_form_after_24h.yaml")))
"""

from scenarios.loader import discover, library, load_file, load_text
from scenarios.model import Scenario, ScenarioResult, Skip, Step, StepFailed
from scenarios.python import ScenarioBuilder, Session, StepList
from scenarios.report import junit_xml, write_junit
from scenarios.runner import RunOptions, load_all, run_all, run_scenario
from scenarios.steps import STEPS, step_kind
from scenarios.values import ScenarioSyntaxError

__all__ = [
    "STEPS",
    "RunOptions",
    "Scenario",
    "ScenarioBuilder",
    "ScenarioResult",
    "ScenarioSyntaxError",
    "Session",
    "Skip",
    "Step",
    "StepFailed",
    "StepList",
    "discover",
    "junit_xml",
    "library",
    "load_all",
    "load_file",
    "load_text",
    "run_all",
    "run_scenario",
    "step_kind",
    "write_junit",
]
