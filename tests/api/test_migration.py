"""Migrating a live number to a partner's WABA (meta-lifecycle.md §5.1, SEED-MIGRATE-1..5): every precondition
refused with Meta's code and message and nothing changed; then request_code / verify_code / register move it."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from sandbox.context import Tenant
from sandbox.domain.business import BusinessVerificationStatus
from sandbox.testing import RecordingTransport, settle

OLD_HOOK = "http://old-bsp.test/hook"
NEW_HOOK = "http://new-bsp.test/hook"


class World:
    def __init__(self, client: TestClient, tenant: Tenant) -> None:
        self.client, self.tenant = client, tenant
        self.base = f"/_sandbox/tenants/{tenant.id}"
        app = client.post(f"{self.base}/apps", json={"name": "New BSP", "webhook": NEW_HOOK}).json()
        self.app = app
        self.new = {"Authorization": f"Bearer {app['access_token']}"}
        self.old = {"Authorization": f"Bearer {tenant.credentials.access_token}"}
        self.waba = client.post(f"{self.base}/wabas", json={"partner": app["app_id"]}).json()["id"]
        self.source = tenant.store.phone_numbers.get(tenant.document()["phone_number_id"])
        assert self.source is not None
        self.digits = self.source.display_phone_number

    def two_step_off(self) -> None:
        url = f"{self.base}/phone_numbers/{self.source.id}/two_step"
        assert self.client.post(url, json={"enabled": False}).status_code == 200

    def migrate(self, waba: str | None = None, **extra: Any) -> Any:
        body = {"cc": "1", "phone_number": self.digits[1:], "migrate_phone_number": True, **extra}
        return self.client.post(f"/v23.0/{waba or self.waba}/phone_numbers", json=body, headers=self.new)

    def otp(self, phone_id: str) -> str:
        entries = self.client.get(f"{self.base}/otp").json()["data"]
        return next(entry["code"] for entry in entries if entry["phone_number_id"] == phone_id)


@pytest.fixture
def world(client: TestClient, tenant: Tenant) -> World:
    return World(client, tenant)


def _refused(response: Any, code: int, message: str) -> None:
    error = response.json()["error"]
    assert response.status_code == 400, response.text
    assert error["code"] == code and error["error_user_msg"] == message, error


def _unchanged(world: World, before: int) -> None:
    assert len(world.tenant.store.phone_numbers) == before and not world.tenant.store.migrations


def test_two_step_must_be_off_first(world: World) -> None:
    before = len(world.tenant.store.phone_numbers)
    _refused(world.migrate(), 2388001, "Make sure two-step verification is disabled")
    _unchanged(world, before)


@pytest.mark.parametrize(
    ("breaks", "message"),
    [
        ("no_webhooks", "Cannot migrate: webhooks not configured for destination WABA"),
        ("no_payment", "Your WhatsApp account doesn't have a payment account"),
        ("name_pending", "Registered name must be present and approved"),
        ("source_unverified", "WhatsApp account where the number is registered is not set up correctly"),
        ("source_waba_pending", "WhatsApp account where the number is registered is not set up correctly"),
        ("destination_pending", "Your WhatsApp account needs to be approved"),
        ("not_elsewhere", "Add this phone number to your WhatsApp account (no migration needed)"),
    ],
)
def test_each_precondition_is_refused_with_2388103(world: World, breaks: str, message: str) -> None:
    world.two_step_off()
    store = world.tenant.store
    if breaks == "no_webhooks":
        world.client.delete(f"/v23.0/{world.waba}/subscribed_apps", headers=world.new)
    elif breaks == "no_payment":
        world.client.patch(f"{world.base}/wabas/{world.waba}", json={"payment_method": False})
    elif breaks == "name_pending":
        world.source.new_name_status = "PENDING_REVIEW"
    elif breaks == "source_unverified":
        store.businesses.get(world.tenant.business_id).verification_status = BusinessVerificationStatus.PENDING.value
    elif breaks == "source_waba_pending":
        store.wabas.get(world.tenant.waba_id).account_review_status = "PENDING"
    elif breaks == "destination_pending":
        store.wabas.get(world.waba).account_review_status = "PENDING"
    elif breaks == "not_elsewhere":
        world.source.status = "DISCONNECTED"
    before = len(store.phone_numbers)
    _refused(world.migrate(), 2388103, message)
    _unchanged(world, before)


def test_a_different_business_is_refused(world: World) -> None:
    world.two_step_off()
    other = world.client.post(
        f"{world.base}/wabas", json={"partner": world.app["app_id"], "business_id": "4242424242"}
    ).json()
    _refused(world.migrate(other["id"]), 2388103, "This phone number belongs to a different Business Manager")


def test_the_number_moves_and_webhooks_follow(world: World, transport: RecordingTransport) -> None:
    client, tenant = world.client, world.tenant
    world.two_step_off()
    created = world.migrate()
    assert created.status_code == 200, created.text
    new_id = created.json()["id"]
    _refused(world.migrate(), 2388012, "The number already exists in your phone number list")
    fields = {"fields": "status,code_verification_status,verified_name"}
    shown = client.get(f"/v23.0/{new_id}", params=fields, headers=world.new).json()
    assert (shown["status"], shown["code_verification_status"]) == ("PENDING", "NOT_VERIFIED")
    assert shown["verified_name"] == world.source.verified_name
    assert client.get(f"/v23.0/{new_id}", headers=world.old).json()["error"]["error_subcode"] == 33
    code = {"code_method": "SMS", "language": "en_US"}
    assert client.post(f"/v23.0/{new_id}/request_code", json=code, headers=world.new).status_code == 200
    verify = {"code": world.otp(new_id)}
    assert client.post(f"/v23.0/{new_id}/verify_code", json=verify, headers=world.new).status_code == 200
    register = {"messaging_product": "whatsapp", "pin": "654321"}
    assert client.post(f"/v23.0/{new_id}/register", json=register, headers=world.new).status_code == 200
    old = client.get(f"/v23.0/{world.source.id}", params=fields, headers=world.old).json()
    assert old["status"] == "MIGRATED"
    assert client.get(f"/v23.0/{new_id}", params=fields, headers=world.new).json()["status"] == "CONNECTED"
    send = {"messaging_product": "whatsapp", "to": "16505551234", "type": "text", "text": {"body": "hi"}}
    assert client.post(f"/v23.0/{world.source.id}/messages", json=send, headers=world.old).status_code >= 400
    _refused(client.post(f"/v23.0/{world.source.id}/request_code", json=code, headers=world.old), 2388091,
             "Number not eligible to receive a registration code because it is not being migrated")  # fmt: skip
    transport.posted.clear()
    sent = client.post(f"/v23.0/{new_id}/messages", json=send, headers=world.new)
    assert sent.status_code == 200, sent.text
    settle(client)
    assert transport.posted and {item.url for item in transport.posted} == {NEW_HOOK}
    # The customer writes to the number (even naming its old id): the new provider gets it.
    transport.posted.clear()
    inbound = {
        "from": "16505551234",
        "type": "text",
        "text": {"body": "still there?"},
        "phone_number_id": world.source.id,
    }
    assert client.post(f"{world.base}/inbound", json=inbound).status_code == 200
    settle(client)
    [posted] = transport.posted
    assert posted.url == NEW_HOOK
    assert posted.json()["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] == new_id
    # The templates arrive after the copy gap, on the tenant clock.
    assert not [t for t in tenant.store.templates if t.waba_id == world.waba]
    tenant.clock.advance(tenant.policy.numbers.migration_template_copy_seconds)
    copied = [t for t in tenant.store.templates if t.waba_id == world.waba]
    assert [t.name for t in copied] == ["hello_world"] and copied[0].quality_score == "UNKNOWN"
    # SEED-MIGRATE-4: the new provider sets a new PIN.
    assert client.post(f"/v23.0/{new_id}", json={"pin": "111222"}, headers=world.new).status_code == 200
