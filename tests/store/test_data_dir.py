"""A data directory: stop and start again, everything is there; pending webhooks are delivered; ids go on."""

from __future__ import annotations

import pickle
import sqlite3
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from sandbox.app import create_app
from sandbox.cli import build_sandbox
from sandbox.clock import TenantClock
from sandbox.services import world
from sandbox.settings import Settings
from sandbox.store.sqlite import DataDir, DataDirError
from sandbox.testing import RecordingTransport, settle

TEXT = {"messaging_product": "whatsapp", "type": "text", "text": {"body": "hi"}}


def _settings(path: Path) -> Settings:
    return Settings(
        data_dir=str(path), checkpoint_mode="inline", webhook_url="http://receiver.test/hook", verify_webhook=False
    )


def test_stop_and_start_on_a_data_dir(tmp_path: Path) -> None:
    failing = RecordingTransport(answer=lambda _: 503)
    sandbox, tenant = build_sandbox(_settings(tmp_path))
    tenant.clock.configure(mode="frozen")
    auth = {"Authorization": f"Bearer {tenant.credentials.access_token}"}
    phone = next(iter(tenant.store.phone_numbers)).id
    with TestClient(create_app(sandbox, transport=failing)) as client:
        sent = [
            client.post(f"/v23.0/{phone}/messages", json={**TEXT, "to": f"1650555{i:04d}"}, headers=auth).json()
            for i in range(3)
        ]
        client.post("/_sandbox/tenants/default/clock/advance", json={"seconds": 5})
        settle(client)
        before = world.snapshot(tenant)
        retrying = [d.id for d in sandbox.outbox.log("default") if d.state == "retrying"]
    assert retrying, "the receiver was down: deliveries wait for their retry"

    receiver = RecordingTransport()
    again, restored = build_sandbox(_settings(tmp_path))
    assert restored is not tenant and world.snapshot(restored) == before
    assert restored.clock.mode == "frozen" and restored.clock.now() == tenant.clock.now()
    with TestClient(create_app(again, transport=receiver)) as client:
        client.post("/_sandbox/tenants/default/clock/advance", json={"seconds": 3600})
        settle(client)
        delivered = {d.id for d in again.outbox.log("default") if d.state == "delivered"}
        assert set(retrying) <= delivered
        assert {m["messages"][0]["id"] for m in sent} <= {s["id"] for p in receiver.payloads() for s in _statuses(p)}
        # Ids go on: a new send and a new delivery repeat none of the old ones.
        later = client.post(f"/v23.0/{phone}/messages", json={**TEXT, "to": "16505550009"}, headers=auth).json()
        assert later["messages"][0]["id"] not in {m["messages"][0]["id"] for m in sent}
        settle(client)
    ids = [d.id for d in again.outbox.log("default")]
    assert len(ids) == len(set(ids))


def _statuses(payload: dict) -> list[dict]:  # type: ignore[type-arg]
    return [s for e in payload["entry"] for c in e["changes"] for s in c["value"].get("statuses", [])]


def test_health_reports_the_checkpoints(tmp_path: Path) -> None:
    with TestClient(create_app(build_sandbox(_settings(tmp_path))[0])) as client:
        health = client.get("/_sandbox/health").json()
    assert health["persistence"] == {"data_dir": str(tmp_path), "running": True}


def test_a_removed_tenant_stays_removed(tmp_path: Path) -> None:
    sandbox, _ = build_sandbox(_settings(tmp_path))
    with TestClient(create_app(sandbox)) as client:
        assert client.post("/_sandbox/tenants", json={"name": "gone"}).status_code == 201
    with TestClient(create_app(build_sandbox(_settings(tmp_path))[0])) as client:
        assert client.delete("/_sandbox/tenants/gone").status_code == 200
    assert "gone" not in build_sandbox(_settings(tmp_path))[0].tenants


def test_another_format_is_refused_in_one_line(tmp_path: Path) -> None:
    build_sandbox(_settings(tmp_path))
    with sqlite3.connect(tmp_path / "world.sqlite3") as db:
        db.execute("UPDATE meta SET value = '999' WHERE key = 'format'")
    with pytest.raises(DataDirError, match="storage format 999") as refused:
        build_sandbox(_settings(tmp_path))
    assert "\n" not in str(refused.value)


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    (tmp_path / "world.sqlite3").write_bytes(b"hello, I am not SQLite" * 100)
    with pytest.raises(DataDirError, match="not a wa-sandbox data directory"):
        DataDir(tmp_path).open("0")


@pytest.mark.parametrize("catch_up", ["fire", "skip"])
def test_a_realtime_clock_catches_up_or_skips_the_gap(catch_up: str) -> None:
    clock = TenantClock(mode="realtime")
    clock.call_later(600, partial(max, 0, 1))
    saved = pickle.loads(pickle.dumps(clock))
    saved._anchor_wall -= 3600  # the server was down for an hour
    if catch_up == "skip":
        saved.resume()
    assert saved.run_due() == (1 if catch_up == "fire" else 0)
    gap = saved.now() - saved.saved_at
    assert (gap >= timedelta(hours=1)) if catch_up == "fire" else (gap < timedelta(minutes=1))


def test_a_forked_checkpoint_writes_what_changed(tmp_path: Path) -> None:
    from sandbox.services.persistence import Checkpointer

    sandbox, tenant = build_sandbox(_settings(tmp_path))
    tenant.policy.messages.read_probability = 0.25
    sandbox.dirty.add(tenant.id)
    checkpointer = Checkpointer(sandbox, "fork")
    checkpointer.tick()
    assert not sandbox.dirty, "marks are taken when the child starts"
    checkpointer.close()
    assert checkpointer.health() == {"mode": "fork", "written": 1, "failures": 0}
    assert build_sandbox(_settings(tmp_path))[1].policy.messages.read_probability == 0.25


@pytest.mark.sandbox_errors
def test_a_failed_checkpoint_is_written_again(tmp_path: Path) -> None:
    from sandbox.services.persistence import Checkpointer

    sandbox, tenant = build_sandbox(_settings(tmp_path))
    assert sandbox.data_dir is not None
    sandbox.data_dir.database.unlink()
    sandbox.data_dir.database.mkdir()  # the database can no longer be opened
    sandbox.dirty.add(tenant.id)
    checkpointer = Checkpointer(sandbox, "fork")
    checkpointer.tick()
    checkpointer._reap(block=True)
    assert checkpointer.failures == 1 and tenant.id in sandbox.dirty


def test_without_a_data_dir_removed_tenants_leave_no_marks() -> None:
    from sandbox.context import Sandbox
    from sandbox.domain.commands import CreateTenant
    from sandbox.services.tenants import create_tenant

    sandbox = Sandbox(Settings(seed=7))
    for index in range(50):
        create_tenant(sandbox, CreateTenant(name=f"t{index}"))
        sandbox.remove(f"t{index}")
    assert not sandbox.removed and not sandbox.dirty and not sandbox.outbox.touched
