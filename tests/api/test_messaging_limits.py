"""The portfolio's messaging limit over HTTP: a send beyond it is accepted, then fails in its status webhook; the
number's Graph fields show the portfolio's tier; the control plane reads and sets it."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.testclient import TestClient

from sandbox.context import Tenant
from sandbox.testing import RecordingTransport, check_sandbox_error, settle

TEMPLATE = {"type": "template", "template": {"name": "hello_world", "language": {"code": "en_US"}}}


def send(client: TestClient, auth: dict[str, str], phone_number_id: str, to: str) -> httpx.Response:
    return client.post(
        f"/v23.0/{phone_number_id}/messages", headers=auth, json={"messaging_product": "whatsapp", "to": to, **TEMPLATE}
    )


def put_tier(client: TestClient, tenant: Tenant, tier: Any) -> httpx.Response:
    return client.put(f"/_sandbox/tenants/{tenant.id}/messaging_limit", json={"tier": tier})


def failed_errors(transport: RecordingTransport, wamid: str) -> list[dict[str, Any]]:
    return [
        error
        for payload in transport.payloads()
        for change in payload["entry"][0]["changes"]
        for status in change["value"].get("statuses", [])
        if status["id"] == wamid and status["status"] == "failed"
        for error in status["errors"]
    ]


def test_a_send_beyond_the_limit_is_accepted_then_fails_with_131048(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str, transport: RecordingTransport
) -> None:
    assert put_tier(client, tenant, "TIER_250").status_code == 200
    patched = client.patch(
        f"/_sandbox/tenants/{tenant.id}/policy", json={"messaging_limit_tier_sizes": {"TIER_250": 2}}
    )
    assert patched.status_code == 200, patched.text
    for to in ["15557770001", "15557770002", "+1 555 777 0001"]:
        assert send(client, auth, phone_number_id, to).status_code == 200
    over = send(client, auth, phone_number_id, "15557770003")
    assert over.status_code == 200, "accepted, as Meta accepts it"
    wamid = over.json()["messages"][0]["id"]
    settle(client)
    assert transport.statuses(wamid) == ["failed"]
    [error] = failed_errors(transport, wamid)
    assert error["code"] == 131048 and error["title"] == "Spam rate limit hit"
    assert "TIER_250" in error["error_data"]["details"]
    limit = client.get(f"/_sandbox/tenants/{tenant.id}/messaging_limit").json()
    assert (limit["tier"], limit["limit"], limit["unique_users_24h"], limit["refused"]) == ("TIER_250", 2, 2, 1)


def test_number_fields_show_the_portfolio_tier(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str
) -> None:
    fields = {"fields": "whatsapp_business_manager_messaging_limit,messaging_limit_tier"}
    document = client.get(f"/v23.0/{phone_number_id}", headers=auth, params=fields).json()
    assert document == {
        "whatsapp_business_manager_messaging_limit": "TIER_UNLIMITED",
        "messaging_limit_tier": "TIER_UNLIMITED",
        "id": phone_number_id,
    }
    assert put_tier(client, tenant, "TIER_10K").json()["tier"] == "TIER_10K"
    document = client.get(f"/v23.0/{phone_number_id}", headers=auth, params=fields).json()
    assert document["whatsapp_business_manager_messaging_limit"] == "TIER_10K"
    listed = client.get(f"/v23.0/{tenant.waba_id}/phone_numbers", headers=auth, params=fields).json()
    assert listed["data"][0]["messaging_limit_tier"] == "TIER_10K"
    state = client.get(f"/_sandbox/tenants/{tenant.id}/state").json()
    assert state["messaging_limit"]["tier"] == "TIER_10K"
    assert state["phone_numbers"][0]["whatsapp_business_manager_messaging_limit"] == "TIER_10K"


def test_the_trial_profile_starts_at_tier_250(client: TestClient) -> None:
    created = client.post("/_sandbox/tenants", json={"profile": "trial"}).json()
    limit = client.get(f"/_sandbox/tenants/{created['id']}/messaging_limit").json()
    assert (limit["tier"], limit["limit"], limit["unique_users_24h"]) == ("TIER_250", 250, 0)


def test_setting_a_tier_checks_the_body(client: TestClient, tenant: Tenant) -> None:
    for body in [{"tier": "TIER_1K"}, {"tier": 250}, {}, {"tier": "TIER_2K", "extra": 1}]:
        check_sandbox_error(client.put(f"/_sandbox/tenants/{tenant.id}/messaging_limit", json=body), 400)
    check_sandbox_error(
        client.put(f"/_sandbox/tenants/{tenant.id}/messaging_limit", json={"tier": "TIER_2K", "business_id": "1"}), 404
    )
    assert client.get(f"/_sandbox/tenants/{tenant.id}/messaging_limit").json()["tier"] == "TIER_UNLIMITED"
