"""The runner: failure reports a person can act on, exit codes, JUnit XML, skips, Python API, runs against a URL."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from sandbox.cli import main
from sandbox.services import decisions
from sandbox.testing import running_server
from scenarios import RunOptions, ScenarioBuilder, load_text, run_scenario
from scenarios.loader import LIBRARY
from scenarios.model import ScenarioResult
from scenarios.report import Progress
from scenarios.runner import load_all, run_all

LATE_REPLY_DELIVERED = """\
name: late-reply-delivered
description: deliberately wrong - a free-form reply 25 h later is delivered
rules: [SEED-MSG-1]
steps:
  - customer_writes: {from: "15551239001", text: "Hello?"}
  - advance: 25h
  - send: {to: "15551239001", text: "Sorry!"}
    save: {msg: "messages[0].id"}
  - advance: 1m
  - expect_webhooks: {wamid: $msg, statuses: [sent, delivered]}
"""

PASSING = """\
name: template-ok
rules: [SEED-TEMPLATE-1]
steps:
  - send: {to: "15551239002", template: hello_world}
"""


def test_failure_report_shows_step_expected_actual_and_journal() -> None:
    result = run_scenario(load_text(LATE_REPLY_DELIVERED, path="late.yaml"))
    assert result.outcome == "failed"
    report = result.report
    assert "at late.yaml, step 5 (line 10)" in report
    assert "expect_webhooks: {wamid: $msg, statuses: [sent, delivered]}" in report
    assert "statuses: expected exactly [sent, delivered]" in report
    assert "actual [failed]" in report
    assert "failed error 131047 Re-engagement message" in report
    assert "POST /v23.0/" in report


def test_a_refused_call_fails_the_step_with_the_envelope() -> None:
    text = "rules: [SEED-MSG-1]\nsteps:\n  - send: {to: '15551239003', template: nope}\n"
    result = run_scenario(load_text(text))
    assert result.outcome == "failed"
    assert "status: expected a success (2xx), got 404" in result.report
    assert "132001" in result.report


@pytest.mark.parametrize(
    ("step", "headline", "problem", "listed"),
    [
        (
            "expect_requests: {path: /messages, count: 2}",
            "the Graph requests are not as expected",
            "count: expected 2, got 1",
            "actual:   [POST /v23.0/",
        ),
        (
            "expect_requests: {status: 500}",
            "the Graph requests are not as expected",
            "count: expected at least one request, found none",
            "actual:   []",
        ),
        (
            "expect_messages: {direction: outbound, count: 3}",
            "the messages in the journal are not as expected",
            "count: expected 3, got 1",
            "actual:   [outbound template 15551239004",
        ),
        (
            "expect_messages: {direction: inbound}",
            "the messages in the journal are not as expected",
            "count: expected at least one message, found none",
            "actual:   []",
        ),
    ],
)
def test_journal_expectations_report_what_they_found(step: str, headline: str, problem: str, listed: str) -> None:
    text = f"rules: [SEED-TEMPLATE-1]\nsteps:\n  - send: {{to: '15551239004', template: hello_world}}\n  - {step}\n"
    result = run_scenario(load_text(text))
    assert result.outcome == "failed"
    assert headline in result.report
    assert problem in result.report
    assert listed in result.report


def test_undefined_variable_is_an_error_naming_it() -> None:
    text = "rules: [SEED-MSG-1]\nsteps:\n  - deliver: $never_saved\n"
    result = run_scenario(load_text(text))
    assert result.outcome == "error"
    assert "$never_saved is not defined" in result.message


def test_missing_feature_skips_with_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decisions, "_REVIEWERS", {})
    monkeypatch.setattr(decisions, "reviewers", dict)
    text = "rules: [SEED-VERIFY-2]\nrequires: [reviews]\nsteps:\n  - advance: 1d\n"
    result = run_scenario(load_text(text))
    assert result.outcome == "skipped"
    assert "requires reviews" in result.message


def test_cli_exit_codes_and_junit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "ok.yaml").write_text(PASSING)
    assert main(["scenario", "run", str(tmp_path), "--junit", str(tmp_path / "ok.xml")]) == 0
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "late.yaml").write_text(LATE_REPLY_DELIVERED)
    junit = tmp_path / "all.xml"
    assert main(["scenario", "run", str(tmp_path), "--junit", str(junit), "--jobs", "2"]) == 1
    out = capsys.readouterr().out
    assert "FAILED bad/late-reply-delivered" in out
    assert "1 passed, 1 failed" in out
    suite = ElementTree.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    failure = suite.find("testcase[@name='late-reply-delivered']/failure")
    assert failure is not None
    assert "statuses: expected exactly [sent, delivered]" in (failure.text or "")
    assert suite.find("testcase[@name='late-reply-delivered']/properties/property").get("value") == "SEED-MSG-1"


def test_cli_unreadable_file_is_an_error_not_a_crash(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "broken.yaml").write_text("rules: [SEED-MSG-1]\nsteps:\n  - send: {to: [\n")
    assert main(["scenario", "run", str(tmp_path)]) == 1
    assert "not valid YAML" in capsys.readouterr().out


def test_python_builder_uses_the_same_vocabulary() -> None:
    scenario = (
        ScenarioBuilder("late reply fails", rules=["SEED-MSG-1"])
        .customer_writes(from_="15551239004", text="Hi")
        .advance("25h")
        .send(to="15551239004", text="Sorry for the wait", save={"msg": "messages[0].id"})
        .advance("1m")
        .expect_webhooks(wamid="$msg", statuses=["failed"], error=131047)
    )
    assert scenario.run().passed


def test_session_failure_raises_assertion_with_report(wa_scenario) -> None:
    wa_scenario.customer_writes(from_="15551239005", text="Hi")
    sent = wa_scenario.send(to="15551239005", text="Hello")
    wa_scenario.advance("1m")
    with pytest.raises(AssertionError, match=r"statuses: expected exactly \[sent\]"):
        wa_scenario.expect_webhooks(wamid=sent["messages"][0]["id"], statuses=["sent"])


@pytest.mark.server
def test_runs_against_a_url_with_a_loopback_sink() -> None:
    text = """\
rules: [META-WH]
requires: [receiver]
steps:
  - receiver: 500
  - customer_writes: {from: "15551239006", text: "Hi"}
    save: {inbound: "messages[0].id"}
  - expect_webhooks: {wamid: $inbound, state: retrying, attempts: 2}
  - receiver: 200
  - advance: 1m
  - expect_webhooks: {wamid: $inbound, state: delivered, attempts: 3}
"""
    with running_server() as url:
        result = run_scenario(load_text(text), RunOptions(url=url, sink=True))
        assert result.passed, result.report
        skipped = run_scenario(load_text(text), RunOptions(url=url))
        assert skipped.outcome == "skipped"


def test_the_same_scenario_and_seed_print_the_same_report_at_the_documented_instant() -> None:
    first = run_scenario(load_text(LATE_REPLY_DELIVERED, path="late.yaml")).report
    second = run_scenario(load_text(LATE_REPLY_DELIVERED, path="late.yaml")).report
    assert first == second
    # 2026-01-05T09:00Z, the documented start, plus 25 hours and a minute.
    assert "2026-01-06T10:00:00Z  POST /v23.0/" in first
    assert "(attempts: 1, last answer 200)" in first
    assert "(delivered, 1 attempt)" in first


def test_a_scenario_may_start_its_tenant_clock_elsewhere() -> None:
    text = (
        "rules: [the scenario clock]\ntenant: {clock: {now: '2030-03-01T12:00:00Z'}}\n"
        "steps:\n  - control: {method: GET, path: /clock}\n    expect: {body: {now: {contains: '2030-03-01T12:00'}}}\n"
    )
    result = run_scenario(load_text(text))
    assert result.passed, result.report


@pytest.mark.server
def test_a_sandbox_that_dies_mid_run_stops_the_run_with_one_line_per_lost_scenario(tmp_path: Path) -> None:
    """The server killed after the first scenario: the one it was running says it got no answer, the rest are one
    summary line (not a failure and a traceback each)."""
    argv = [sys.executable, "-m", "sandbox", "--port", "0", "--quiet"]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        match = re.match(r"wa-sandbox listening on (http://127\.0\.0\.1:\d+) ", process.stdout.readline())
        assert match
        items = load_all([LIBRARY / "window", LIBRARY / "messages"])
        output = io.StringIO()
        progress = Progress(len(items), output)

        def kill_after_first(result: ScenarioResult) -> None:
            progress(result)
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)

        results = run_all(items, RunOptions(url=match.group(1)), progress=kill_after_first)
        progress.summary(results)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        process.stdout.close()
    assert results[0].outcome == "passed"
    lost = [result for result in results if result.lost_server]
    assert len(lost) == len(results) - 1 and all(result.outcome == "error" for result in lost)
    text = output.getvalue()
    assert "Traceback" not in text and "kept for inspection" not in text
    reported = [result for result in lost if result.report]
    not_run = len(lost) - len(reported)
    assert not_run > 0 and f"{not_run} scenario(s) not run: the sandbox stopped answering" in text
    assert all("no answer from" in result.message for result in reported)
    assert len(text.splitlines()) < 6 + 3 * len(reported), text
