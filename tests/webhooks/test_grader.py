"""`wa-sandbox check-webhook`: what it says when nothing listens, when checks are skipped, and why a burst failed."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from sandbox.cli import main
from sandbox.grader import Report, check_webhook, exit_code, unacknowledged
from sandbox.testing import WebhookSink, free_port

SECRET = "0123456789abcdef0123456789abcdef"
TOKEN = "verify-me"


def test_nothing_listening_is_one_line_and_a_non_zero_exit(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}/hook"
    assert main(["check-webhook", url, "--app-secret", SECRET, "--verify-token", TOKEN]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"wa-sandbox check-webhook: cannot reach {url}: ")
    assert err.rstrip().endswith("is the receiver running?")


@pytest.mark.server
def test_skipped_checks_are_named_and_fail_the_exit_code_unless_allowed(
    serve_app: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve_app(WebhookSink(app_secret=SECRET, verify_token=TOKEN)) as url:
        assert main(["check-webhook", url + "/hook", "--burst", "3"]) == 3
        out = capsys.readouterr().out
        assert main(["check-webhook", url + "/hook", "--burst", "3", "--allow-skipped"]) == 0
    assert "6 skipped: INCOMPLETE" in out
    assert "6 check(s) skipped, not run, because no --verify-token and no --app-secret was given" in out
    assert "--allow-skipped" in out
    assert "OK" not in out.splitlines()[-2]


@pytest.mark.server
def test_a_complete_pass_exits_zero(serve_app: Any) -> None:
    with serve_app(WebhookSink(app_secret=SECRET, verify_token=TOKEN)) as url:
        report = asyncio.run(check_webhook(url + "/hook", SECRET, TOKEN, burst=5))
    assert report.complete and report.passed
    assert exit_code(report, allow_skipped=False) == 0
    assert "INCOMPLETE" not in report.render()


def test_a_failed_check_wins_over_allow_skipped() -> None:
    report = Report("http://x")
    report.add("burst", "fail", "0/1")
    report.add("signed payload", "skip", "no --app-secret given")
    assert exit_code(report, allow_skipped=True) == 1


def test_a_failed_burst_counts_why() -> None:
    answers = [
        (200, 1.0, None),
        (503, 1.0, None),
        (503, 1.0, None),
        (None, 5000.0, "TimeoutError"),
        (None, 2.0, "ServerDisconnectedError: Server disconnected"),
        (None, 2.0, "ClientOSError: [Errno 104] Connection reset by peer"),
    ]
    assert unacknowledged(answers, 5.0) == (
        "2 × HTTP 503, 2 × connection reset or closed, 1 × timeout (no answer within 5 s)"
    )


@pytest.mark.server
def test_a_receiver_that_errors_in_the_burst_is_told_the_status(serve_app: Any) -> None:
    sink = WebhookSink(app_secret=SECRET, verify_token=TOKEN)
    with serve_app(sink) as url:

        async def graded() -> Report:
            # the 7 correctly signed POSTs before the burst are answered 200; the burst's 4 get 500
            sink.answer_next("ok", times=7)
            sink.answer_next("error", times=4)
            return await check_webhook(url + "/hook", SECRET, TOKEN, burst=4)

        report = asyncio.run(graded())
    burst = next(c for c in report.checks if c.name == "burst")
    assert burst.verdict == "fail"
    assert "4 × HTTP 500" in burst.detail


@pytest.mark.parametrize("flags", [["--burst", "100000"], ["--burst", "-1"], ["--timeout", "0"], ["--timeout", "x"]])
def test_burst_and_timeout_are_bounded(flags: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["check-webhook", "http://127.0.0.1:9/hook", *flags])
    assert exit_.value.code == 2
    assert f"argument {flags[0]}:" in capsys.readouterr().err
