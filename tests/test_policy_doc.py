from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from tests.domain.test_policy import ExtendedPolicy

ROOT = Path(__file__).resolve().parent.parent


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("policy_doc", ROOT / "scripts" / "policy_doc.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_policy_doc_is_generated_from_the_declarations() -> None:
    assert (ROOT / "docs" / "policy.md").read_text() == _script().render(), "run: python scripts/policy_doc.py"


def test_a_new_group_is_documented_without_touching_the_script() -> None:
    text = _script().render(ExtendedPolicy)
    assert "## `reviews`" in text and "Template reviews: how long they take and how they end." in text
    row = '| `reviews.outcome` | `review_outcome` | one of APPROVED, REJECTED | `"APPROVED"` | the decision |'
    assert row in text
