"""scenarios/schema.json is a valid JSON Schema, knows every step kind, and accepts exactly what the loader does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from scenarios import STEPS, ScenarioSyntaxError, load_text
from scenarios.loader import LIBRARY, _Loader, library

SCHEMA = json.loads((Path(__file__).parents[2] / "scenarios" / "schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_schema_names_every_step_kind() -> None:
    kinds = {next(iter(option["required"])) for option in SCHEMA["$defs"]["step"]["oneOf"]}
    assert kinds == set(STEPS)


@pytest.mark.parametrize("path", library(), ids=lambda p: p.relative_to(LIBRARY).as_posix())
def test_library_file_validates_against_schema(path: Path) -> None:
    document = yaml.load(path.read_text(), Loader=_Loader)
    errors = [error.message for error in VALIDATOR.iter_errors(document)]
    assert errors == []


BAD: list[Any] = [
    pytest.param("rules: [SEED-MSG-1]\nsteps:\n  - sned: {to: '1', text: hi}\n", id="unknown-step"),
    pytest.param("steps:\n  - advance: 1d\n", id="no-rules"),
    pytest.param("rules: [SEED-MSG-1]\nsteps:\n  - advance: 1d\n    send: {to: '1', text: x}\n", id="two-kinds"),
    pytest.param("rules: [SEED-MSG-1]\nsteps: []\n", id="no-steps"),
    pytest.param("rules: [SEED-MSG-1]\nstep:\n  - advance: 1d\n", id="unknown-key"),
    pytest.param("rules: [SEED-MSG-1]\nrequires: [teleport]\nsteps:\n  - advance: 1d\n", id="unknown-feature"),
]


@pytest.mark.parametrize("text", BAD)
def test_schema_and_loader_both_refuse(text: str) -> None:
    assert list(VALIDATOR.iter_errors(yaml.load(text, Loader=_Loader)))
    with pytest.raises(ScenarioSyntaxError):
        load_text(text)


def test_loader_error_names_line_and_suggests_the_step() -> None:
    with pytest.raises(ScenarioSyntaxError, match=r"step 2 \(line 5\): unknown step 'sned' \(did you mean send\?\)"):
        load_text("rules: [SEED-MSG-1]\nsteps:\n  - advance: 1d\n\n  - sned: {to: '1', text: hi}\n", path="x.yaml")
