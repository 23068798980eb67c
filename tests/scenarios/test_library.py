"""Every scenario of the library passes in-process (or is skipped, with its reason, until its feature exists)."""

from __future__ import annotations

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
