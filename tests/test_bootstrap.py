"""scripts/bootstrap says what it is doing on a first run (a silent minute looks like a hang), and nothing after."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Stands in for python3 (`-m venv .venv`) and for .venv/bin/python (`-m pip install ...`): records, installs nothing.
FAKE_PYTHON = """#!/usr/bin/env bash
if [ "$1 $2" = "-m venv" ]; then mkdir -p "$3/bin" && cp "$0" "$3/bin/python"; fi
echo "$@" >> "$(dirname "$0")/calls"
"""


def _bootstrap(project: Path, python: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHON": str(python)}
    env.pop("WA_SANDBOX_EXTRAS", None)
    return subprocess.run(
        ["bash", str(project / "scripts" / "bootstrap")], capture_output=True, text=True, env=env, timeout=60
    )


def test_a_first_run_says_it_installs_and_a_second_is_silent(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "bootstrap", tmp_path / "scripts" / "bootstrap")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    python = tmp_path / "fake-python"
    python.write_text(FAKE_PYTHON)
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    first = _bootstrap(tmp_path, python)
    assert first.returncode == 0, first.stderr
    assert first.stdout == ""
    assert "creating .venv and installing wa-sandbox [test,load,ui-test] (first run, about a minute)" in first.stderr
    assert "pip install --quiet -e .[test,load,ui-test]" in (tmp_path / ".venv" / "bin" / "calls").read_text()
    second = _bootstrap(tmp_path, python)
    assert (second.returncode, second.stdout, second.stderr) == (0, "", "")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'y'\n")
    changed = _bootstrap(tmp_path, python)
    assert "pyproject.toml or the extras changed: updating .venv" in changed.stderr
