"""`wa-sandbox serve --workers 2` on loopback: HAProxy sends each Graph call to its tenant's shard, the coordinator
lists, resets and checks the health of both (issue 19 part 3)."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from sandbox.app import create_app
from sandbox.cluster.workers import running_workers
from sandbox.context import Sandbox
from sandbox.domain.commands import CreateTenant
from sandbox.ids import shard_for
from sandbox.services.tenants import create_tenant

pytestmark = pytest.mark.skipif(
    not any(os.access(p, os.X_OK) for p in ("/usr/sbin/haproxy", "/usr/bin/haproxy")),
    reason="needs HAProxy from Debian (apt-get install haproxy), as .ci/run installs it",
)
ROOT = Path(__file__).resolve().parents[2]


def names_on(shard: int, count: int = 2, prefix: str = "t") -> str:
    return next(f"{prefix}{n}" for n in range(100) if shard_for(f"{prefix}{n}", count) == shard)


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    with running_workers(2, "--seed", "3", "--quiet", cwd=str(ROOT)) as running:
        yield running


def _create(base: str, name: str) -> dict:
    answer = httpx.post(f"{base}/_sandbox/tenants", json={"name": name}, timeout=10)
    assert answer.status_code == 201, answer.text
    return answer.json()


def _phone(base: str, tenant: dict, token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token or tenant['access_token']}"}
    return httpx.get(f"{base}/v23.0/{tenant['phone_number_id']}", headers=headers, timeout=10)


def test_tenants_on_two_shards_get_their_graph_calls(server: tuple[str, subprocess.Popen[bytes]]) -> None:
    base, _ = server
    first, second = _create(base, names_on(0)), _create(base, names_on(1))
    # Tokens minted by a shard carry it after `EAA`.
    assert first["access_token"][3:5] == "00" and second["access_token"][3:5] == "01"
    for tenant in (first, second):
        answer = _phone(base, tenant)
        assert answer.status_code == 200, answer.text
        assert answer.json()["id"] == tenant["phone_number_id"]
    # The other tenant's number is unknown to this one's shard: Graph's 100 / 33, as on one server.
    crossed = _phone(base, {**first, "phone_number_id": second["phone_number_id"]})
    assert crossed.status_code == 400 and crossed.json()["error"]["code"] == 100
    by_query = httpx.get(f"{base}/v23.0/{second['phone_number_id']}?access_token={second['access_token']}")
    assert by_query.status_code == 200
    listed = {t["id"] for t in httpx.get(f"{base}/_sandbox/tenants").json()["data"]}
    assert {"default", first["id"], second["id"]} <= listed
    issued = httpx.post(f"{base}/_sandbox/tenants/{second['id']}/tokens", json={}).json()["access_token"]
    assert _phone(base, second, issued).status_code == 200


def test_the_dashboard_lists_every_shard_and_forwards_tenant_pages(server: tuple[str, subprocess.Popen[bytes]]) -> None:
    base, _ = server
    tenant = _create(base, names_on(0, prefix="ui"))
    listing = httpx.get(f"{base}/_sandbox/ui/")
    assert listing.status_code == 200 and "default" in listing.text and tenant["id"] in listing.text
    page = httpx.get(f"{base}/_sandbox/ui/tenants/{tenant['id']}")
    assert page.status_code == 200 and tenant["phone_number_id"] in page.text


def test_no_token_is_graphs_own_error(server: tuple[str, subprocess.Popen[bytes]]) -> None:
    base, _ = server
    answer = httpx.get(f"{base}/v23.0/123")
    assert answer.status_code in (400, 401) and answer.json()["error"]["code"] == 104


def test_a_token_without_a_shard_is_routed_by_the_map(server: tuple[str, subprocess.Popen[bytes]]) -> None:
    """A snapshot from a one-process server: its token carries no shard, it lands on shard 0, its name says 1."""
    base, _ = server
    name = names_on(1, prefix="imported")
    sandbox = Sandbox()
    create_tenant(sandbox, CreateTenant(name=name))
    with TestClient(create_app(sandbox)) as client:
        assert client.post("/_sandbox/snapshots", json={"name": "one", "tenant": name}).status_code == 201
        exported = client.get("/_sandbox/snapshots/one/export").content
        document = client.get(f"/_sandbox/tenants/{name}").json()
    assert httpx.post(f"{base}/_sandbox/snapshots/import", content=exported).status_code == 201
    restored = httpx.post(f"{base}/_sandbox/snapshots/one/restore")
    assert restored.status_code == 200, restored.text
    answer = _phone(base, document)
    assert answer.status_code == 200, answer.text
    assert httpx.get(f"{base}/_sandbox/tenants/{name}").json()["access_token"] == document["access_token"]


def test_reset_leaves_the_default_tenant_alone(server: tuple[str, subprocess.Popen[bytes]]) -> None:
    base, _ = server
    _create(base, names_on(0, prefix="r"))
    _create(base, names_on(1, prefix="r"))
    reset = httpx.post(f"{base}/_sandbox/reset", json={}, timeout=20)
    assert reset.status_code == 200 and reset.json()["id"] == "default"
    assert [t["id"] for t in httpx.get(f"{base}/_sandbox/tenants").json()["data"]] == ["default"]
    assert _phone(base, reset.json()).status_code == 200
    bad = httpx.post(f"{base}/_sandbox/reset", json={"seed": "x"})
    assert bad.status_code == 400 and bad.json()["error"]["type"] == "SandboxError"
    health = httpx.get(f"{base}/_sandbox/health")
    assert health.status_code == 200 and [s["status"] for s in health.json()["shards"]] == ["ok", "ok"]


def _shard_pids(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent and b"--listen-fd" in command:
            found.append(int(entry.name))
    return found


def test_a_dead_shard_makes_health_503(server: tuple[str, subprocess.Popen[bytes]]) -> None:
    """Last in this module: it kills a shard."""
    base, process = server
    tenant = _create(base, names_on(0, prefix="dead"))
    pids = _shard_pids(process.pid)
    assert len(pids) == 2
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    health = httpx.get(f"{base}/_sandbox/health", timeout=15)
    for _ in range(50):  # until the kernel has closed the dead shards' sockets
        if health.status_code == 503:
            break
        threading.Event().wait(0.1)
        health = httpx.get(f"{base}/_sandbox/health", timeout=15)
    assert health.status_code == 503
    assert {s["status"] for s in health.json()["shards"]} == {"down"}
    graph = _phone(base, tenant)
    assert graph.status_code == 503 and graph.json()["error"]["code"] == 2


def test_a_data_dir_keeps_each_shards_tenants_across_restarts(tmp_path: Path) -> None:
    flags = ("--quiet", "--data-dir", str(tmp_path), "--checkpoint-interval", "0.05")
    with running_workers(2, *flags, cwd=str(ROOT)) as (base, _):
        tenants = [_create(base, names_on(shard, prefix="kept")) for shard in (0, 1)]
        threading.Event().wait(0.5)  # a few checkpoints
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shard-00", "shard-01"]
    with running_workers(2, *flags, cwd=str(ROOT)) as (base, _):
        for tenant in tenants:
            answer = _phone(base, tenant)
            assert answer.status_code == 200, answer.text
