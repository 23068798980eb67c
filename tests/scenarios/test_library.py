"""Every scenario of the library passes in-process (or is skipped, with its reason, until its feature exists)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scenarios import RunOptions, load_file, run_scenario
from scenarios.loader import LIBRARY, library

FILES = library()


def test_library_is_not_empty_and_grouped_by_area() -> None:
    areas = {path.parent.name for path in FILES}
    assert {"messages", "window", "webhooks", "magic", "errors", "throughput", "faults"} <= areas


@pytest.mark.parametrize("path", FILES, ids=[path.relative_to(LIBRARY).with_suffix("").as_posix() for path in FILES])
def test_library_scenario(path: Path) -> None:
    result = run_scenario(load_file(path, LIBRARY), RunOptions())
    if result.outcome == "skipped":
        pytest.skip(result.message)
    assert result.passed, result.report


def test_every_seed_rule_has_a_scenario_citing_it() -> None:
    root = Path(__file__).resolve().parents[2]
    rules = set(re.findall(r"SEED-[A-Z]+-\d+", (root / "docs" / "reference" / "seed-rules.md").read_text()))
    cited: set[str] = set()
    for path in (root / "scenarios" / "library").rglob("*.yaml"):
        cited |= set(re.findall(r"SEED-[A-Z]+-\d+", path.read_text()))
    assert rules and sorted(rules - cited) == []
