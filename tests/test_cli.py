from __future__ import annotations

import argparse
import re
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

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

    def run(server: uvicorn.Server, sockets: list[socket.socket] | None = None) -> None:
        [listener] = sockets or [None]
        runs.append({"host": server.config.host, "bound": listener.getsockname()[1] if listener else None})

    # `serve` runs `uvicorn.Server(config).run(sockets=...)` (sandbox/server.py): record it instead of serving.
    monkeypatch.setattr(uvicorn.Server, "run", run)
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
    assert cli.main(["serve", "--host", "0.0.0.0", "--port", "0", "--admin-token", ADMIN]) == 0
    out, err = capsys.readouterr()
    assert "warning" in err and "off loopback" in err
    assert "webhook URL" in err and "override_callback_uri" in err
    assert "drawn from `secrets`" in out
    assert [run["host"] for run in uvicorn_runs] == ["0.0.0.0"]


def test_no_warning_on_loopback(uvicorn_runs: list[dict[str, object]], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["serve", "--port", "0"]) == 0
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


def test_the_banner_comes_after_the_port_is_bound(
    uvicorn_runs: list[dict[str, object]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["serve", "--port", "0"]) == 0
    [run] = uvicorn_runs
    banner = capsys.readouterr().out
    assert isinstance(run["bound"], int) and run["bound"] > 0
    assert f"listening on http://127.0.0.1:{run['bound']} " in banner


def test_a_taken_port_is_one_line_and_no_server(
    uvicorn_runs: list[dict[str, object]], capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert cli.main(["serve", "--port", str(port)]) == 1
    out, err = capsys.readouterr()
    assert (out, err) == ("", f"wa-sandbox: port {port} is in use: pick another with --port\n")
    assert uvicorn_runs == []


@pytest.mark.server
def test_a_served_sandbox_answers_as_soon_as_its_banner_is_printed() -> None:
    argv = [sys.executable, "-m", "sandbox", "--port", "0"]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as process:
        try:
            assert process.stdout is not None
            first = process.stdout.readline()
            match = re.match(r"wa-sandbox listening on (http://127\.0\.0\.1:\d+) ", first)
            assert match, first
            with urllib.request.urlopen(match.group(1) + "/_sandbox/health", timeout=10) as response:
                assert response.status == 200
        finally:
            process.terminate()
            process.wait(timeout=10)


@pytest.mark.parametrize(
    ("argv", "environ", "message"),
    [
        (["--graph-version", "23"], {}, "graph version '23' must look like v23.0"),
        ([], {"WA_SANDBOX_GRAPH_VERSION": "latest"}, "graph version 'latest' must look like v23.0"),
        ([], {"WA_SANDBOX_PORT": "abc"}, "WA_SANDBOX_PORT='abc': port must be an integer"),
        ([], {"WA_SANDBOX_READ_TIMEOUT": "soon"}, "WA_SANDBOX_READ_TIMEOUT='soon': read_timeout must be a number"),
        (["--port", "70000"], {}, "port must be from 0 to 65535 (WA_SANDBOX_PORT)"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    uvicorn_runs: list[dict[str, object]],
    argv: list[str],
    environ: dict[str, str],
    message: str,
) -> None:
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    assert cli.main(["serve", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"wa-sandbox: {message}") and err.count("\n") == 1
    assert uvicorn_runs == []


@pytest.mark.parametrize("version", ["v23.0", "v9.1", "v24.10"])
def test_graph_versions_of_the_routes_are_accepted(version: str) -> None:
    assert cli.settings_from(cli.build_parser().parse_args(["serve", "--graph-version", version])).graph_version == (
        version
    )


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_top_level_help_lists_the_commands_and_the_serve_flags_with_their_variables(
    flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main([flag])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for command in ("serve", "scenario", "check-webhook", "load"):
        assert f"\n    {command}" in out
    assert "wa-sandbox serve --help" in out
    assert "--port PORT" in out and "WA_SANDBOX_PORT" in out


def test_every_serve_flag_names_its_variable(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["serve", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    for name in ("HOST", "PORT", "SEED", "PROFILE", "WEBHOOK_URL", "VERIFY_TOKEN", "GRAPH_VERSION", "ADMIN_TOKEN"):
        assert f"[env WA_SANDBOX_{name}]" in help_text
    for name in ("LOG_LEVEL", "SECURE_CREDENTIALS", "TIMEOUT_KEEP_ALIVE", "LIMIT_CONCURRENCY", "READ_TIMEOUT"):
        assert f"[env WA_SANDBOX_{name}]" in help_text


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from sandbox import __version__

    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"wa-sandbox {__version__}\n"


def test_a_command_without_its_own_command_prints_its_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["scenario"]) == 2
    out, err = capsys.readouterr()
    assert out.startswith("usage: wa-sandbox scenario")
    assert "run" in out and "list" in out
    assert "required" not in out + err


def test_scenarios_against_a_url_where_nothing_listens_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    from sandbox.testing import free_port

    url = f"http://127.0.0.1:{free_port()}"
    assert cli.main(["scenario", "run", "--url", url]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"wa-sandbox scenario: cannot reach {url}: is the sandbox running? (wa-sandbox serve)\n"


def test_the_banner_says_a_data_directory_keeps_the_credentials(
    uvicorn_runs: list[dict[str, object]], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert cli.main(["serve", "--port", "0", "--data-dir", str(tmp_path / "world")]) == 0
    out, _ = capsys.readouterr()
    assert f"kept in the data directory {tmp_path / 'world'} across restarts" in out
    assert "fresh on every start" not in out
