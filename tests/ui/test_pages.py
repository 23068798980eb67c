"""Every dashboard page renders without a browser, from the same journals the control plane pages."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from sandbox.app import create_app

CUSTOMER = "16505551234"


@pytest.fixture
def client() -> TestClient:
    with TestClient(create_app()) as client:
        yield client


def _traffic(client: TestClient) -> dict[str, str]:
    tenant = client.get("/_sandbox/tenants/default").json()
    client.post(
        "/_sandbox/tenants/default/inbound", json={"from": CUSTOMER, "type": "text", "text": {"body": "where is it?"}}
    )
    sent = client.post(
        f"/v23.0/{tenant['phone_number_id']}/messages",
        headers={"Authorization": f"Bearer {tenant['access_token']}"},
        json={"messaging_product": "whatsapp", "to": CUSTOMER, "type": "text", "text": {"body": "on its way"}},
    )
    assert sent.status_code == 200
    return tenant


def test_every_page_renders_what_happened(client: TestClient) -> None:
    tenant = _traffic(client)
    base = "/_sandbox/ui/tenants/default"
    for path in ("/_sandbox/ui/", base, f"{base}/clock", f"{base}/chats", f"{base}/reviews", f"{base}/settings"):
        assert client.get(path).status_code == 200, path
    thread = client.get(f"{base}/chats/{CUSTOMER}/thread").text
    assert "where is it?" in thread and "on its way" in thread
    requests = client.get(f"{base}/requests?method=POST").text
    assert f"/v23.0/{tenant['phone_number_id']}/messages" in requests
    assert "/messages" not in client.get(f"{base}/requests?method=DELETE").text.split("<main", 1)[-1]


def test_the_ready_curl_sends_the_approved_template(client: TestClient) -> None:
    page = client.get("/_sandbox/ui/tenants/default").text
    assert "hello_world" in page and "15550100001" not in page


def test_the_webhook_page_narrows_as_the_control_plane_does(client: TestClient) -> None:
    _traffic(client)
    base = "/_sandbox/ui/tenants/default/webhooks"
    assert client.get(base).status_code == 200
    assert client.get(f"{base}?field=messages&state=no_callback").status_code == 200
    everything = client.get("/_sandbox/tenants/default/webhooks").json()["data"]
    assert everything, "the traffic left deliveries in the log"
    assert everything[0]["id"] in client.get(base).text
