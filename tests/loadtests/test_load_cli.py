"""`wa-sandbox load` as a user meets it: a missing extra, its help, its progress lines, the sink's port, the chart."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from loadtests import cli as load_cli
from loadtests.progress import accepted_so_far
from loadtests.report import WEBHOOK_STATUSES, _chart
from sandbox.cli import main

SEND = "/{phone_number_id}/messages"


def test_without_the_load_extra_it_stops_at_once_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "locust" else real(name, *a))
    assert main(["load", "--duration", "1", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == "wa-sandbox load: needs the `load` extra (locust missing): pip install 'wa-sandbox[load]'\n"
    assert list(tmp_path.iterdir()) == []


def test_help_shows_each_default_once_and_explains_the_seed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["load", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: None)" not in text and "(default: 60.0)" not in text and "(default: steady)" not in text
    assert "--seed SEED seeds the load tenants' worlds" in text
    assert "(default 60)" in text and "pip install 'wa-sandbox[load]'" in text
    assert load_cli.missing_load_extra() == []


def test_progress_counts_the_sends_locust_accepted(tmp_path: Path) -> None:
    history = tmp_path / "locust_stats_history.csv"
    assert accepted_so_far(history, SEND) is None
    header = "Timestamp,User Count,Type,Name,Requests/s,Failures/s,Total Request Count,Total Failure Count\n"
    history.write_text(
        header
        + f"1,4,POST,{SEND},80,0,80,0\n"
        + "1,4,POST,/{phone_number_id}/messages [130429 expected],3,0,3,0\n"
        + "1,4,,Aggregated,83,0,83,0\n"
        + f"2,4,POST,{SEND},80,1,161,1\n"
    )
    assert accepted_so_far(history, SEND) == 160


def test_progress_reads_only_the_end_of_a_long_history(tmp_path: Path) -> None:
    history = tmp_path / "locust_stats_history.csv"
    rows = [f"{t},4,POST,{SEND},80,0,{t * 80},0\n" for t in range(1, 5000)]
    history.write_text("Timestamp,User Count,Type,Name,Requests/s,Failures/s,Total Request Count,Total Failure Count\n")
    with history.open("a") as handle:
        handle.writelines(rows)
    assert accepted_so_far(history, SEND) == 4999 * 80


def test_the_sink_on_a_taken_port_is_one_line() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "loadtests.sink", "--port", str(port), "--max-seconds", "5"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert done.stdout == ""
    assert (
        done.stderr
        == f"python -m loadtests.sink: port {port} is in use: pick another with --port (0 picks a free one)\n"
    )


def test_the_chart_legends_sit_outside_the_plots(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import matplotlib.pyplot as plt

    figures: list[Any] = []
    monkeypatch.setattr(plt, "close", figures.append)
    rows = [
        {
            "second": second,
            "accepted": 80,
            "rejected": 0,
            **{f"webhooks_{status}": 80 for status in WEBHOOK_STATUSES},
            "send_p50_ms": 2.0,
            "send_p99_ms": 9.0,
            "read_lag_p50_ms": 300.0,
            "read_lag_p99_ms": 500.0,
            "sandbox_cpu_pct": 60.0,
            "sandbox_rss_mb": 120.0,
        }
        for second in range(30)
    ]
    summary = {"profile": "steady", "offered_rate_per_number": 80, "numbers": 1, "accepted_per_s_steady_mean": 80}
    assert _chart(tmp_path / "chart.png", rows, summary) == "chart.png"
    [figure] = figures
    renderer = figure.canvas.get_renderer()
    legends = [axis.get_legend() for axis in figure.axes if axis.get_legend() is not None]
    assert len(legends) == 3  # one per panel, the RSS twin's lines in the bottom one
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for axis in figure.axes:
            assert not box.overlaps(axis.get_window_extent(renderer))
    plt.close(figure)


def test_a_sandbox_that_cannot_start_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["load", "--duration", "1", "--port", str(port), "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert (
        err[-1]
        == f"wa-sandbox load: the sandbox did not start: wa-sandbox: port {port} is in use: pick another with --port"
    )
