"""Status webhooks carry the `pricing` / `conversation` of their era, and deliveries are charged into the ledger
(docs/pricing.md; meta-lifecycle.md §6, meta-messaging.md §4.5, SEED-MSG-3)."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from sandbox.context import Tenant
from sandbox.domain.pricing import rate
from sandbox.testing import RecordingTransport, settle

CUSTOMER = "16505551234"
# Marketing templates no longer reach US numbers (§4.12); a Canadian +1 number still receives them.
CANADIAN = "14165551234"
TEMPLATE = {"type": "template", "template": {"name": "hello_world", "language": {"code": "en_US"}}}
TEXT = {"type": "text", "text": {"body": "Thanks!"}}


def _send(client: TestClient, auth: dict[str, str], phone: str, body: dict[str, Any], to: str = CUSTOMER) -> str:
    response = client.post(
        f"/v23.0/{phone}/messages", headers=auth, json={"messaging_product": "whatsapp", "to": to, **body}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["messages"][0]["id"])


def _inbound(client: TestClient, tenant: Tenant, wa_id: str = CUSTOMER) -> None:
    response = client.post(
        f"/_sandbox/tenants/{tenant.id}/inbound", json={"from": wa_id, "type": "text", "text": {"body": "Hi!"}}
    )
    assert response.status_code == 200, response.text


def _statuses(transport: RecordingTransport, wamid: str) -> dict[str, dict[str, Any]]:
    return {
        status["status"]: status
        for payload in transport.payloads()
        for status in payload["entry"][0]["changes"][0]["value"].get("statuses", [])
        if status["id"] == wamid
    }


def _marketing(tenant: Tenant) -> None:
    template = next(iter(tenant.store.templates))
    template.category = "MARKETING"


def test_cbp_2022_statuses_share_the_conversation_and_have_no_type(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str, transport: RecordingTransport
) -> None:
    tenant.policy.pricing.model = "conversation"
    template = _send(client, auth, phone_number_id, TEMPLATE)
    _inbound(client, tenant)
    reply = _send(client, auth, phone_number_id, TEXT)
    settle(client)
    first, second = _statuses(transport, template), _statuses(transport, reply)
    pricing = {"billable": False, "pricing_model": "CBP", "category": "business_initiated"}  # the free tier
    assert first["sent"]["pricing"] == pricing and first["delivered"]["pricing"] == pricing
    assert second["sent"]["pricing"] == pricing
    conversation = first["sent"]["conversation"]
    assert conversation["origin"] == {"type": "business_initiated"}
    assert second["sent"]["conversation"] == conversation
    assert set(first["delivered"]["conversation"]) == {"id", "origin"}
    assert "type" not in first["sent"]["pricing"]
    ledger = client.get(f"/_sandbox/tenants/{tenant.id}/ledger").json()
    assert ledger["total"] == {"charges": 1, "billable": 0, "amount_usd": 0.0}
    assert ledger["entries"][0]["conversation_id"] == conversation["id"]


def test_cbp_2022_past_the_free_tier_a_conversation_is_charged_once(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str, transport: RecordingTransport
) -> None:
    tenant.policy.pricing.model = "conversation"
    tenant.policy.pricing.free_tier_conversations = 0
    _inbound(client, tenant)
    wamids = [_send(client, auth, phone_number_id, TEXT) for _ in range(3)]
    settle(client)
    sent = _statuses(transport, wamids[0])["sent"]
    assert sent["pricing"] == {"billable": True, "pricing_model": "CBP", "category": "user_initiated"}
    ledger = client.get(f"/_sandbox/tenants/{tenant.id}/ledger").json()
    micros = rate("user_initiated", "north_america")
    assert ledger["total"] == {"charges": 1, "billable": 1, "amount_usd": micros / 1_000_000}
    assert ledger["entries"][0]["wamid"] == wamids[0]
    assert ledger["by_category"] == {"user_initiated": ledger["total"]}


def test_cbp_by_category_from_june_2023(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str, transport: RecordingTransport
) -> None:
    tenant.policy.pricing.model = "conversation_category"
    _marketing(tenant)
    wamid = _send(client, auth, phone_number_id, TEMPLATE, to=CANADIAN)
    settle(client)
    sent = _statuses(transport, wamid)["sent"]
    assert sent["pricing"] == {"billable": True, "pricing_model": "CBP", "category": "marketing"}
    assert sent["conversation"]["origin"] == {"type": "marketing"}
    assert int(sent["conversation"]["expiration_timestamp"]) == int(tenant.clock.now().timestamp()) + 24 * 3600


def test_pmp_statuses_carry_a_type_and_templates_are_charged_at_delivery(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str, transport: RecordingTransport
) -> None:
    _marketing(tenant)
    tenant.policy.messages.progression = "manual"
    wamid = _send(client, auth, phone_number_id, TEMPLATE, to=CANADIAN)
    moves = f"/_sandbox/tenants/{tenant.id}/messages/{wamid}"
    assert client.post(f"{moves}/send").status_code == 200
    settle(client)
    assert _statuses(transport, wamid)["sent"]["pricing"] == {
        "billable": True, "pricing_model": "PMP", "type": "regular", "category": "marketing",
    }  # fmt: skip
    path = f"/_sandbox/tenants/{tenant.id}/ledger"
    assert client.get(path).json()["total"]["charges"] == 0  # sent, not yet delivered
    moved = client.post(f"{moves}/deliver")
    assert moved.status_code == 200, moved.text
    ledger = client.get(path).json()
    assert ledger["entries"][0] | {"at": None} == {
        "at": None, "wamid": wamid, "phone_number_id": phone_number_id, "wa_id": CANADIAN,
        "country_calling_code": "1", "market": "north_america", "pricing_model": "PMP", "category": "marketing",
        "billable": True, "conversation_id": None, "amount_usd": rate("marketing", "north_america") / 1_000_000,
    }  # fmt: skip
    assert client.post(f"{moves}/read").status_code == 200
    assert client.get(path).json()["total"]["charges"] == 1


def test_failed_messages_are_never_charged(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str, transport: RecordingTransport
) -> None:
    _send(client, auth, phone_number_id, TEXT)  # outside the window: fails with 131047
    settle(client)
    ledger = client.get(f"/_sandbox/tenants/{tenant.id}/ledger").json()
    assert ledger["total"]["charges"] == 0 and ledger["entries"] == []


def test_a_paused_template_is_not_charged(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str
) -> None:
    next(iter(tenant.store.templates)).status = "PAUSED"
    response = client.post(
        f"/v23.0/{phone_number_id}/messages",
        headers=auth,
        json={"messaging_product": "whatsapp", "to": CUSTOMER, **TEMPLATE},
    )
    assert response.json()["error"]["code"] == 132015
    assert client.get(f"/_sandbox/tenants/{tenant.id}/ledger").json()["total"]["charges"] == 0


def test_the_trial_profile_prices_conversations_of_2022(client: TestClient) -> None:
    created = client.post("/_sandbox/tenants", json={"name": "trial-pricing", "profile": "trial"}).json()
    policy = client.get(f"/_sandbox/tenants/{created['id']}/policy").json()
    assert policy["pricing"]["model"] == "conversation"
    live = client.post("/_sandbox/tenants", json={"name": "live-pricing", "profile": "live"}).json()
    assert client.get(f"/_sandbox/tenants/{live['id']}/policy").json()["pricing"]["model"] == "auto"


REFERRAL = {"source_url": "https://fb.me/3cr4Wqqkv", "source_id": "120226305854810726", "source_type": "ad"}


def test_a_reply_to_an_ad_referral_opens_a_free_entry_point(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str, transport: RecordingTransport
) -> None:
    tenant.graph_version = "v24.0"
    _marketing(tenant)
    response = client.post(
        f"/_sandbox/tenants/{tenant.id}/inbound",
        json={"from": CANADIAN, "type": "text", "text": {"body": "Hi from an ad", "referral": REFERRAL}},
    )
    assert response.status_code == 200, response.text
    reply = _send(client, auth, phone_number_id, TEXT, to=CANADIAN)
    template = _send(client, auth, phone_number_id, TEMPLATE, to=CANADIAN)
    settle(client)
    free = {"billable": False, "pricing_model": "PMP", "type": "free_entry_point", "category": "referral_conversion"}
    first, second = _statuses(transport, reply)["sent"], _statuses(transport, template)["sent"]
    assert first["pricing"] == free and second["pricing"] == free
    # v24+ keeps `conversation` inside a free entry point, one id for the window.
    assert first["conversation"]["id"] == second["conversation"]["id"]
    assert first["conversation"]["origin"] == {"type": "referral_conversion"}
    assert int(first["conversation"]["expiration_timestamp"]) == int(tenant.clock.now().timestamp()) + 72 * 3600
    ledger = client.get(f"/_sandbox/tenants/{tenant.id}/ledger").json()
    assert ledger["total"] == {"charges": 2, "billable": 0, "amount_usd": 0.0}
    assert set(ledger["by_category"]) == {"referral_conversion"}
