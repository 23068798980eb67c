"""WireMock as bench_send_path's yardstick: the stub it serves, its command line, finding and starting it, and the
per-process CPU accounting the per-core ratio rests on. The one test that runs WireMock installs it from npm into
the cache first if it is not there (as the bench does); without java or npm it says so and skips."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import urllib.request
from pathlib import Path

import orjson
import pytest
from starlette.testclient import TestClient

from loadtests import bench_send_path, wiremock
from loadtests.processes import free_port, stat_fields, tree_cpu_seconds


def test_the_stub_matches_every_send_path_and_nothing_else() -> None:
    mapping = wiremock.stub_mapping()
    assert mapping["request"]["method"] == "POST"
    pattern = re.compile(mapping["request"]["urlPathPattern"])  # Java's regex reads this one the same
    assert pattern.fullmatch("/v23.0/106540352242922/messages") and pattern.fullmatch("/v21.0/1/messages")
    assert not pattern.fullmatch("/v23.0/1/media") and not pattern.fullmatch("/v23.0/1/messages/x")
    assert mapping["response"]["status"] == 200
    assert orjson.loads(mapping["response"]["body"]) == wiremock.SEND_RESPONSE


def test_the_stub_answers_what_the_sandbox_answers_to_the_bench_send(
    client: TestClient, auth: dict[str, str], phone_number_id: str
) -> None:
    body = {**bench_send_path.TEMPLATE_BODY, "to": "+16500000001"}
    answer = client.post(f"/v23.0/{phone_number_id}/messages", headers=auth, json=body)
    assert answer.status_code == 200, answer.text
    real, stub = answer.json(), wiremock.SEND_RESPONSE
    assert real["contacts"] == stub["contacts"] and real.keys() == stub.keys()
    assert real["messages"][0].keys() == stub["messages"][0].keys()
    assert len(real["messages"][0]["id"]) == len(stub["messages"][0]["id"])
    for name, value in wiremock.RESPONSE_HEADERS.items():
        assert answer.headers[name].lower() == value.lower(), name


def test_the_command_line_runs_the_bundled_jar_on_loopback_without_journal(tmp_path: Path) -> None:
    argv = wiremock.argv("/usr/bin/java", tmp_path / "w.jar", 8123, tmp_path / "root")
    assert argv[:3] == ["/usr/bin/java", "-jar", str(tmp_path / "w.jar")]
    pairs = dict(itertools.pairwise(argv))
    assert pairs["--port"] == "8123" and pairs["--bind-address"] == "127.0.0.1"
    assert pairs["--root-dir"] == str(tmp_path / "root") and pairs["--use-chunked-encoding"] == "never"
    assert {"--no-request-journal", "--disable-request-logging", "--disable-banner"} <= set(argv)
    defaults = wiremock.argv("java", tmp_path / "w.jar", 8123, tmp_path / "root", journal=True)
    assert "--no-request-journal" not in defaults and "--use-chunked-encoding" in defaults


def test_java_versions_are_read_from_both_numbering_schemes() -> None:
    assert wiremock.java_major('openjdk version "17.0.15" 2025-04-15') == 17
    assert wiremock.java_major('java version "1.8.0_392"') == 8
    assert wiremock.java_major('openjdk version "21" 2023-09-19') == 21
    assert wiremock.java_major("no java here") is None


def test_the_jar_is_found_in_the_cache_and_npm_is_asked_only_without_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert wiremock.installed_jar(tmp_path) is None
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(wiremock.Unavailable, match="no npm"):
        wiremock.install(tmp_path)
    jar = tmp_path / "node_modules" / "wiremock" / "build" / f"wiremock-standalone-{wiremock.VERSION}.jar"
    jar.parent.mkdir(parents=True)
    jar.write_bytes(b"")
    assert wiremock.install(tmp_path) == jar  # no npm needed once cached


def test_the_cache_lives_under_the_users_cache_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert wiremock.cache_dir() == tmp_path / "wa-sandbox" / "wiremock"


def test_bench_options_bound_the_warm_up(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        bench_send_path.main(["--wiremock-warmup", "601"])
    assert exit_.value.code == 2 and "--wiremock-warmup 0..600" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bench_send_path.main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--no-wiremock" in text and "(default 60)" in text


def test_the_summary_compares_round_by_round_and_per_cpu_second() -> None:
    sandbox = [{"req_s": 1000.0, "server_cpu_pct": 100.0, "req_per_core_s": 1000.0}] * 3
    stub = [{"req_s": 2000.0, "server_cpu_pct": 400.0, "req_per_core_s": 500.0}] * 3
    text = wiremock.summary(sandbox, stub, 60)
    assert "ratio sandbox/WireMock: 0.500" in text and "per server core: 2.000" in text
    assert "JIT warmed for 60 s" in text and "per server core: met" in text


def test_a_stat_line_is_read_past_a_command_name_with_spaces_and_parentheses() -> None:
    line = "4242 (java (main) x) S 17 4242 4242 0 -1 4194304 100 0 0 0 250 30 5 6 20 0 19 0 1 2 3\n"
    assert stat_fields(line) == (17, 250, 30)


def test_cpu_is_summed_over_a_process_and_its_descendants_only(tmp_path: Path) -> None:
    def stat(pid: int, ppid: int, utime: int, stime: int) -> None:
        (tmp_path / str(pid)).mkdir()
        fields = ["S", str(ppid), *["0"] * 9, str(utime), str(stime), "0", "0"]
        (tmp_path / str(pid) / "stat").write_text(f"{pid} (p {pid}) {' '.join(fields)}\n")

    stat(10, 1, 100, 50)  # the server
    stat(11, 10, 30, 20)  # its child
    stat(12, 11, 7, 3)  # a grandchild
    stat(13, 1, 999, 999)  # someone else
    (tmp_path / "self").mkdir()
    ticks = os.sysconf("SC_CLK_TCK")
    assert tree_cpu_seconds(10, proc=str(tmp_path)) == pytest.approx(210 / ticks)
    assert tree_cpu_seconds(12, proc=str(tmp_path)) == pytest.approx(10 / ticks)
    assert tree_cpu_seconds(99, proc=str(tmp_path)) == 0.0


def test_the_cached_wiremock_serves_the_stub() -> None:
    try:
        server = wiremock.start(free_port())  # installs it into the cache first if needed
    except wiremock.Unavailable as error:
        pytest.skip(f"WireMock cannot run here: {error}")
    try:
        request = urllib.request.Request(f"http://127.0.0.1:{server.port}/v23.0/1/messages", data=b"{}", method="POST")
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert orjson.loads(answer.read()) == wiremock.SEND_RESPONSE
            assert answer.headers["Content-Length"] is not None
        assert tree_cpu_seconds(server.process.pid) > 0
    finally:
        server.stop()
    assert server.process.poll() is not None
