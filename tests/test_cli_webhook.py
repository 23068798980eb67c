"""`--webhook-url` passes Meta's handshake before the server starts, unless `--no-verify-webhook` says not to."""

from __future__ import annotations

import pytest

from sandbox import cli
from sandbox.domain.errors import Invalid
from sandbox.testing import RecordingTransport, free_port
from sandbox.webhooks.transport import Answer


def _settings(*flags: str) -> cli.Settings:
    return cli.settings_from(cli.build_parser().parse_args(["serve", *flags]))


def test_the_default_tenants_callback_is_verified_with_its_verify_token() -> None:
    seen: list[dict[str, str]] = []

    def echo(url: str, params: dict[str, str]) -> Answer:
        seen.append({"url": url, **params})
        return Answer(200, params["hub.challenge"])

    settings = _settings("--webhook-url", "http://r.test/hook", "--verify-token", "s3cret")
    _, tenant = cli.build_sandbox(settings, RecordingTransport(challenge_answer=echo))
    assert tenant.webhook.url == "http://r.test/hook"
    assert seen[0]["url"] == "http://r.test/hook" and seen[0]["hub.verify_token"] == "s3cret"
    assert "http://r.test/hook  (verified)" in cli.banner(settings, tenant)


def test_a_refused_handshake_stops_the_start() -> None:
    refusing = RecordingTransport(challenge_answer=lambda url, params: Answer(403, "Forbidden"))
    with pytest.raises(Invalid, match="verification failed"):
        cli.build_sandbox(_settings("--webhook-url", "http://r.test/hook"), refusing)


def test_serve_says_how_to_start_with_a_receiver_that_is_not_up(capsys: pytest.CaptureFixture[str]) -> None:
    nothing = f"http://127.0.0.1:{free_port()}/hook"
    assert cli.main(["serve", "--port", str(free_port()), "--webhook-url", nothing]) == 2
    error = capsys.readouterr().err
    assert nothing in error and "--no-verify-webhook" in error


def test_no_verify_webhook_saves_the_url_unverified(monkeypatch: pytest.MonkeyPatch) -> None:
    refusing = RecordingTransport(challenge_answer=lambda url, params: Answer(403, "Forbidden"))
    unverified = _settings("--webhook-url", "http://r.test/hook", "--no-verify-webhook")
    _, tenant = cli.build_sandbox(unverified, refusing)
    assert tenant.webhook.url == "http://r.test/hook"
    assert "(not verified: --no-verify-webhook)" in cli.banner(unverified, tenant)
    monkeypatch.setenv("WA_SANDBOX_VERIFY_WEBHOOK", "false")
    _, tenant = cli.build_sandbox(_settings("--webhook-url", "http://r.test/hook"), refusing)
    assert tenant.webhook.url == "http://r.test/hook"
