"""The installed package in a user's project: no warnings, even under `-W error` and without `httpx2`.

A user's project has the sandbox and pytest, not this repository's test extras; starlette's `TestClient` warns
there (`Using httpx with starlette.testclient is deprecated`). Each run blocks `httpx2` to be that project.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WITHOUT_HTTPX2 = "import sys; sys.modules['httpx2'] = None; "


def _readme_example() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Using it in pytest", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found, "README's pytest section has no python example"
    return found.group(1)


def _run(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-W", "error", "-c", WITHOUT_HTTPX2 + code],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_readme_example_passes_under_w_error_in_a_fresh_project(tmp_path: Path) -> None:
    (tmp_path / "test_readme_example.py").write_text(_readme_example(), encoding="utf-8")
    pytest_main = "import pytest; raise SystemExit(pytest.main(['-W', 'error', '-p', 'no:cacheprovider', '-q']))"
    run = _run(pytest_main, tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout and "warning" not in run.stdout.lower(), run.stdout


def test_an_in_process_scenario_run_does_not_warn(tmp_path: Path) -> None:
    scenario = ROOT / "scenarios" / "library" / "webhooks" / "no_callback.yaml"
    cli_main = f"from sandbox.cli import main; raise SystemExit(main(['scenario', 'run', {str(scenario)!r}]))"
    run = _run(cli_main, tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Warning" not in run.stderr, run.stderr
