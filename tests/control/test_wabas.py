"""Partner apps in one tenant: their own token sees exactly what they were granted, embedded sign-up announces a
WABA to its partner, webhooks go to the app subscribed at that instant, signed with its secret; two-step off."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from starlette.testclient import TestClient

from sandbox.context import Tenant
from sandbox.testing import RecordingTransport, settle
from sandbox.webhooks.transport import Answer

PARTNER_HOOK = "http://partner.test/hook"


def _partner(client: TestClient, tenant: Tenant) -> dict[str, Any]:
    response = client.post(f"/_sandbox/tenants/{tenant.id}/apps", json={"name": "New BSP", "webhook": PARTNER_HOOK})
    assert response.status_code == 201, response.text
    return response.json()


def _waba(client: TestClient, tenant: Tenant, partner: str | None, **extra: Any) -> dict[str, Any]:
    body = {"partner": partner, **extra} if partner else extra
    response = client.post(f"/_sandbox/tenants/{tenant.id}/wabas", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_partner_token_sees_only_its_waba(client: TestClient, tenant: Tenant, auth: dict[str, str]) -> None:
    app = _partner(client, tenant)
    waba = _waba(client, tenant, app["app_id"])
    assert waba["owner_business_info"] == {"id": tenant.business_id} and waba["partner"] == app["app_id"]
    theirs = {"Authorization": f"Bearer {app['access_token']}"}
    assert client.get(f"/v23.0/{waba['id']}", headers=theirs).status_code == 200
    for node in (tenant.waba_id, tenant.document()["phone_number_id"]):
        refused = client.get(f"/v23.0/{node}", headers=theirs).json()["error"]
        assert (refused["code"], refused["error_subcode"]) == (100, 33)
    mine = client.get(f"/v23.0/{waba['id']}", headers=auth).json()["error"]
    assert (mine["code"], mine["error_subcode"]) == (100, 33)
    assert client.get(f"/v23.0/{tenant.waba_id}", headers=auth).status_code == 200


def test_sign_up_announces_the_waba_to_its_partner_signed_with_its_secret(
    client: TestClient, tenant: Tenant, transport: RecordingTransport
) -> None:
    app = _partner(client, tenant)
    waba = _waba(client, tenant, app["app_id"])
    settle(client)
    posted = [item for item in transport.posted if item.url == PARTNER_HOOK]
    events = [change["value"] for item in posted for change in item.json()["entry"][0]["changes"]]
    assert [event["event"] for event in events] == ["PARTNER_ADDED", "PARTNER_APP_INSTALLED"]
    assert events[0]["waba_info"]["waba_id"] == waba["id"]
    assert events[1]["waba_info"]["partner_app_id"] == app["app_id"]
    digest = hmac.new(app["app_secret"].encode(), posted[0].body, hashlib.sha256).hexdigest()
    assert posted[0].headers["X-Hub-Signature-256"] == f"sha256={digest}"


def test_a_waba_without_partner_is_the_tenant_apps(client: TestClient, tenant: Tenant, auth: dict[str, str]) -> None:
    _partner(client, tenant)
    waba = _waba(client, tenant, None, payment_method=False)
    assert waba["partner"] == tenant.credentials.app_id and waba["payment_method"] is False
    assert client.get(f"/v23.0/{waba['id']}", headers=auth).status_code == 200


def test_refusals_change_nothing(client: TestClient, tenant: Tenant) -> None:
    before = len(tenant.store.wabas)
    base = f"/_sandbox/tenants/{tenant.id}"
    assert client.post(f"{base}/wabas", json={"partner": "404"}).status_code == 404
    assert client.post(f"{base}/wabas", json={"business_id": "x" * 30}).status_code == 400
    assert client.post(f"{base}/wabas", json={"colour": "red"}).status_code == 400
    assert client.post(f"{base}/apps", json={"webhook": "ftp://nope"}).status_code == 400
    assert len(tenant.store.wabas) == before and not tenant.partners


def test_two_step_off_then_on_needs_a_pin(client: TestClient, tenant: Tenant, transport: RecordingTransport) -> None:
    phone = tenant.document()["phone_number_id"]
    url = f"/_sandbox/tenants/{tenant.id}/phone_numbers/{phone}/two_step"
    answer = client.post(url, json={"enabled": False})
    assert answer.json() == {"id": phone, "is_pin_enabled": False}
    settle(client)
    assert any(change["field"] == "security" for p in transport.payloads() for change in p["entry"][0]["changes"])
    assert client.post(url, json={"enabled": True}).status_code == 409
    assert client.post(url, json={"enabled": "no"}).status_code == 400


def test_a_partner_app_s_callback_is_kept_only_after_meta_s_handshake(client: TestClient, tenant: Tenant) -> None:
    """As for the tenant's own callback: the receiver must echo `hub.challenge` for the given verify token."""
    transport = client.app.state.transport
    asked: list[dict[str, str]] = []

    def refuse(url: str, params: Mapping[str, str]) -> Answer:
        asked.append(dict(params))
        return Answer(403, "no")

    transport.challenge_answer = refuse
    base = f"/_sandbox/tenants/{tenant.id}/apps"
    body = {"name": "New BSP", "webhook": PARTNER_HOOK, "verify_token": "partner-token-1"}
    refused = client.post(base, json=body)
    assert refused.status_code == 400 and "verification failed" in refused.text
    assert asked[0]["hub.verify_token"] == "partner-token-1" and asked[0]["hub.mode"] == "subscribe"
    assert [app["name"] for app in client.get(base).json()["data"]] == [tenant.name]
    kept = client.post(base, json=body | {"verify": False})
    assert kept.status_code == 201 and kept.json()["webhook"] == {
        "url": PARTNER_HOOK,
        "verify_token": "partner-token-1",
    }
    transport.challenge_answer = None
    assert client.post(base, json=body | {"name": "Third"}).status_code == 201
