"""The delivery log on the control plane: filters, bounds, attempts, redelivery."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from sandbox.context import Tenant
from sandbox.testing import RecordingTransport
from sandbox.webhooks.signing import verify

CUSTOMER = "16505551234"
OTHER = "16505559876"


def _log(client: TestClient, tenant: Tenant, **filters: Any) -> dict[str, Any]:
    response = client.get(f"/_sandbox/tenants/{tenant.id}/webhooks", params=filters)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _settled(client: TestClient, tenant: Tenant) -> dict[str, Any]:
    for _ in range(1000):
        log = _log(client, tenant, payload="false")
        if log["summary"]["queued"] == 0:
            return log
    raise AssertionError("deliveries still queued")


def _conversation(client: TestClient, tenant: Tenant, auth: dict[str, str], wa_id: str) -> str:
    client.post(f"/_sandbox/tenants/{tenant.id}/inbound", json={"from": wa_id, "text": {"body": "hi"}})
    response = client.post(
        f"/{tenant.graph_version}/{tenant.document()['phone_number_id']}/messages",
        headers=auth,
        json={"messaging_product": "whatsapp", "to": wa_id, "type": "text", "text": {"body": "yo"}},
    )
    return str(response.json()["messages"][0]["id"])


def test_each_delivery_shows_payload_signature_and_attempts(
    client: TestClient, tenant: Tenant, auth: dict[str, str]
) -> None:
    wamid = _conversation(client, tenant, auth, CUSTOMER)
    _settled(client, tenant)
    data = _log(client, tenant)["data"]
    assert [d["summary"] for d in data] == ["status read", "status delivered", "status sent", "message text"]
    newest = data[0]
    assert newest["state"] == "delivered" and newest["wamids"] == [wamid] and newest["recipients"] == [CUSTOMER]
    assert verify(tenant.credentials.app_secret, newest["body"].encode(), newest["signature"])
    assert newest["attempts"][0]["status_code"] == 200
    assert set(newest["attempts"][0]) == {"at", "status_code", "latency_ms", "error"}


def test_filters(client: TestClient, tenant: Tenant, auth: dict[str, str]) -> None:
    first = _conversation(client, tenant, auth, CUSTOMER)
    client.post(f"/_sandbox/tenants/{tenant.id}/clock/advance", json={"seconds": 60})
    _conversation(client, tenant, auth, OTHER)
    _settled(client, tenant)
    assert len(_log(client, tenant, wamid=first)["data"]) == 3
    assert {d["recipients"][0] for d in _log(client, tenant, to="+1 650-555-1234")["data"]} == {CUSTOMER}
    assert len(_log(client, tenant, field="messages")["data"]) == 8
    assert _log(client, tenant, field="security")["data"] == []
    assert len(_log(client, tenant, state="delivered")["data"]) == 8
    later = _log(client, tenant, since=tenant.clock.snapshot()["now"])["data"]
    assert {d["recipients"][0] for d in later} == {OTHER}
    assert len(_log(client, tenant, limit=2)["data"]) == 2
    assert "body" not in _log(client, tenant, payload="false")["data"][0]


def test_bad_filters_are_sandbox_errors(client: TestClient, tenant: Tenant) -> None:
    for params in ({"state": "lost"}, {"since": "yesterday"}, {"limit": "0"}):
        response = client.get(f"/_sandbox/tenants/{tenant.id}/webhooks", params=params)
        assert response.status_code == 400
        assert response.json()["error"]["type"] == "SandboxError"


def test_the_log_is_bounded(client: TestClient, tenant: Tenant) -> None:
    client.patch(f"/_sandbox/tenants/{tenant.id}/policy", json={"journal_webhooks": 5})
    for n in range(12):
        client.post(
            f"/_sandbox/tenants/{tenant.id}/inbound", json={"from": f"1650555{2000 + n}", "text": {"body": "x"}}
        )
    log = _settled(client, tenant)
    assert len(log["data"]) == 5
    assert log["summary"]["delivered"] == 12


def test_redeliver_sends_it_again(client: TestClient, tenant: Tenant, transport: RecordingTransport) -> None:
    client.post(f"/_sandbox/tenants/{tenant.id}/inbound", json={"from": CUSTOMER, "text": {"body": "hi"}})
    original = _settled(client, tenant)["data"][0]
    response = client.post(f"/_sandbox/tenants/{tenant.id}/webhooks/{original['id']}/redeliver")
    assert response.status_code == 201
    copy = response.json()
    assert copy["redelivery_of"] == original["id"] and copy["id"] != original["id"]
    _settled(client, tenant)
    assert len(transport.posted) == 2 and transport.posted[0].body == transport.posted[1].body
    missing = client.post(f"/_sandbox/tenants/{tenant.id}/webhooks/whd_0/redeliver")
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "SandboxError"


def test_redeliver_with_nowhere_to_go_is_409(client: TestClient, tenant: Tenant, auth: dict[str, str]) -> None:
    client.post(f"/_sandbox/tenants/{tenant.id}/inbound", json={"from": CUSTOMER, "text": {"body": "hi"}})
    original = _settled(client, tenant)["data"][0]
    client.delete(f"/{tenant.graph_version}/{tenant.waba_id}/subscribed_apps", headers=auth)
    response = client.post(f"/_sandbox/tenants/{tenant.id}/webhooks/{original['id']}/redeliver")
    assert response.status_code == 409


def test_a_delivery_with_no_callback_is_logged_with_its_signed_payload(
    client: TestClient, tenant: Tenant, auth: dict[str, str], transport: RecordingTransport
) -> None:
    tenant.webhook.url = None
    wamid = _conversation(client, tenant, auth, CUSTOMER)
    _settled(client, tenant)
    data = _log(client, tenant)["data"]
    assert transport.posted == []
    assert {d["state"] for d in data} == {"no_callback"}
    newest = next(d for d in data if d["summary"] == "status sent")
    assert newest["wamids"] == [wamid]
    assert verify(tenant.credentials.app_secret, newest["body"].encode(), newest["signature"])
    assert '"status":"sent"' in newest["body"] and newest["headers"]["Content-Type"] == "application/json"
