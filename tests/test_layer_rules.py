"""Rules on the source that import-linter cannot state: services speak in domain and Graph errors, never in
HTTP statuses, and "a number but not a bool" is written once."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ROOT / "sandbox" / "services"
STATUS_KEYWORDS = {"status", "http_status", "status_code"}
# `isinstance(x, int | float) and not isinstance(x, bool)`, `not isinstance(x, int) or isinstance(x, bool)`, ...
NOT_A_BOOL = re.compile(r"isinstance\([^()]*,\s*(int|float)[^()]*\).*isinstance\([^()]*,\s*bool\)")
HELPERS = {Path("sandbox/domain/errors.py"), Path("sandbox/control/parse.py")}


def http_refusals(source: str) -> list[int]:
    """Lines that name `SandboxError` or raise with an HTTP status literal (`Error(400, ...)`, `status=404`)."""
    lines = [number for number, line in enumerate(source.splitlines(), 1) if "SandboxError" in line]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            statuses = [*node.exc.args[:1], *(k.value for k in node.exc.keywords if k.arg in STATUS_KEYWORDS)]
            if any(isinstance(s, ast.Constant) and type(s.value) is int and 100 <= s.value <= 599 for s in statuses):
                lines.append(node.lineno)
    return sorted(lines)


def test_services_never_raise_an_http_status() -> None:
    found = {path.name: lines for path in sorted(SERVICES.rglob("*.py")) if (lines := http_refusals(path.read_text()))}
    assert found == {}, "raise Invalid / NotFound / Conflict (sandbox.domain.errors) or a GraphError instead"


def test_the_scans_catch_what_they_look_for() -> None:
    source = "raise SandboxError(400, 'no')\nraise Thing(status=404)\nraise GraphError(code, subcode=463)\n"
    assert http_refusals(source) == [1, 1, 2]
    assert NOT_A_BOOL.search("if isinstance(seed, int) and not isinstance(seed, bool):")
    assert NOT_A_BOOL.search("if not isinstance(rate, int | float) or isinstance(rate, bool) or rate < 0:")
    assert not NOT_A_BOOL.search("if isinstance(value, bool):")


def test_not_a_bool_lives_only_in_the_helpers() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("sandbox", "scenarios", "loadtests", "scripts")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path.relative_to(ROOT) not in HELPERS
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if NOT_A_BOOL.search(line)
    ]
    assert found == [], "use sandbox.domain.errors.is_number / is_integer, or a reader of sandbox/control/parse.py"
