"""Crash safety: `kill -9` a real server with a data directory mid-load, start it again on the same directory, and
find every message it acknowledged more than one checkpoint interval (plus a margin) before the kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sandbox.testing import free_port

INTERVAL = 0.2
MARGIN = 1.0


@pytest.fixture
def start(tmp_path: Path) -> Iterator[object]:
    started: list[subprocess.Popen[bytes]] = []
    logs: list[object] = []

    def launch(port: int) -> tuple[subprocess.Popen[bytes], str]:
        command = [sys.executable, "-m", "sandbox", "serve", "--port", str(port), "--data-dir", str(tmp_path)]
        command += ["--checkpoint-interval", str(INTERVAL)]
        log = open(tmp_path / f"server-{port}.log", "wb")  # noqa: SIM115 (closed with the process)
        process = subprocess.Popen(command, stdout=log, stderr=log)
        logs.append(log)
        started.append(process)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/_sandbox/health", timeout=1).status_code == 200:
                    return process, base
            except httpx.HTTPError:
                pass
            assert process.poll() is None, (tmp_path / f"server-{port}.log").read_text()
            threading.Event().wait(0.05)
        raise AssertionError("the server did not start")

    yield launch
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
    for log in logs:
        log.close()


def test_kill_minus_9_under_load_loses_at_most_the_last_interval(start: object) -> None:
    process, base = start(free_port())  # type: ignore[operator]
    tenant = httpx.get(f"{base}/_sandbox/tenants/default", timeout=5).json()
    url = f"{base}/v23.0/{tenant['phone_number_id']}/messages"
    auth = {"Authorization": f"Bearer {tenant['access_token']}"}
    acknowledged: list[tuple[float, str]] = []
    stop = threading.Event()

    def send() -> None:
        with httpx.Client(timeout=5) as client:
            index = 0
            while not stop.is_set():
                body = {"messaging_product": "whatsapp", "to": f"1650{index % 10_000_000:07d}", "type": "text"}
                try:
                    answer = client.post(url, json={**body, "text": {"body": "hi"}}, headers=auth)
                except httpx.HTTPError:
                    return
                if answer.status_code == 200:
                    acknowledged.append((time.monotonic(), answer.json()["messages"][0]["id"]))
                index += 1

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and sender.is_alive():
        threading.Event().wait(0.05)
    killed_at = time.monotonic()
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    stop.set()
    sender.join(timeout=10)
    assert len(acknowledged) > 100, "the load ran"

    _, base = start(free_port())  # type: ignore[operator]
    kept = httpx.get(f"{base}/_sandbox/tenants/default/messages", params={"limit": 100_000}, timeout=30).json()
    found = {message["id"] for message in kept["data"]}
    due = [wamid for at, wamid in acknowledged if at < killed_at - INTERVAL - MARGIN]
    assert due, "some messages were acknowledged well before the kill"
    missing = [wamid for wamid in due if wamid not in found]
    assert not missing, f"{len(missing)} of {len(due)} acknowledged messages were lost"
    assert httpx.get(f"{base}/_sandbox/health", timeout=5).json()["status"] == "ok"
