"""A `blank` tenant onboards a number through the Graph API alone (plus the OTP outbox): every wrong step answers
Meta's error and changes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from sandbox.context import Sandbox, Tenant
from sandbox.domain.commands import ConfigureClock, CreateTenant
from sandbox.services.tenants import create_tenant
from sandbox.testing import check_graph_error

NUMBER = {"cc": "1", "phone_number": "4155551234", "verified_name": "Lucky Shrub"}
FIELDS = "status,code_verification_status,name_status,new_certificate,certificate"


@pytest.fixture
def blank(sandbox: Sandbox, client: TestClient) -> Tenant:
    created = create_tenant(sandbox, CreateTenant(name="blank", profile="blank", clock=ConfigureClock(mode="frozen")))
    created.policy.messages.progression = "immediate"
    return created


def graph(client: TestClient, tenant: Tenant, path: str, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {tenant.credentials.access_token}"}
    return client.post(f"/v23.0/{path}", headers=headers, **kwargs)


def number(client: TestClient, tenant: Tenant, phone_id: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {tenant.credentials.access_token}"}
    result: dict[str, Any] = client.get(f"/v23.0/{phone_id}", headers=headers, params={"fields": FIELDS}).json()
    return result


def add(client: TestClient, tenant: Tenant, **body: str) -> httpx.Response:
    return graph(client, tenant, f"{tenant.waba_id}/phone_numbers", json=NUMBER | body)


def code_of(client: TestClient, tenant: Tenant) -> str:
    code: str = client.get(f"/_sandbox/tenants/{tenant.id}/otp").json()["data"][0]["code"]
    return code


SEND = {"messaging_product": "whatsapp", "to": "16505550000", "type": "text", "text": {"body": "hi"}}
REGISTER = {"messaging_product": "whatsapp", "pin": "123456"}


def test_blank_tenant_onboards_a_number_end_to_end(client: TestClient, blank: Tenant) -> None:
    check_graph_error(add(client, blank, cc="999"), 100, 400)
    client.put("/_sandbox/numbers/+14155551234", json={"whatsapp_app": "registered"})
    check_graph_error(add(client, blank), 100, 400)
    assert len(blank.store.phone_numbers) == 0
    client.put("/_sandbox/numbers/14155551234", json={"whatsapp_app": "deleted"})
    check_graph_error(add(client, blank), 100, 400)
    client.post(f"/_sandbox/tenants/{blank.id}/clock/advance", json={"seconds": 181})
    added = add(client, blank)
    assert added.status_code == 200, added.text
    phone_id = added.json()["id"]
    assert number(client, blank, phone_id) | {} == {
        "status": "PENDING",
        "code_verification_status": "NOT_VERIFIED",
        "name_status": "PENDING_REVIEW",
        "id": phone_id,
    }
    check_graph_error(graph(client, blank, f"{phone_id}/messages", json=SEND), 133010, 400)
    check_graph_error(graph(client, blank, f"{phone_id}/register", json=REGISTER), 133006, 400)
    assert graph(client, blank, f"{phone_id}/request_code", params={"code_method": "SMS", "language": "en_US"}).json()
    check_graph_error(graph(client, blank, f"{phone_id}/verify_code", params={"code": "000000"}), 100, 400)
    assert number(client, blank, phone_id)["code_verification_status"] == "NOT_VERIFIED"
    verified = graph(client, blank, f"{phone_id}/verify_code", params={"code": code_of(client, blank)})
    assert verified.status_code == 200, verified.text
    assert graph(client, blank, f"{phone_id}/register", json=REGISTER).status_code == 200
    check_graph_error(graph(client, blank, f"{phone_id}/register", json=REGISTER | {"pin": "654321"}), 133005, 400)
    forced = client.post(
        f"/_sandbox/tenants/{blank.id}/reviews",
        json={"kind": "display_name", "target": phone_id, "decision": "APPROVED"},
    )
    assert forced.status_code == 200, forced.text
    assert "new_certificate" in number(client, blank, phone_id)
    assert graph(client, blank, f"{phone_id}/register", json=REGISTER).status_code == 200
    document = number(client, blank, phone_id)
    assert document["status"] == "CONNECTED" and document["name_status"] == "APPROVED"
    assert "certificate" in document and "new_certificate" not in document
    assert graph(client, blank, f"{phone_id}/messages", json=SEND).status_code == 200


def test_eleventh_register_in_72_hours_is_133016(client: TestClient, blank: Tenant) -> None:
    phone_id = add(client, blank).json()["id"]
    graph(client, blank, f"{phone_id}/request_code", json={"code_method": "VOICE", "language": "en"})
    graph(client, blank, f"{phone_id}/verify_code", json={"code": code_of(client, blank)})
    for index in range(10):
        path = "register" if index % 2 == 0 else "deregister"
        body = REGISTER if path == "register" else None
        assert graph(client, blank, f"{phone_id}/{path}", json=body).status_code == 200
    before = number(client, blank, phone_id)
    check_graph_error(graph(client, blank, f"{phone_id}/register", json=REGISTER), 133016, 400)
    assert number(client, blank, phone_id) == before
    state = client.get(f"/_sandbox/tenants/{blank.id}/state").json()
    assert state["provider"]["connection_status"] == "process_failed"


def test_channel_eligibility_lists_every_reason(client: TestClient, blank: Tenant) -> None:
    phone_id = add(client, blank).json()["id"]
    rows = client.get(f"/_sandbox/tenants/{blank.id}/state").json()["channel_eligibility"]
    row = next(row for row in rows if row["phone_number_id"] == phone_id)
    assert not row["eligible"]
    assert [reason["reason"] for reason in row["reasons"]] == ["name_pending", "code_not_verified"]


def test_request_code_is_throttled(client: TestClient, blank: Tenant) -> None:
    phone_id = add(client, blank).json()["id"]
    params = {"code_method": "SMS", "language": "en_US"}
    assert graph(client, blank, f"{phone_id}/request_code", params=params).status_code == 200
    check_graph_error(graph(client, blank, f"{phone_id}/request_code", params=params), 4, 400)
    check_graph_error(graph(client, blank, f"{phone_id}/request_code", params={"code_method": "FAX"}), 100, 400)


def test_same_number_twice_and_on_another_tenant(client: TestClient, blank: Tenant, sandbox: Sandbox) -> None:
    assert add(client, blank).status_code == 200
    check_graph_error(add(client, blank), 100, 400)
    other = create_tenant(sandbox, CreateTenant(name="other", profile="blank", clock=ConfigureClock(mode="frozen")))
    error = check_graph_error(add(client, other), 100, 400)
    assert blank.waba_id not in str(error) and blank.id not in str(error)


def test_no_number_on_a_rejected_waba(client: TestClient, blank: Tenant) -> None:
    """SEED-NUMBER-7: a WABA that is not set up (its review rejected) takes no number."""
    waba = blank.store.wabas.get(blank.waba_id)
    assert waba is not None
    waba.account_review_status = "REJECTED"
    check_graph_error(add(client, blank), 131031, 403)
    assert len(blank.store.phone_numbers) == 0
