"""`wa-sandbox front --shard URL ...` in front of shards it did not start (`serve --shard-index I --shard-count N`),
with an admin token; and a scenario run and a `SandboxClient` against the sharded server, unchanged."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sandbox.cluster.workers import _wait_healthy, running_workers
from sandbox.ids import shard_for
from sandbox.testing import SandboxClient, free_port

pytestmark = pytest.mark.skipif(
    not any(os.access(p, os.X_OK) for p in ("/usr/sbin/haproxy", "/usr/bin/haproxy")),
    reason="needs HAProxy from Debian (apt-get install haproxy), as .ci/run installs it",
)
ROOT = Path(__file__).resolve().parents[2]
ADMIN = "an-admin-token-of-the-team"
HEADERS = {"Authorization": f"Bearer {ADMIN}"}


def _serve(*flags: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "sandbox", *flags, "--admin-token", ADMIN, "--quiet"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def front() -> Iterator[str]:
    ports = [free_port(), free_port()]
    shards = [
        _serve("serve", "--port", str(p), "--shard-index", str(i), "--shard-count", "2") for i, p in enumerate(ports)
    ]
    port = free_port()
    urls = [f"--shard=http://127.0.0.1:{p}" for p in ports]
    process = _serve("front", "--port", str(port), *urls)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", process, HEADERS)
        yield f"http://127.0.0.1:{port}"
    finally:
        for child in (process, *shards):
            child.terminate()
        for child in (process, *shards):
            child.wait(timeout=20)


def test_front_routes_to_shards_it_did_not_start(front: str) -> None:
    names = [next(f"f{n}" for n in range(50) if shard_for(f"f{n}", 2) == shard) for shard in (0, 1)]
    with httpx.Client(base_url=front, headers=HEADERS, timeout=10) as http:
        assert http.get("/_sandbox/health").json()["shards"][1]["tenants"] == 1  # `default`
        for name in names:
            doc = http.post("/_sandbox/tenants", json={"name": name}).json()
            client = SandboxClient(http, doc["id"])
            assert client.document["id"] == name
            assert client.send_text("16505551234", "hello").status_code == 200
            answer = http.get(
                f"/v23.0/{doc['phone_number_id']}", headers={"Authorization": f"Bearer {doc['access_token']}"}
            )
            assert answer.status_code == 200
        assert {t["id"] for t in http.get("/_sandbox/tenants").json()["data"]} == {"default", *names}
    refused = httpx.get(f"{front}/_sandbox/tenants")
    assert refused.status_code == 401 and refused.json()["error"]["type"] == "SandboxError"


def test_the_dashboard_login_passes_through_the_front(front: str) -> None:
    with httpx.Client(base_url=front, timeout=10) as browser:
        assert browser.get("/_sandbox/ui/").status_code == 401
        login = browser.get(f"/_sandbox/ui/?token={ADMIN}")
        assert login.status_code < 400 and browser.cookies
        listing = browser.get("/_sandbox/ui/")
        assert listing.status_code == 200 and "default" in listing.text


def test_a_front_refuses_shards_listed_out_of_order() -> None:
    ports = [free_port(), free_port()]
    shards = [
        _serve("serve", "--port", str(p), "--shard-index", str(i), "--shard-count", "2") for i, p in enumerate(ports)
    ]
    try:
        reversed_urls = [f"--shard=http://127.0.0.1:{p}" for p in reversed(ports)]
        answer = subprocess.run(
            [
                sys.executable,
                "-m",
                "sandbox",
                "front",
                "--port",
                str(free_port()),
                "--admin-token",
                ADMIN,
                *reversed_urls,
            ],
            cwd=ROOT,
            capture_output=True,
            timeout=90,
            check=False,
        )
        assert answer.returncode == 2
        assert b"--shard-index 0 --shard-count 2" in answer.stderr
    finally:
        for shard in shards:
            shard.terminate()
            shard.wait(timeout=20)


def test_scenarios_run_against_two_workers_unchanged() -> None:
    with running_workers(2, "--quiet", cwd=str(ROOT)) as (base, _):
        run = subprocess.run(
            [sys.executable, "-m", "sandbox", "scenario", "run", "--url", base, "-q", "scenarios/library/messages"],
            cwd=ROOT,
            capture_output=True,
            timeout=240,
            check=False,
        )
    assert run.returncode == 0, run.stdout.decode()[-2000:] + run.stderr.decode()[-2000:]
