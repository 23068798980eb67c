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


def test_the_cards_say_what_each_waits_for_on_the_tenant_clock(client: TestClient) -> None:
    created = client.post("/_sandbox/tenants", json={"name": "t2", "profile": "trial", "clock": {"mode": "frozen"}})
    tenant = created.json()
    template = {
        "name": "order_ready",
        "language": "en_US",
        "category": "UTILITY",
        "components": [{"type": "BODY", "text": "Your order is ready."}],
    }
    made = client.post(
        f"/v23.0/{tenant['waba_id']}/message_templates",
        headers={"Authorization": f"Bearer {tenant['access_token']}"},
        json=template,
    ).json()
    review = next(r for r in client.get("/_sandbox/tenants/t2/reviews").json()["data"] if r["target"] == made["id"])
    cards = client.get("/_sandbox/ui/tenants/t2/world").text
    assert f"review due at {review['due_at']} (in " in cards
    assert "trial: 30 days left" in cards and "trial recipients 0 of 2" in cards
    assert "review starts once the business is verified" in cards
    client.post("/_sandbox/tenants/t2/clock/advance", json={"seconds": 86400})
    cards = client.get("/_sandbox/ui/tenants/t2/world").text
    assert "trial: 29 days left" in cards and "review due" not in cards
    assert "review due" not in client.get("/_sandbox/ui/tenants/t2/reviews").text.split("<h2>Templates</h2>")[1]


def test_the_journal_filters_are_the_routes_and_a_refused_one_is_said_beside_the_form(client: TestClient) -> None:
    _traffic(client)
    client.post(
        "/_sandbox/tenants/default/inbound", json={"from": "16505559876", "type": "text", "text": {"body": "2"}}
    )
    base = "/_sandbox/ui/tenants/default"
    page = client.get(f"{base}/webhooks?to=%2B16505559876&state=&since=&payload=false").text
    narrowed = client.get("/_sandbox/tenants/default/webhooks?to=16505559876").json()["data"]
    assert page.count('class="delivery') == len(narrowed) >= 1
    assert "<h3>Payload</h3>" not in page
    refused = client.get(f"{base}/webhooks?until=yesterday")
    assert refused.status_code == 200 and "until must be an RFC 3339 time" in refused.text
    assert "filter is at most 128 characters" in client.get(f"{base}/requests?method={'x' * 200}").text
    errors = client.get(f"{base}/requests?status=200&limit=1").text
    assert errors.count("<tr class=") == 1


def test_a_customers_file_is_served_to_the_thread_never_sniffed(client: TestClient) -> None:
    sent = client.post(
        f"/_sandbox/tenants/default/inbound/media?from={CUSTOMER}",
        content=b"%PDF-1.4 a receipt",
        headers={"Content-Type": "application/pdf"},
    )
    media_id = sent.json()["media"]["id"]
    thread = client.get(f"/_sandbox/ui/tenants/default/chats/{CUSTOMER}/thread").text
    assert f"/_sandbox/ui/tenants/default/media/{media_id}" in thread and "📎 document application/pdf" in thread
    served = client.get(f"/_sandbox/ui/tenants/default/media/{media_id}")
    assert served.content == b"%PDF-1.4 a receipt" and served.headers["x-content-type-options"] == "nosniff"
    assert client.get("/_sandbox/ui/tenants/default/media/123").status_code == 404
