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


ADMIN = "an-admin-token-long-enough"


@pytest.fixture
def uvicorn_runs(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    import uvicorn

    runs: list[dict[str, object]] = []
    # `serve` runs `uvicorn.Server(config).run()` (sandbox/server.py): record the config instead of serving.
    monkeypatch.setattr(uvicorn.Server, "run", lambda server, *a, **k: runs.append({"host": server.config.host}))
    return runs


@pytest.mark.parametrize("flags", [["--admin-token", "let-me-in"], ["--host", "0.0.0.0", "--admin-token", "x" * 15]])
def test_refuses_an_admin_token_too_short_to_be_a_secret(
    flags: list[str], uvicorn_runs: list[dict[str, object]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["serve", *flags]) == 2
    assert "at least 16 characters" in capsys.readouterr().err
    assert uvicorn_runs == []


def test_refuses_a_short_admin_token_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WA_SANDBOX_ADMIN_TOKEN", "short")
    with pytest.raises(ValueError, match="at least 16"):
        cli.settings_from(cli.build_parser().parse_args(["serve"]))


def test_warns_off_loopback_that_tenants_choose_the_urls_it_fetches(
    uvicorn_runs: list[dict[str, object]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["serve", "--host", "0.0.0.0", "--admin-token", ADMIN]) == 0
    out, err = capsys.readouterr()
    assert "warning" in err and "off loopback" in err
    assert "webhook URL" in err and "override_callback_uri" in err
    assert "drawn from `secrets`" in out
    assert [run["host"] for run in uvicorn_runs] == ["0.0.0.0"]


def test_no_warning_on_loopback(uvicorn_runs: list[dict[str, object]], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["serve", "--port", "8123"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert "fresh on every start" in out


@pytest.mark.parametrize(
    ("argv", "environ", "replays"),
    [
        (["serve"], {}, False),
        (["serve", "--seed", "0"], {}, True),
        (["serve"], {"WA_SANDBOX_SEED": "0"}, True),
    ],
)
def test_only_a_given_seed_replays(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], environ: dict[str, str], replays: bool
) -> None:
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    settings = cli.settings_from(cli.build_parser().parse_args(argv))
    assert (settings.replays, settings.world_seed) == (replays, 0)


@pytest.mark.parametrize(
    ("argv", "environ", "secret"),
    [
        (["serve"], {}, False),
        (["serve", "--secure-credentials"], {}, True),
        (["serve"], {"WA_SANDBOX_SECURE_CREDENTIALS": "true"}, True),
        (["serve"], {"WA_SANDBOX_SECURE_CREDENTIALS": "0"}, False),
        (["serve", "--host", "::", "--admin-token", ADMIN], {}, True),
    ],
)
def test_secure_credentials_when_asked_and_always_off_loopback(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], environ: dict[str, str], secret: bool
) -> None:
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    assert cli.settings_from(cli.build_parser().parse_args(argv)).secret_credentials is secret


@pytest.mark.parametrize(
    ("environ", "message"),
    [({"WA_SANDBOX_SECURE_CREDENTIALS": "maybe"}, "secure_credentials"), ({"WA_SANDBOX_SEED": str(2**64)}, "seed")],
)
def test_refuses_settings_it_cannot_serve(
    monkeypatch: pytest.MonkeyPatch, environ: dict[str, str], message: str
) -> None:
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ValueError, match=message):
        cli.settings_from(cli.build_parser().parse_args(["serve"]))
