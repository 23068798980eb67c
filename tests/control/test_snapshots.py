"""Named snapshots through the control plane: save, list, restore, delete, export and import (control-plane.md)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from sandbox.app import create_app
from sandbox.context import Sandbox, Tenant
from sandbox.settings import Settings
from sandbox.testing import check_sandbox_error

TEXT = {"messaging_product": "whatsapp", "to": "16505551234", "type": "text", "text": {"body": "hi"}}


def _send(client: TestClient, tenant: Tenant) -> str:
    phone = next(iter(tenant.store.phone_numbers)).id
    auth = {"Authorization": f"Bearer {tenant.credentials.access_token}"}
    answer = client.post(f"/v23.0/{phone}/messages", json=TEXT, headers=auth)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["messages"][0]["id"])


def _state(client: TestClient, tenant_id: str = "t1") -> dict[str, Any]:
    state = client.get(f"/_sandbox/tenants/{tenant_id}/state").json()
    assert isinstance(state, dict)
    return state


def test_save_list_restore_delete(client: TestClient, tenant: Tenant) -> None:
    first = _send(client, tenant)
    saved = client.post("/_sandbox/snapshots", json={"name": "one-sent", "tenant": "t1"})
    assert saved.status_code == 201
    assert saved.json()["name"] == "one-sent" and saved.json()["tenant"] == "t1" and saved.json()["size"] > 0
    before = _state(client)
    _send(client, tenant)
    client.post("/_sandbox/tenants/t1/clock/advance", json={"seconds": 3600})
    client.patch("/_sandbox/tenants/t1/policy", json={"messages": {"read_probability": 0.5}})
    assert _state(client) != before
    assert [s["name"] for s in client.get("/_sandbox/snapshots").json()["data"]] == ["one-sent"]
    restored = client.post("/_sandbox/snapshots/one-sent/restore")
    assert restored.status_code == 200 and restored.json()["id"] == "t1"
    assert _state(client) == before
    assert [m["id"] for m in client.get("/_sandbox/tenants/t1/messages").json()["data"]] == [first]
    # The restored world serves Graph calls with the same token.
    _send(client, client.app.state.sandbox.tenants["t1"])  # type: ignore[attr-defined]
    assert client.delete("/_sandbox/snapshots/one-sent").json() == {"success": True}
    check_sandbox_error(client.post("/_sandbox/snapshots/one-sent/restore"), 404)


def test_a_whole_server_snapshot_removes_tenants_made_since(client: TestClient) -> None:
    assert client.post("/_sandbox/snapshots", json={"name": "server"}).json()["tenant"] is None
    assert client.post("/_sandbox/tenants", json={"name": "later"}).status_code == 201
    restored = client.post("/_sandbox/snapshots/server/restore").json()
    assert [doc["id"] for doc in restored["data"]] == ["t1"]
    check_sandbox_error(client.get("/_sandbox/tenants/later"), 404)


def test_export_and_import_on_another_server(client: TestClient, tenant: Tenant) -> None:
    _send(client, tenant)
    client.post("/_sandbox/snapshots", json={"name": "prepared", "tenant": "t1"})
    exported = client.get("/_sandbox/snapshots/prepared/export")
    assert exported.headers["content-type"] == "application/octet-stream"
    before = _state(client)
    other = Sandbox(Settings(seed=99))
    with TestClient(create_app(other)) as teammate:
        imported = teammate.post("/_sandbox/snapshots/import", content=exported.content)
        assert imported.status_code == 201 and imported.json()["name"] == "prepared"
        assert teammate.post("/_sandbox/snapshots/prepared/restore").json()["id"] == "t1"
        assert _state(teammate) == before


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 400),
        ({"name": "bad name!"}, 400),
        ({"name": "x" * 65}, 400),
        ({"name": "ok", "tenant": "nobody"}, 404),
        ({"name": "ok", "extra": 1}, 400),
    ],
)
def test_bad_saves_are_refused(client: TestClient, body: dict[str, Any], status: int) -> None:
    check_sandbox_error(client.post("/_sandbox/snapshots", json=body), status)


@pytest.mark.parametrize(
    "content",
    [
        b"not a snapshot",
        b"wa-sandbox-snapshot {}\n",
        b'wa-sandbox-snapshot {"format": 999, "name": "n", "tenant": null, "created_at": "x"}\nblob',
        b'wa-sandbox-snapshot {"format": 1, "name": "n", "tenant": null, "created_at": "x"}\n\x80\x05garbage',
    ],
)
def test_foreign_files_are_refused(client: TestClient, content: bytes) -> None:
    check_sandbox_error(client.post("/_sandbox/snapshots/import", content=content), 400)


def test_an_import_cannot_run_code(client: TestClient) -> None:
    import os
    import pickle

    payload = pickle.dumps({"layout": {}, "tenants": {"t1": pickle.dumps(os.system)}}, protocol=5)
    content = b'wa-sandbox-snapshot {"format": 1, "name": "evil", "tenant": null, "created_at": "x"}\n' + payload
    error = check_sandbox_error(client.post("/_sandbox/snapshots/import", content=content), 400)
    assert "not part of a sandbox world" in error["message"]
    assert client.get("/_sandbox/snapshots").json()["data"] == []
