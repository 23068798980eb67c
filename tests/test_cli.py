from __future__ import annotations

import argparse

import pytest

from sandbox import cli


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[argparse.Namespace]:
    calls: list[argparse.Namespace] = []
    monkeypatch.setattr(cli, "serve", lambda arguments: calls.append(arguments) or 0)
    return calls


@pytest.mark.parametrize("argv", [[], ["--port", "8001", "--seed", "3"], ["serve", "--port", "8001", "--seed", "3"]])
def test_flags_without_a_subcommand_mean_serve(served: list[argparse.Namespace], argv: list[str]) -> None:
    assert cli.main(argv) == 0
    [arguments] = served
    assert arguments.command == "serve"
    if argv:
        assert (arguments.port, arguments.seed) == (8001, 3)


def test_settings_come_from_flags_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WA_SANDBOX_PORT", "9000")
    monkeypatch.setenv("WA_SANDBOX_SEED", "5")
    arguments = cli.build_parser().parse_args(["serve", "--seed", "6"])
    settings = cli.settings_from(arguments)
    assert (settings.port, settings.seed, settings.host) == (9000, 6, "127.0.0.1")


def test_banner_prints_the_credentials_and_a_working_curl() -> None:
    settings = cli.settings_from(cli.build_parser().parse_args(["serve"]))
    _, tenant = cli.build_sandbox(settings)
    banner = cli.banner(settings, tenant)
    assert tenant.credentials.access_token in banner
    assert tenant.credentials.app_secret in banner
    assert f"/v23.0/{tenant.document()['phone_number_id']}/messages" in banner
    assert '"name":"hello_world"' in banner


def test_refuses_a_public_address_without_an_admin_token(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["serve", "--host", "0.0.0.0"]) == 2
    assert "admin token" in capsys.readouterr().err
