"""The domain is importable with the standard library and `transitions` alone (no web stack, no faker)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Every third-party package the project depends on, except transitions (meta path finder refuses them).
BLOCKED = ["starlette", "uvicorn", "httpx", "aiohttp", "orjson", "yaml", "multipart", "faker", "jsonschema", "pywa"]
PROGRAM = f"""
import importlib.abc, sys
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {BLOCKED!r}:
            raise ImportError(f"the domain imported {{name}}")
        return None
sys.meta_path.insert(0, Refuse())
from sandbox.domain.lifecycle import lifecycles
import sandbox.domain.policy
names = sorted(lifecycles())
third_party = sorted({{m.split(".")[0] for m in sys.modules}} & {set(BLOCKED)!r})
print(names, third_party)
"""


def test_every_domain_module_imports_without_the_web_stack() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "'message'" in done.stdout and done.stdout.rstrip().endswith("[]"), done.stdout
