"""`wa-sandbox load` across shards and locust workers: its options, the CPU it charges to each server process, the
report's section on them, the sink on a private address; and one short run over two shards and two locust workers."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import orjson
import pytest

from loadtests import shards
from loadtests.run import RunOptions
from loadtests.sink import _is_private, start_sink
from sandbox.cli import main
from sandbox.ids import shard_for

HAPROXY = any(os.access(p, os.X_OK) for p in ("/usr/sbin/haproxy", "/usr/bin/haproxy"))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (RunOptions(workers=0), "--workers must be 1..64"),
        (RunOptions(sandbox_url="http://h:8000", workers=2), "--sandbox-url is a sandbox running elsewhere"),
        (RunOptions(locust_workers=2, remote_workers=1), "not both"),
        (RunOptions(locust_workers=2, processes=2), "--processes is locust's own workers"),
        (RunOptions(remote_workers=300), "--remote-workers 0..256"),
        (RunOptions(master_port=70000), "--master-port"),
    ],
)
def test_options_that_cannot_go_together_are_refused(options: RunOptions, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        options.check()


def _health(cpu: list[float], coordinator: float | None = None, pids: tuple[int, ...] = (11, 12)) -> dict:
    if coordinator is None:
        return {"status": "ok", "process": {"pid": pids[0], "cpu_seconds": cpu[0], "max_rss_mb": 90.0}}
    return {
        "status": "ok",
        "process": {"pid": 10, "cpu_seconds": coordinator, "max_rss_mb": 70.0},
        "shards": [
            {"index": i, "url": f"http://h{i}:8000", "process": {"pid": pid, "cpu_seconds": c, "max_rss_mb": 80.0}}
            for i, (pid, c) in enumerate(zip(pids, cpu, strict=True))
        ],
    }


def test_each_shard_is_charged_the_cpu_of_the_messages_of_its_own_tenants() -> None:
    tenants = {shard: next(f"load-{n}" for n in range(1, 50) if shard_for(f"load-{n}", 2) == shard) for shard in (0, 1)}
    accepted = {tenants[0]: 1000, tenants[1]: 500}
    rows = shards.cpu_by_process(_health([1.0, 2.0], 0.5), _health([2.0, 3.5], 0.6), accepted, seconds=10)
    by_name = {row["process"]: row for row in rows}
    assert by_name["shard 0"]["cpu_s"] == 1.0 and by_name["shard 0"]["accepted"] == 1000
    assert by_name["shard 0"]["cpu_ms_per_accepted"] == 1.0 and by_name["shard 0"]["cpu_pct_mean"] == 10.0
    assert by_name["shard 1"]["cpu_ms_per_accepted"] == 3.0 and by_name["shard 1"]["url"] == "http://h1:8000"
    assert by_name["coordinator"]["accepted"] == 1500 and by_name["coordinator"]["cpu_s"] == pytest.approx(0.1)
    text = "\n".join(shards.markdown(rows, 150.0))
    assert "Aggregate: 150.00 accepted msgs/s over 2 sandbox process(es)" in text
    assert "| shard 1 | http://h1:8000 | 12 | 1.50 | 15.00 | 500 | 3.00 | 80.00 |" in text


def test_one_process_and_a_restarted_shard() -> None:
    (one,) = shards.cpu_by_process(_health([1.0]), _health([1.25]), {"load-1": 250}, seconds=5)
    assert (one["process"], one["cpu_ms_per_accepted"], one["cpu_pct_mean"]) == ("sandbox", 1.0, 5.0)
    rows = shards.cpu_by_process(_health([5.0, 5.0], 1.0), _health([0.1, 6.0], 1.0, (99, 12)), {}, seconds=5)
    assert rows[0]["cpu_s"] is None and rows[1]["cpu_s"] == 1.0  # a new pid: its CPU is not comparable
    assert shards.markdown(shards.cpu_by_process({}, {}, {}, 1.0), None) == []  # an older sandbox: no section


def test_the_sink_may_listen_on_one_private_address_only() -> None:
    assert _is_private("10.213.0.1") and _is_private("192.168.1.5") and _is_private("fd00::1")
    assert not _is_private("0.0.0.0") and not _is_private("8.8.8.8") and not _is_private("169.254.1.1")
    for host in ("0.0.0.0", "8.8.8.8"):
        with pytest.raises(ValueError, match="loopback or one private address"):
            asyncio.run(start_sink(host, 0))


@pytest.mark.skipif(not HAPROXY, reason="needs HAProxy from Debian (apt-get install haproxy), as .ci/run installs it")
def test_a_run_over_two_shards_and_two_locust_workers_reports_each_shard(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["load", "--duration", "4", "--rate", "20", "--numbers", "2", "--no-webhooks", "--out", str(tmp_path)]
    assert main([*argv, "--workers", "2", "--locust-workers", "2"]) == 0
    (run_dir,) = tmp_path.iterdir()
    summary = orjson.loads((run_dir / "summary.json").read_bytes())
    assert summary["locust_workers"] == 2 and summary["errors"] == {}
    assert len(list(run_dir.glob("calls-*.csv"))) == 2  # one per worker process
    processes = {row["process"]: row for row in summary["server_processes"]}
    assert set(processes) == {"shard 0", "shard 1", "coordinator"}
    assert processes["shard 0"]["accepted"] > 0 and processes["shard 1"]["accepted"] > 0
    assert processes["shard 0"]["accepted"] + processes["shard 1"]["accepted"] == summary["accepted"]
    assert "## Server processes" in capsys.readouterr().out
