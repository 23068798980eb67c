"""Every value a tenant sets through the control plane is bounded where it is accepted: out of bounds (or of the
wrong kind) is a 400 in the SandboxError envelope that names the field, and nothing of the request is applied."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from sandbox.context import Tenant
from sandbox.testing import check_sandbox_error

CUSTOMER = "16505551234"
ELEVEN_YEARS = 11 * 365 * 86400


def refused(response: Any, field: str) -> None:
    error = check_sandbox_error(response, 400)
    assert field in error["message"], error["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "n" * 65}, "name"),
        ({"seed": 2**70}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"webhook": {"url": "http://x.test/" + "p" * 2048}}, "url"),
        ({"webhook": {"url": "http://x.test/", "verify_token": "t" * 257}}, "verify_token"),
        ({"webhook": {"url": "http://x.test/", "colour": "red"}}, "colour"),
        ({"clock": {"rate": 2_000_000}}, "rate"),
        ({"clock": {"now": "2101-01-01T00:00:00Z"}}, "clock.now"),
        ({"profile": True}, "profile"),
    ],
)
def test_create_tenant_bounds(client: TestClient, body: dict[str, Any], field: str) -> None:
    before = len(client.get("/_sandbox/tenants").json()["data"])
    refused(client.post("/_sandbox/tenants", json={"name": "bounded", **body}), field)
    assert len(client.get("/_sandbox/tenants").json()["data"]) == before


def test_reset_seed_bound(client: TestClient, tenant: Tenant) -> None:
    refused(client.post(f"/_sandbox/tenants/{tenant.id}/reset", json={"seed": -(2**64)}), "seed")
    assert client.get(f"/_sandbox/tenants/{tenant.id}").json()["seed"] == tenant.seed


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/clock/advance", {"seconds": ELEVEN_YEARS}, "seconds"),
        ("/clock/advance", {"to": "2040-01-01T00:00:00Z"}, "ten years"),
        ("/clock/advance", {"to": "x" * 100}, "to"),
        ("/clock", {"rate": 1e7}, "rate"),
        ("/clock", {"rate": 2, "now": "2040-01-01T00:00:00Z"}, "ten years"),
        ("/clock", {"rate": 2, "mode": "paused"}, "mode"),
    ],
)
def test_clock_bounds(client: TestClient, tenant: Tenant, path: str, body: dict[str, Any], field: str) -> None:
    before = client.get(f"/_sandbox/tenants/{tenant.id}/clock").json()
    refused(client.post(f"/_sandbox/tenants/{tenant.id}{path}", json=body), field)
    assert client.get(f"/_sandbox/tenants/{tenant.id}/clock").json() == before


def test_token_lifetime_bound(client: TestClient, tenant: Tenant) -> None:
    refused(client.post(f"/_sandbox/tenants/{tenant.id}/tokens", json={"expires_in": ELEVEN_YEARS}), "expires_in")
    assert tenant.extra_tokens == {}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "https://example.test/" + "p" * 2048}, "url"),
        ({"url": "https://example.test/hook", "verify_token": "t" * 257}, "verify_token"),
    ],
)
def test_webhook_bounds(client: TestClient, tenant: Tenant, body: dict[str, Any], field: str) -> None:
    before = client.get(f"/_sandbox/tenants/{tenant.id}/webhook").json()
    refused(client.put(f"/_sandbox/tenants/{tenant.id}/webhook", json=body), field)
    assert client.get(f"/_sandbox/tenants/{tenant.id}/webhook").json() == before


def test_webhook_without_verification_keeps_any_url(client: TestClient, tenant: Tenant) -> None:
    saved = client.put(f"/_sandbox/tenants/{tenant.id}/webhook", json={"url": "not a url", "verify": False})
    assert saved.status_code == 200 and saved.json()["url"] == "not a url"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"level": "HIGH", "maintenance_seconds": 86_401}, "maintenance_seconds"),
        ({"level": "HIGH", "maintenance_seconds": True}, "maintenance_seconds"),
        ({"level": "HIGH", "is_on_biz_app": 1}, "is_on_biz_app"),
        ({"level": 1}, "level"),
    ],
)
def test_throughput_bounds(client: TestClient, tenant: Tenant, body: dict[str, Any], field: str) -> None:
    path = f"/_sandbox/tenants/{tenant.id}/phone_numbers/{tenant.document()['phone_number_id']}/throughput"
    before = client.get(path).json()
    refused(client.put(path, json=body), field)
    assert client.get(path).json() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"error": {"code": 131000}, "times": 10**7}, "times"),
        ({"error": {"code": 131000}, "times": 1.0}, "times"),
        ({"latency_ms": 120_001}, "latency_ms"),
        ({"latency_ms": {"distribution": "normal", "mean": 10, "stddev": 10**6}}, "latency_ms.stddev"),
        ({"latency_ms": {"distribution": "exponential"}}, "latency_ms.mean"),
        ({"error": {"code": 131000, "details": "d" * 2049}}, "error.details"),
        ({"error": {"code": 131000, "subcode": -1}}, "error.subcode"),
        ({"error": {"code": True}}, "error.code"),
        ({"error": {"code": 131000}, "headers": {f"X-{i}": "v" for i in range(51)}}, "headers"),
        ({"error": {"code": 131000}, "headers": {"X-Long": "v" * 2049}}, "headers"),
        ({"error": {"code": 131000}, "match": {"path": "/" * 1025}}, "match.path"),
        ({"error": {"code": 131000}, "match": {"type": 5}}, "match.type"),
        ({"error": {"code": 131000}, "match": "all"}, "match"),
        ({"error": {"code": 131000}, "drop_connection": "yes"}, "drop_connection"),
        ({"error": {"code": 131000}, "probability": True}, "probability"),
        ({"error": {"code": 131000}, "mode": "async", "http_status": 600}, "http_status"),
    ],
)
def test_fault_bounds(client: TestClient, tenant: Tenant, body: dict[str, Any], field: str) -> None:
    refused(client.post(f"/_sandbox/tenants/{tenant.id}/faults", json=body), field)
    assert client.get(f"/_sandbox/tenants/{tenant.id}/faults").json() == {"data": []}
    assert tenant.faults.created == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"from": CUSTOMER, "text": {"body": "x" * 65_537}}, "text.body"),
        ({"from": CUSTOMER, "type": "contacts", "contacts": [{}] * 101}, "contacts"),
        ({"from": CUSTOMER, "type": "contacts", "contacts": ["Ann"]}, "contacts[0]"),
        ({"from": CUSTOMER, "text": {"body": "x"}, "profile": {"name": "n" * 257}}, "profile.name"),
        ({"from": CUSTOMER, "text": {"body": "x"}, "context": {"message_id": "w" * 257}}, "context"),
        ({"from": CUSTOMER, "text": {"body": "x"}, "context": {}}, "context"),
        ({"from": CUSTOMER, "text": {"body": "x"}, "phone_number_id": "1" * 257}, "phone_number_id"),
        ({"from": "1" * 300, "text": {"body": "x"}}, "from"),
        ({"from": CUSTOMER, "type": 5}, "type"),
    ],
)
def test_inbound_bounds(client: TestClient, tenant: Tenant, body: dict[str, Any], field: str) -> None:
    refused(client.post(f"/_sandbox/tenants/{tenant.id}/inbound", json=body), field)
    assert len(tenant.store.messages) == 0
    assert tenant.store.customers.get(CUSTOMER) is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"profile_name": "n" * 257}, "profile_name"),
        ({"reads": "never", "blocked_business": "no"}, "blocked_business"),
        ({"reads": "never", "fail_code": 131026.0}, "fail_code"),
    ],
)
def test_customer_bounds(client: TestClient, tenant: Tenant, body: dict[str, Any], field: str) -> None:
    refused(client.put(f"/_sandbox/tenants/{tenant.id}/customers/{CUSTOMER}", json=body), field)
    assert tenant.store.customers.get(CUSTOMER) is None


def test_customer_fail_code_null_clears_and_absent_keeps(client: TestClient, tenant: Tenant) -> None:
    base = f"/_sandbox/tenants/{tenant.id}/customers/{CUSTOMER}"
    assert client.put(base, json={"fail_code": 131049}).json()["fail_code"] == 131049
    assert client.put(base, json={"reads": "never"}).json()["fail_code"] == 131049
    assert client.put(base, json={"fail_code": None}).json()["fail_code"] is None


def test_move_message_details_bound(client: TestClient, tenant: Tenant) -> None:
    client.patch(f"/_sandbox/tenants/{tenant.id}/policy", json={"progression": "manual"})
    document = tenant.document()
    sent = client.post(
        f"/{document['graph_version']}/{document['phone_number_id']}/messages",
        headers={"Authorization": f"Bearer {document['access_token']}"},
        json={
            "messaging_product": "whatsapp",
            "to": CUSTOMER,
            "type": "template",
            "template": {"name": "hello_world", "language": {"code": "en_US"}},
        },
    )
    wamid = sent.json()["messages"][0]["id"]
    before = tenant.store.messages.get(wamid).status
    path = f"/_sandbox/tenants/{tenant.id}/messages/{wamid}/fail"
    refused(client.post(path, json={"code": 131026, "details": "d" * 2049}), "details")
    assert tenant.store.messages.get(wamid).status == before


@pytest.mark.parametrize(
    ("query", "field"),
    [("/webhooks?state=lost", "state"), ("/webhooks?status=lost", "status"), ("/webhooks?until=soon", "until")],
)
def test_journal_query_bounds(client: TestClient, tenant: Tenant, query: str, field: str) -> None:
    refused(client.get(f"/_sandbox/tenants/{tenant.id}{query}"), field)
