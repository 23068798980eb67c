"""`/{waba-id}/subscribed_apps` and the number-level `webhook_configuration`: verification first, then routing as
Meta routes (number override > WABA override > app callback, `messages` only; nothing without a subscription)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from sandbox.context import Tenant
from sandbox.testing import RecordingTransport
from sandbox.webhooks.transport import Answer

WABA_HOOK = "http://waba-receiver.test/hook"
PHONE_HOOK = "http://phone-receiver.test/hook"


def _version(tenant: Tenant) -> str:
    return tenant.graph_version


def test_the_live_profile_starts_with_the_app_subscribed(client: TestClient, tenant: Tenant, auth: dict[str, str]):
    response = client.get(f"/{_version(tenant)}/{tenant.waba_id}/subscribed_apps", headers=auth)
    assert response.status_code == 200
    app = response.json()["data"][0]["whatsapp_business_api_data"]
    assert app["id"] == tenant.credentials.app_id
    assert set(app) == {"id", "name", "link"}
    assert "override_callback_uri" not in response.json()["data"][0]


def test_a_waba_override_is_verified_then_listed(
    client: TestClient, tenant: Tenant, auth: dict[str, str], transport: RecordingTransport
) -> None:
    asked: list[dict[str, str]] = []
    transport.challenge_answer = lambda url, params: (
        asked.append({"url": url, **params}),
        Answer(200, params["hub.challenge"]),
    )[1]
    body = {"override_callback_uri": WABA_HOOK, "verify_token": "waba-token"}
    response = client.post(f"/{_version(tenant)}/{tenant.waba_id}/subscribed_apps", json=body, headers=auth)
    assert response.json() == {"success": True}
    assert asked[0]["url"] == WABA_HOOK
    assert asked[0]["hub.mode"] == "subscribe" and asked[0]["hub.verify_token"] == "waba-token"
    listed = client.get(f"/{_version(tenant)}/{tenant.waba_id}/subscribed_apps", headers=auth).json()
    assert listed["data"][0]["override_callback_uri"] == WABA_HOOK
    phone = client.get(
        f"/{_version(tenant)}/{tenant.document()['phone_number_id']}",
        params={"fields": "webhook_configuration"},
        headers=auth,
    ).json()
    assert phone["webhook_configuration"] == {"whatsapp_business_account": WABA_HOOK, "application": tenant.webhook.url}


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (Answer(403, "Forbidden"), "HTTP Status Code = 403; HTTP Message = Forbidden"),
        (Answer(200, "not-the-challenge"), "Response does not match challenge"),
    ],
)
def test_a_failed_verification_is_graph_error_2200(
    client: TestClient, tenant: Tenant, auth: dict[str, str], transport: RecordingTransport, answer: Answer, reason: str
) -> None:
    transport.challenge_answer = lambda url, params: answer
    body = {"override_callback_uri": WABA_HOOK, "verify_token": "waba-token"}
    response = client.post(f"/{_version(tenant)}/{tenant.waba_id}/subscribed_apps", json=body, headers=auth)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 2200 and error["type"] == "OAuthException"
    assert error["message"].startswith("(#2200) Callback verification failed with the following errors: ")
    assert reason in error["message"]
    assert set(error) == {"message", "type", "code", "fbtrace_id"}
    listed = client.get(f"/{_version(tenant)}/{tenant.waba_id}/subscribed_apps", headers=auth).json()
    assert "override_callback_uri" not in listed["data"][0]


def test_an_unreachable_override_fails_like_meta_does(
    client: TestClient, tenant: Tenant, auth: dict[str, str], transport: RecordingTransport
) -> None:
    def refuse(url: str, params: Any) -> Answer:
        raise ConnectionRefusedError("refused")

    transport.challenge_answer = refuse
    body = {"override_callback_uri": WABA_HOOK, "verify_token": "t"}
    error = client.post(f"/{_version(tenant)}/{tenant.waba_id}/subscribed_apps", json=body, headers=auth).json()
    assert error["error"]["code"] == 2200
    assert "curl_errno = 7" in error["error"]["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"override_callback_uri": WABA_HOOK},
        {"override_callback_uri": "not a url", "verify_token": "t"},
        {"override_callback_uri": 5, "verify_token": "t"},
    ],
)
def test_bad_override_arguments_are_error_100(
    client: TestClient, tenant: Tenant, auth: dict[str, str], body: dict[str, Any]
) -> None:
    response = client.post(f"/{_version(tenant)}/{tenant.waba_id}/subscribed_apps", json=body, headers=auth)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 100 and error["type"] == "OAuthException"
    assert error["message"] == "(#100) Invalid parameter"


def test_unsubscribing_stops_every_webhook(client: TestClient, tenant: Tenant, auth: dict[str, str]) -> None:
    assert client.delete(f"/{_version(tenant)}/{tenant.waba_id}/subscribed_apps", headers=auth).json() == {
        "success": True
    }
    assert client.get(f"/{_version(tenant)}/{tenant.waba_id}/subscribed_apps", headers=auth).json() == {"data": []}
    client.post(f"/_sandbox/tenants/{tenant.id}/inbound", json={"from": "16505551234", "text": {"body": "hi"}})
    log = client.get(f"/_sandbox/tenants/{tenant.id}/webhooks").json()
    assert [d["state"] for d in log["data"]] == ["unsubscribed"]
    assert log["summary"]["not_routed"] == 1
    # A body-less POST subscribes again.
    assert client.post(f"/{_version(tenant)}/{tenant.waba_id}/subscribed_apps", headers=auth).json() == {
        "success": True
    }
    client.post(f"/_sandbox/tenants/{tenant.id}/inbound", json={"from": "16505551234", "text": {"body": "hi"}})
    assert client.get(f"/_sandbox/tenants/{tenant.id}/webhooks").json()["data"][0]["state"] != "unsubscribed"


def test_routing_prefers_number_then_waba_then_app_for_messages_only(
    client: TestClient, tenant: Tenant, auth: dict[str, str]
) -> None:
    phone_id = tenant.document()["phone_number_id"]
    version = _version(tenant)

    def last_url() -> str:
        return str(client.get(f"/_sandbox/tenants/{tenant.id}/webhooks").json()["data"][0]["url"])

    def inbound() -> None:
        client.post(f"/_sandbox/tenants/{tenant.id}/inbound", json={"from": "16505551234", "text": {"body": "hi"}})

    inbound()
    assert last_url() == tenant.webhook.url
    client.post(
        f"/{version}/{tenant.waba_id}/subscribed_apps",
        json={"override_callback_uri": WABA_HOOK, "verify_token": "t"},
        headers=auth,
    )
    inbound()
    assert last_url() == WABA_HOOK
    response = client.post(
        f"/{version}/{phone_id}/",
        json={"webhook_configuration": {"override_callback_uri": PHONE_HOOK, "verify_token": "t"}},
        headers=auth,
    )
    assert response.json() == {"success": True}
    inbound()
    assert last_url() == PHONE_HOOK
    phone = client.get(f"/{version}/{phone_id}", params={"fields": "webhook_configuration"}, headers=auth).json()
    assert phone["webhook_configuration"] == {
        "phone_number": PHONE_HOOK,
        "whatsapp_business_account": WABA_HOOK,
        "application": tenant.webhook.url,
    }
    # Account-side fields ignore the overrides.
    from sandbox.domain.events import AccountReviewDecided

    tenant.publish([AccountReviewDecided(tenant.clock.now(), waba_id=tenant.waba_id, decision="APPROVED")])
    assert last_url() == tenant.webhook.url
    # An empty override removes the number-level one (pywa's delete_phone_alternate_callback_url).
    client.post(f"/{version}/{phone_id}", json={"webhook_configuration": {"override_callback_uri": ""}}, headers=auth)
    inbound()
    assert last_url() == WABA_HOOK


def test_phone_webhook_configuration_needs_its_arguments(
    client: TestClient, tenant: Tenant, auth: dict[str, str]
) -> None:
    phone_id = tenant.document()["phone_number_id"]
    for body in ({}, {"webhook_configuration": "x"}, {"webhook_configuration": {"override_callback_uri": PHONE_HOOK}}):
        response = client.post(f"/{_version(tenant)}/{phone_id}", json=body, headers=auth)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == 100
