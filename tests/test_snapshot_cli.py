"""`wa-sandbox snapshot ...` against a running server: save, list, export, delete, import, restore."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.cli import main
from sandbox.context import Sandbox
from sandbox.domain.commands import CreateTenant
from sandbox.services.tenants import create_tenant
from sandbox.settings import Settings
from sandbox.testing import running_server


def test_the_snapshot_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sandbox = Sandbox(Settings(seed=7))
    create_tenant(sandbox, CreateTenant(name="default"))
    with running_server(sandbox) as base:
        assert main(["snapshot", "--url", base, "save", "prepared", "--tenant", "default"]) == 0
        assert main(["snapshot", "--url", base, "list"]) == 0
        assert "prepared\tdefault\t" in capsys.readouterr().out
        file = tmp_path / "prepared.wa-snapshot"
        assert main(["snapshot", "--url", base, "export", "prepared", str(file)]) == 0
        assert file.read_bytes().startswith(b"wa-sandbox-snapshot ")
        assert main(["snapshot", "--url", base, "delete", "prepared"]) == 0
        assert main(["snapshot", "--url", base, "restore", "prepared"]) == 1
        assert "no snapshot 'prepared'" in capsys.readouterr().err
        assert main(["snapshot", "--url", base, "import", str(file)]) == 0
        assert main(["snapshot", "--url", base, "restore", "prepared"]) == 0
        assert '"id":"default"' in capsys.readouterr().out.replace(" ", "")


def test_an_unreachable_server_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["snapshot", "--url", "http://127.0.0.1:9", "list"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
