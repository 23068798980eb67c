"""docs/reference/sandbox-client.md documents every public member of `SandboxClient`, and its examples run."""

from __future__ import annotations

import re
from pathlib import Path

from sandbox.testing import SandboxClient

ROOT = Path(__file__).resolve().parents[1]
PAGE = (ROOT / "docs" / "reference" / "sandbox-client.md").read_text(encoding="utf-8")
HEADINGS = re.findall(r"^### `([A-Za-z_]+)", PAGE, re.MULTILINE)


def test_every_public_member_has_a_section() -> None:
    public = {name for name in dir(SandboxClient) if not name.startswith("_")}
    assert public - set(HEADINGS) == set(), "undocumented in docs/reference/sandbox-client.md"
    assert set(HEADINGS) - public - {"SandboxClient"} == set(), "documented but gone"


def test_the_page_is_linked_from_the_readme_and_the_testing_guide() -> None:
    assert "docs/reference/sandbox-client.md" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert "reference/sandbox-client.md" in (ROOT / "docs" / "testing.md").read_text(encoding="utf-8")


def test_the_method_examples_run_in_order_on_the_wa_client_fixture(wa_client: SandboxClient) -> None:
    namespace = {"wa_client": wa_client}
    for section in re.split(r"^### ", PAGE, flags=re.MULTILINE)[1:]:
        for block in re.findall(r"```python\n(.*?)```", section, re.DOTALL):
            if "wa_client" in block:
                exec(compile(block, f"sandbox-client.md: {section.splitlines()[0]}", "exec"), namespace)
